//go:build js && wasm

// Package ws carries sync frames over the browser's own WebSocket. Go's
// network stack does not exist inside a browser, so the tablet cannot use
// gorilla/websocket's client; this is the synclog.Conn it uses instead.
package ws

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/wasm/jsbytes"
)

// ErrClosed is returned after the connection closed.
var ErrClosed = errors.New("ws: connection closed")

// Conn is one browser WebSocket.
type Conn struct {
	sock   safejs.Value
	funcs  []safejs.Func
	events []string

	mu     sync.Mutex
	queue  [][]byte
	ready  chan struct{} // signalled when queue grows
	closed chan struct{}
	reason error
	once   sync.Once
}

// Dialer returns a synclog.Dialer for url (ws:// or wss://).
func Dialer(url string) synclog.Dialer {
	return func(ctx context.Context) (synclog.Conn, error) { return Dial(ctx, url) }
}

// Dial opens a WebSocket to url and waits until it is open.
func Dial(ctx context.Context, url string) (*Conn, error) {
	ctor, err := safejs.Global().Get("WebSocket")
	if err != nil {
		return nil, fmt.Errorf("ws: %w", err)
	}
	sock, err := ctor.New(url)
	if err != nil {
		return nil, fmt.Errorf("ws: open %s: %w", url, err)
	}
	if err := sock.Set("binaryType", "arraybuffer"); err != nil {
		return nil, fmt.Errorf("ws: %w", err)
	}
	c := &Conn{sock: sock, ready: make(chan struct{}, 1), closed: make(chan struct{})}
	opened := make(chan struct{})
	c.on("open", func(safejs.Value) { close(opened) })
	c.on("message", c.onMessage)
	c.on("close", func(ev safejs.Value) {
		code, _ := ev.Get("code")
		n, _ := code.Int()
		why, _ := ev.Get("reason")
		s, _ := why.String()
		c.shut(fmt.Errorf("%w (code %d %s)", ErrClosed, n, s))
	})
	// An error event is always followed by close, which carries the code.
	select {
	case <-opened:
		return c, nil
	case <-c.closed:
		c.release()
		return nil, fmt.Errorf("ws: connect to %s: %w", url, c.reason)
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

func (c *Conn) on(event string, fn func(safejs.Value)) {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		var ev safejs.Value
		if len(args) > 0 {
			ev = args[0]
		}
		fn(ev)
		return nil
	})
	if err != nil {
		c.shut(err)
		return
	}
	c.funcs = append(c.funcs, f)
	c.events = append(c.events, event)
	c.sock.Set("on"+event, f.Value())
}

// onMessage copies one frame into Go. It never blocks: the browser's event
// loop must not wait for Go.
func (c *Conn) onMessage(ev safejs.Value) {
	data, err := ev.Get("data")
	if err != nil {
		return
	}
	b, err := jsbytes.ToGo(data)
	if err != nil {
		c.shut(fmt.Errorf("ws: a text message arrived where frames are binary"))
		return
	}
	c.mu.Lock()
	c.queue = append(c.queue, b)
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

func (c *Conn) shut(err error) {
	c.once.Do(func() {
		c.reason = err
		close(c.closed)
	})
}

// Send writes one binary frame.
func (c *Conn) Send(ctx context.Context, frame []byte) error {
	select {
	case <-c.closed:
		return c.reason
	default:
	}
	arr, err := jsbytes.ToJS(frame)
	if err != nil {
		return fmt.Errorf("ws: send: %w", err)
	}
	if _, err := c.sock.Call("send", arr); err != nil {
		return fmt.Errorf("ws: send: %w", err)
	}
	return nil
}

// Recv returns the next frame, waiting for one.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			b := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return b, nil
		}
		c.mu.Unlock()
		select {
		case <-c.ready:
		case <-c.closed:
			return nil, c.reason
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close closes the socket and releases its callbacks.
func (c *Conn) Close() error {
	c.sock.Call("close")
	c.shut(ErrClosed)
	c.release()
	return nil
}

// release detaches the handlers before freeing them: the browser may still
// fire close after Close, and calling a released Go function panics.
func (c *Conn) release() {
	c.mu.Lock()
	funcs, events := c.funcs, c.events
	c.funcs, c.events = nil, nil
	c.mu.Unlock()
	for _, e := range events {
		c.sock.Set("on"+e, safejs.Null())
	}
	for _, f := range funcs {
		f.Release()
	}
}
