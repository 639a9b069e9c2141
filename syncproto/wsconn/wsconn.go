// Package wsconn carries sync frames over gorilla/websocket for native
// devices: simulators, benchmarks, tools and tests. The browser PWA uses the
// browser's own WebSocket instead (wasm/ws), because Go's networking does
// not exist inside a browser.
package wsconn

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"smartpass.city/smartpass/syncproto"
)

// Conn is one websocket connection. Send and Recv may be called from
// different goroutines; each of them from one goroutine at a time.
type Conn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	closed sync.Once
}

// Dial connects to a sync endpoint such as ws://127.0.0.1:8080/sync.
// Origin is set to the server's own, as the PWA's would be.
func Dial(ctx context.Context, url string) (*Conn, error) {
	h := http.Header{}
	h.Set("Origin", originOf(url))
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, url, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("wsconn: dial %s: %w (HTTP %s)", url, err, resp.Status)
		}
		return nil, fmt.Errorf("wsconn: dial %s: %w", url, err)
	}
	return &Conn{ws: ws}, nil
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	scheme := "http"
	if u.Scheme == "wss" {
		scheme = "https"
	}
	return scheme + "://" + u.Host
}

// Send writes one binary frame.
func (c *Conn) Send(ctx context.Context, frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	c.ws.SetWriteDeadline(deadline)
	return c.ws.WriteMessage(websocket.BinaryMessage, frame)
}

// SendText writes a text message: not a frame of the protocol, which is
// what tests of the server's refusals need.
func (c *Conn) SendText(text string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, []byte(text))
}

// Recv reads one message. Cancelling ctx does not interrupt it; Close does.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	if d, ok := ctx.Deadline(); ok {
		c.ws.SetReadDeadline(d)
	}
	_, p, err := c.ws.ReadMessage()
	return p, err
}

// Close closes the connection.
func (c *Conn) Close() error {
	var err error
	c.closed.Do(func() { err = c.ws.Close() })
	return err
}

// PullAll reads a server's whole log as device, which must be enrolled
// with a role that sees every op (HQ): what an auditing tool, or a test
// checking that nothing was lost or duplicated, needs.
func PullAll(ctx context.Context, url, device string, key syncproto.Signer) ([]syncproto.Op, error) {
	c, err := Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := syncproto.Handshake(ctx, c, device, "pullall", key); err != nil {
		return nil, fmt.Errorf("wsconn: pull: %w", err)
	}
	b, err := syncproto.Encode(&syncproto.Pull{Feed: "all"})
	if err != nil {
		return nil, err
	}
	if err := c.Send(ctx, b); err != nil {
		return nil, fmt.Errorf("wsconn: pull: %w", err)
	}
	var out []syncproto.Op
	for {
		b, err := c.Recv(ctx)
		if err != nil {
			return nil, fmt.Errorf("wsconn: pull: %w", err)
		}
		f, err := syncproto.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("wsconn: pull: %w", err)
		}
		switch f := f.(type) {
		case *syncproto.Ops:
			out = append(out, f.Ops...)
			if f.CaughtUp {
				return out, nil
			}
		case *syncproto.Error:
			return nil, fmt.Errorf("wsconn: pull: %w", f)
		}
	}
}

// PushAll sends ops (numbered from the device's next seq) as device, in
// frames of at most MaxOpsPerPush, each acknowledged before the next:
// what a tool importing records, or a benchmark seeding a server, needs.
// A refusal comes back as the server's *syncproto.Error.
func PushAll(ctx context.Context, url, device string, key syncproto.Signer, ops []syncproto.Op) error {
	c, err := Dial(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := syncproto.Handshake(ctx, c, device, "pushall", key); err != nil {
		return fmt.Errorf("wsconn: push: %w", err)
	}
	for start := 0; start < len(ops); start += syncproto.MaxOpsPerPush {
		batch := ops[start:min(start+syncproto.MaxOpsPerPush, len(ops))]
		b, err := syncproto.Encode(&syncproto.Push{Ops: batch})
		if err != nil {
			return err
		}
		if err := c.Send(ctx, b); err != nil {
			return fmt.Errorf("wsconn: push: %w", err)
		}
		for acked := false; !acked; {
			raw, err := c.Recv(ctx)
			if err != nil {
				return fmt.Errorf("wsconn: push: %w", err)
			}
			f, err := syncproto.Decode(raw)
			if err != nil {
				return fmt.Errorf("wsconn: push: %w", err)
			}
			switch f := f.(type) {
			case *syncproto.Ack:
				acked = f.Acked >= batch[len(batch)-1].Seq
			case *syncproto.Error:
				return fmt.Errorf("wsconn: push: %w", f)
			}
		}
	}
	return nil
}
