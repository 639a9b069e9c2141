package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/sim"
)

// DemoUSBPath is the websocket through which a demo page's navigator.usb
// shim (assets/usb-shim.js) reaches a simulated RC-S380 with a simulated
// card on it: the real WebUSB code path, the reader's real bytes, no
// hardware. Demo servers only.
const DemoUSBPath = "/demo/usb"

// The shim's messages, one per websocket message, each answered once:
//
//	[1] data      transferOut to the reader  -> [0] | [1] error text
//	[2] max hi lo transferIn from the reader -> [0] data | [1] error text
const (
	usbOut = 1
	usbIn  = 2
)

// demoPersona is the card on the demo reader: PIN 1234, signature
// password DEMO2026.
var demoPersona = sim.Persona{
	Facts:        card.Facts{Name: "加賀\u3000太郎", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19800401", Sex: "1"},
	Number:       "000000000000",
	AuthPIN:      "1234",
	SignPassword: "DEMO2026",
}

// demoUSB serves DemoUSBPath. Each connection gets its own card, so a
// blocked PIN in one browser does not block the next visitor.
type demoUSB struct {
	logger *slog.Logger
	once   sync.Once
	pki    *sim.PKI
	err    error
}

func (d *demoUSB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.once.Do(func() { d.pki, d.err = sim.NewPKI() })
	if d.err != nil {
		http.Error(w, d.err.Error(), http.StatusInternalServerError)
		return
	}
	c, err := sim.New(d.pki, demoPersona)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	reader := sim.NewRCS380(c)
	ctx := r.Context()
	for {
		ws.SetReadDeadline(time.Now().Add(10 * time.Minute))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			break
		}
		ws.WriteMessage(websocket.BinaryMessage, d.answer(ctx, reader, msg))
	}
	if len(c.Violations) > 0 {
		d.logger.Error("demo card: the individual number was reached", "violations", c.Violations)
	}
}

func (d *demoUSB) answer(ctx context.Context, reader *sim.RCS380, msg []byte) []byte {
	fail := func(err error) []byte { return append([]byte{1}, err.Error()...) }
	switch {
	case len(msg) >= 1 && msg[0] == usbOut:
		if err := reader.Out(ctx, msg[1:]); err != nil {
			return fail(err)
		}
		return []byte{0}
	case len(msg) == 3 && msg[0] == usbIn:
		b, err := reader.In(ctx, int(msg[1])<<8|int(msg[2]))
		if err != nil {
			return fail(err)
		}
		return append([]byte{0}, b...)
	}
	return []byte("\x01bad shim message")
}
