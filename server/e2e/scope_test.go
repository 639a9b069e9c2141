package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestPlayParkScope: a play park learns "may enter", nothing else. A
// child registered at the city desk (name, address, birth date from her
// card) has her face registered for the park, and a shelter holds an
// evacuee's name and birth year. The park's tablet, once synced, holds
// her template, and neither its IndexedDB (decrypted) nor any frame it
// received holds a name, an address or a birth date; and the server
// refuses the park's device the shelter's roster.
func TestPlayParkScope(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	base := "http://" + addr
	srv := startServer(t, addr, t.TempDir())

	child := card.Facts{Name: "加賀\u3000未来", Address: "石川県加賀市山代温泉北部", BirthDate: "20190707", Sex: "2"}
	resident := deskEnroll(t, srv, base, "desk-scope", child)
	registerNatively(t, srv, addr, template.Template{Resident: resident, Facilities: []string{"kaga-playpark"}})
	evacuee := shelter.Evacuee{Shelter: "shelter-daishoji", Name: "加賀\u3000次郎", Kana: "カガジロウ", BirthYear: 1950}
	body, _ := json.Marshal(evacuee)
	shelterKey := srv.Enroll(t, "shelter-native", "shelter-daishoji", "shelter")
	if err := wsconn.PushAll(context.Background(), "ws://"+addr+"/sync", "shelter-native", shelterKey, []syncproto.Op{{Seq: 1, HLC: 1, Kind: shelter.OpEvacueeAdd, Body: body}}); err != nil {
		t.Fatal(err)
	}

	park := browser(t)
	frames := receivedFrames(t, park)
	setUp(t, park, base, "kaga-playpark", "playpark")
	run(t, park, "open the face check", 30*time.Second, chromedp.Navigate(base+"/identify"))
	waitJS(t, park, "her template synced", `document.querySelector("#gallery-size")?.dataset.count === "1"`, 60*time.Second)
	held := get(t, park, "dump IndexedDB", eval[string](idbDump))
	received := frames()

	for _, place := range []struct{ name, text string }{{"IndexedDB", held}, {"received frames", received}} {
		if !strings.Contains(place.text, resident) {
			t.Errorf("the park's %s do not hold her resident number: the search cannot be trusted", place.name)
		}
		for _, secret := range []string{child.Name, child.Address, child.BirthDate, "2019-07-07", evacuee.Name, evacuee.Kana, "1950", "昭和25"} {
			if at := holds(place.text, secret); at >= 0 {
				t.Errorf("the park's %s hold %q: …%s…", place.name, secret, around(place.text, at, len(secret)))
			}
		}
	}

	// The park's device asks for the shelter's records: refused.
	parkKey := srv.Enroll(t, "park-native", "kaga-playpark", "playpark")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsconn.Dial(ctx, "ws://"+addr+"/sync")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := syncproto.Handshake(ctx, c, "park-native", "test", parkKey); err != nil {
		t.Fatal(err)
	}
	pull, _ := syncproto.Encode(&syncproto.Pull{Feed: "facility.shelter-daishoji"})
	if err := c.Send(ctx, pull); err != nil {
		t.Fatal(err)
	}
	for {
		b, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("no answer to the park's pull of the shelter's roster: %v", err)
		}
		f, err := syncproto.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if ops, ok := f.(*syncproto.Ops); ok && bytes.Contains(b, []byte(evacuee.Kana)) {
			t.Fatalf("the server sent the park the shelter's records: %+v", ops)
		}
		var e *syncproto.Error
		if errors.As(errorOf(f), &e) {
			if e.Code != syncproto.CodeForbidden {
				t.Fatalf("the park's pull of the roster: %s, want %s", e.Code, syncproto.CodeForbidden)
			}
			return
		}
	}
}

// holds is where text holds secret as a value of its own, or -1. A
// secret made of digits (a birth year) counts only where no digit
// touches it and no decimal point precedes it: the dump is full of
// clocks, counters and scores, and "1950" inside a millisecond timestamp
// or after "0." is not a birth year (it failed this test once in CI). A
// dotted date, "1950.03.15", still counts.
func holds(text, secret string) int {
	numeric := strings.Trim(secret, "0123456789") == ""
	for from := 0; ; {
		i := strings.Index(text[from:], secret)
		if i < 0 {
			return -1
		}
		at := from + i
		end := at + len(secret)
		if !numeric || (!numberPart(text, at-1, true) && !numberPart(text, end, false)) {
			return at
		}
		from = at + 1
	}
}

// numberPart reports whether text[i] is a digit, or with point a
// decimal point.
func numberPart(text string, i int, point bool) bool {
	if i < 0 || i >= len(text) {
		return false
	}
	c := text[i]
	return (point && c == '.') || (c >= '0' && c <= '9')
}

// around is the text near a match, for a failure a reader can judge.
func around(text string, at, n int) string {
	from, to := max(0, at-60), min(len(text), at+n+60)
	return strings.ToValidUTF8(text[from:to], "") // cut at bytes: drop a split character
}

// errorOf returns f as an error when it is an Error frame.
func errorOf(f syncproto.Frame) error {
	if e, ok := f.(*syncproto.Error); ok {
		return e
	}
	return nil
}

// receivedFrames records every websocket frame the browser receives; the
// returned function gives them so far, as text.
func receivedFrames(t *testing.T, ctx context.Context) func() string {
	t.Helper()
	var mu sync.Mutex
	var all strings.Builder
	err := chromedp.Listen(ctx, func(ev any) {
		if f, ok := ev.(*network.EventWebSocketFrameReceived); ok {
			mu.Lock() // binary frames arrive decoded from base64
			all.Write(f.Response.PayloadData)
			all.WriteByte('\n')
			mu.Unlock()
		}
	})
	if err == nil {
		_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	}
	if err != nil {
		t.Fatalf("watch the network: %v", err)
	}
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return all.String()
	}
}

// deskEnroll registers facts at the city desk, as a native desk device
// (enrolled here as device), and returns the new resident's number.
func deskEnroll(t *testing.T, srv *serverproc.Proc, base, device string, facts card.Facts) string {
	t.Helper()
	key := srv.Enroll(t, device, "kaga-hq", "registrar").Key
	a := deviceCall(t, base, account.API.DeskEnroll, device, key, account.Supervised{Facts: facts, Staff: "市民課 山田"})
	if a.ID == "" {
		t.Fatal("the desk enrollment gave no resident number")
	}
	return a.ID
}

// postJSON posts body and decodes the 200 answer into out.
func postJSON(t *testing.T, url string, body []byte, out any) {
	t.Helper()
	status, b := serverproc.Post(t, url, body)
	if status != http.StatusOK {
		t.Fatalf("POST %s: %d: %s", url, status, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
}

// TestHolds: the search finds a birth year standing alone and in JSON,
// and not as digits of a clock or a score.
func TestHolds(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{`{"birthYear":1950}`, true},
		{`1950`, true},
		{`"1950"`, true},
		{`{"hlc":1764195012345}`, false},
		{`score 0.19503`, false},
		{`1950.03.15`, true},
		{`t=11950 then 1950,`, true},
	} {
		if got := holds(c.text, "1950") >= 0; got != c.want {
			t.Errorf("holds(%q, 1950) = %v, want %v", c.text, got, c.want)
		}
	}
	if holds("加賀\u3000次郎さん", "加賀\u3000次郎") < 0 {
		t.Error("a name is not found")
	}
}
