// Package demo is what a demo server (-demo) adds: a simulated card
// reader with simulated My Number Cards behind the page's navigator.usb
// shim, one-press enrollment codes for the demo facilities, and the demo
// PKI the card check trusts. It links the card simulator (app/card/sim),
// so only a build with the tag `demo` links it (server/demo_on.go): the
// production server does not, and refuses -demo.
package demo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/routes"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// USBPath is the websocket through which a demo page's navigator.usb
// shim (assets/usb-shim.js) reaches a simulated reader with a simulated
// card on it: the real WebUSB code path, the reader's real bytes, no
// hardware. ?reader= picks the reader: rcs380 (the default), rcs300 or
// ccid. Demo servers only.
const USBPath = "/demo/usb"

// The shim's messages, one per websocket message, each answered once:
//
//	[1] data            transferOut to the reader  -> [0] | [1] error text
//	[2] max (4 bytes BE) transferIn from the reader -> [0] data | [1] error text
//	[3] persona name    place a fresh card of that demo persona on the
//	                    reader (the shim sends it as it opens the device)
//	                                               -> [0] | [1] error text
const (
	// demoUSBMaxMessage bounds one shim message: an extended APDU (64 KiB)
	// with its reader framing.
	demoUSBMaxMessage = 64<<10 + 64

	usbOut   = 1
	usbIn    = 2
	usbPlace = 3
)

// demoPersonas are the cards the demo reader offers (the shim picks one
// by ?card=): a resident with every application (PIN 1234, signature
// password DEMO2026) and his daughter, a primary-school child, whose card
// has no signature certificate (card-info PIN 1234).
var demoPersonas = map[string]sim.Persona{
	"taro": {
		Facts:        card.Facts{Name: "加賀\u3000太郎", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19800401", Sex: "1"},
		Number:       "358261947012",
		AuthPIN:      "1234",
		SignPassword: "DEMO2026",
		// 照合番号B: born 1980-04-01 (昭和55年), printed 550401; the card
		// valid to 2035; security code 1234. The portrait is PhotoEnv's.
		FaceKeyB: "55040120351234",
	},
	"hanako": {
		Facts:   card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "20180505", Sex: "2"},
		Number:  "471938265039",
		AuthPIN: "1234",
	},
	// A visitor from Tokyo, for the hometown-tax counter (issue 23): a
	// donor who is not a resident, so the gift may be given.
	"visitor": {
		Facts:        card.Facts{Name: "世田谷\u3000花子", Address: "東京都世田谷区世田谷4-21-27", BirthDate: "19800202", Sex: "2"},
		Number:       "987654321018",
		AuthPIN:      "1234",
		SignPassword: "DEMO2026",
	},
}

// Reader serves USBPath. Each connection gets its own card, so a
// blocked PIN in one browser does not block the next visitor; every card
// is issued by one demo PKI, which the server's card check trusts.
type Reader struct {
	logger *slog.Logger
	pki    *sim.PKI
	// cards are the personas' cards as issued, made once: every reader
	// session gets a clone, so a card's certificates stay the same (a
	// resident's card linked at one terminal is known at the next).
	mu    sync.Mutex
	cards map[string]*sim.Card
	// photo is taro's card-face portrait (PhotoEnv), nil for none.
	photo []byte
}

// PhotoEnv names the environment variable holding the path of a JPEG
// 2000 portrait for taro's card-face application (made card-like with
// Debian's OpenJPEG tools, as the end-to-end test does from the shared
// faces): the repository holds no one's face, so without it the card's
// photo is empty and the card-face check says it cannot read it.
const PhotoEnv = "SMARTPASS_DEMO_CARD_PHOTO"

// card returns a fresh copy of the persona's card.
func (d *Reader) card(name string) (*sim.Card, error) {
	p, ok := demoPersonas[name]
	if !ok {
		return nil, fmt.Errorf("no demo card %s", name)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cards[name] == nil {
		if name == "taro" {
			p.FacePhoto = d.photo
		}
		c, err := sim.New(d.pki, p)
		if err != nil {
			return nil, err
		}
		if d.cards == nil {
			d.cards = make(map[string]*sim.Card)
		}
		d.cards[name] = c
	}
	// The demo cards give the individual number to the one flow that
	// reads it (app/card/onestop), as a real card does with the PIN.
	c := d.cards[name].Clone()
	c.AllowNumber = true
	return c, nil
}

// New returns the demo reader service with the demo PKI kept in
// the store, made on first start: terminals that synced its anchors keep
// trusting its cards after a restart.
func New(log store.Store, logger *slog.Logger) (*Reader, error) {
	var photo []byte
	if path := os.Getenv(PhotoEnv); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("demo card photo: %w", err)
		}
		photo = b
	}
	d, err := newReader(log, logger)
	if err != nil {
		return nil, err
	}
	d.photo = photo
	return d, nil
}

// newReader returns the demo reader with the demo PKI.
func newReader(log store.Store, logger *slog.Logger) (*Reader, error) {
	var saved []byte
	if err := log.View(func(tx store.Tx) error {
		b, err := tx.Get("demo", "pki")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		saved = b
		return err
	}); err != nil {
		return nil, fmt.Errorf("demo card PKI: %w", err)
	}
	if saved != nil {
		pki, err := sim.LoadPKI(saved)
		if err != nil {
			return nil, fmt.Errorf("demo card PKI: %w", err)
		}
		return &Reader{logger: logger, pki: pki}, nil
	}
	pki, err := sim.NewPKI()
	if err != nil {
		return nil, fmt.Errorf("demo card PKI: %w", err)
	}
	b, err := pki.MarshalBinary()
	if err == nil {
		err = log.Update(func(tx store.Tx) error { return tx.Put("demo", "pki", b) })
	}
	if err != nil {
		return nil, fmt.Errorf("demo card PKI: save: %w", err)
	}
	return &Reader{logger: logger, pki: pki}, nil
}

