package security

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"smartpass.city/smartpass/server/serverproc"
)

// Finding 9d (issue 16): the demo's simulated card reader (/demo/usb)
// read a websocket message of any size: a client could make the server
// hold as much memory as it sent. Now a message larger than one reader
// transfer ends the session with 1009 (too big). Failed before the fix
// (the 8 MiB message was read whole and answered).
func TestDemoUSBMessageLimit(t *testing.T) {
	dir := t.TempDir()
	p := serverproc.Start(t, serverBin, nil, serverproc.FreeAddr(t), "-data", dir+"/data", "-assets", dir, "-dev", "-demo")
	p.WaitHealthy(t)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.Addr+"/demo/usb", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// An ordinary message first: the reader answers it.
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte{1, 0x00, 0x00, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatalf("an ordinary message: %v", err)
	}
	huge := append([]byte{1}, bytes.Repeat([]byte{0}, 8<<20)...)
	ws.WriteMessage(websocket.BinaryMessage, huge) // may fail once the server hangs up
	_, answer, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("an 8 MiB message: answered %d bytes, err %v; want the session closed with 1009", len(answer), err)
	}
}