// simReader is a simulated reader's USB side, and its slot for a card.
type simReader interface {
	Out(ctx context.Context, data []byte) error
	In(ctx context.Context, max int) ([]byte, error)
	Place(c *sim.Card)
}

func (d *Reader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := d.card("taro")
	if err != nil {
		httpguard.Internal(w, r, d.logger, "demo card", err)
		return
	}
	var reader simReader
	switch r.URL.Query().Get("reader") {
	case "", "rcs380":
		reader = sim.NewRCS380(c)
	case "rcs300":
		reader = sim.NewRCS300(c)
	case "ccid":
		reader = sim.NewCCID(c)
	default:
		http.Error(w, "unknown simulated reader: use rcs380, rcs300 or ccid", http.StatusBadRequest)
		return
	}
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	// The largest shim message is one USB transfer of an extended APDU;
	// anything bigger is not a reader's and ends the session (1009).
	ws.SetReadLimit(demoUSBMaxMessage)
	ctx := r.Context()
	cards := []*sim.Card{c}
	seen := map[*sim.Card]int{} // each card's commands logged (logKeys)
	for {
		ws.SetReadDeadline(time.Now().Add(10 * time.Minute))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			break
		}
		var answer []byte
		if len(msg) >= 1 && msg[0] == usbPlace {
			var c *sim.Card
			c, answer = d.place(reader, string(msg[1:]))
			if c != nil {
				cards = append(cards, c)
			}
		} else {
			answer = answerUSB(ctx, reader, msg)
			for _, c := range cards {
				seen[c] = d.logKeys(c, seen[c])
			}
		}
		ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		ws.WriteMessage(websocket.BinaryMessage, answer)
	}
	for _, c := range cards {
		if len(c.Violations) > 0 {
			d.logger.Error("demo card: the individual number was reached", "violations", c.Violations)
		}
	}
}

// logKeys logs each VERIFY that carried a key (a PIN, 照合番号B) among
// c's commands from the index from on, by the key file it names (P2)
// and never its digits, and returns the index to go on from: a test
// of a screen that must never retry a key on its own counts them in the
// server's log.
func (d *Reader) logKeys(c *sim.Card, from int) int {
	for _, cmd := range c.Log[from:] {
		if len(cmd) > 5 && cmd[1] == 0x20 {
			d.logger.Info("demo card: a key presented", "p2", fmt.Sprintf("%02X", cmd[3]))
		}
	}
	return len(c.Log)
}

// place puts a fresh card of the named persona on the reader.
func (d *Reader) place(reader simReader, name string) (*sim.Card, []byte) {
	c, err := d.card(name)
	if err != nil {
		return nil, append([]byte{1}, err.Error()...)
	}
	reader.Place(c)
	return c, []byte{0}
}

// answerUSB carries one shim message to the reader.
func answerUSB(ctx context.Context, reader simReader, msg []byte) []byte {
	fail := func(err error) []byte { return append([]byte{1}, err.Error()...) }
	switch {
	case len(msg) >= 1 && msg[0] == usbOut:
		if err := reader.Out(ctx, msg[1:]); err != nil {
			return fail(err)
		}
		return []byte{0}
	case len(msg) == 5 && msg[0] == usbIn:
		b, err := reader.In(ctx, int(binary.BigEndian.Uint32(msg[1:])))
		if err != nil {
			return fail(err)
		}
		return append([]byte{0}, b...)
	}
	return []byte("\x01bad shim message")
}

// Anchors are the demo PKI's trust anchors: the demo's cards verify
// against them.
func (d *Reader) Anchors() (jpki.Anchors, error) {
	roots, crls, err := d.pki.Trust()
	if err != nil {
		return jpki.Anchors{}, err
	}
	return jpki.Anchors{Roots: roots, CRLs: crls}, nil
}

// Routes adds the demo's endpoints to mux: the simulated reader and the
// enrollment codes for the demo facilities.
func (d *Reader) Routes(mux routes.Mux, reg *devices.Registry, fac devices.Facilities) {
	mux.HandleFunc("GET "+syncproto.DemoCodesPath, codes(reg, fac, d.logger))
	mux.Handle("GET "+USBPath, d)
}

// codes serves GET /demo/codes on a demo server only: a fresh one-hour
// code for every facility and role, so a newcomer can set up a tablet of
// any kind without an admin.
func codes(reg *devices.Registry, fac devices.Facilities, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		all, err := fac()
		if err != nil {
			httpguard.Internal(w, r, logger, "demo codes", err)
			return
		}
		var out []syncproto.DemoCode
		for _, f := range facility.Demo() {
			if _, ok := all[f.ID]; !ok {
				continue
			}
			f = all[f.ID]
			// Every role with a screen (the auditor has none).
			for _, role := range scope.ScreenRolesFor(f.Kind) {
				code, err := reg.Issue(f.ID, role, time.Hour)
				if err != nil {
					httpguard.Internal(w, r, logger, "demo codes", err)
					return
				}
				out = append(out, syncproto.DemoCode{Facility: f.ID, NameJA: f.NameJA, NameEN: f.NameEN, Role: string(role), Code: code})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(out)
	}
}
