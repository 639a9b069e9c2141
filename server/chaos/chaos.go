// Package chaos injects network faults between a device's sync engine and
// the server, from a seed, so a failure can be run again: connections that
// drop in the middle of a batch, frames sent twice, frames overtaking each
// other, acknowledgements that arrive late.
//
// It wraps the engine's connection (synclog.Conn), so the faults hit real
// frames on a real websocket to a real server; only the decisions are
// simulated.
package chaos

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"smartpass.city/smartpass/app/synclog"
)

// Faults gives the probability, per frame, of each fault.
type Faults struct {
	Drop      float64       // close the connection (before a send, or after a receive)
	Duplicate float64       // send the frame twice
	Reorder   float64       // hold the frame back and send it after the next one
	Delay     float64       // hold a received frame back for up to MaxDelay
	MaxDelay  time.Duration //
}

// Counts says how many faults were injected.
type Counts struct {
	Drops, Duplicates, Reorders, Delays int64
}

// ErrDropped is returned by a connection the injector dropped.
var ErrDropped = errors.New("chaos: connection dropped")

// Injector decides faults for every connection it dials.
type Injector struct {
	faults Faults
	calm   atomic.Bool

	mu   sync.Mutex
	rng  *rand.Rand
	seen Counts
}

// New returns an injector whose decisions follow seed.
func New(f Faults, seed uint64) *Injector {
	return &Injector{faults: f, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// Calm stops injecting faults, for the end of a run when the system must
// converge.
func (in *Injector) Calm() { in.calm.Store(true) }

// Counts returns the faults injected so far.
func (in *Injector) Counts() Counts {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.seen
}

// roll reports whether a fault of probability p happens now, and counts it.
func (in *Injector) roll(p float64, n *int64) bool {
	if in.calm.Load() || p <= 0 {
		return false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.rng.Float64() >= p {
		return false
	}
	*n++
	return true
}

func (in *Injector) delay() time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	return time.Duration(in.rng.Int64N(int64(in.faults.MaxDelay) + 1))
}

// Dialer wraps d so every connection it opens suffers the faults.
func (in *Injector) Dialer(d synclog.Dialer) synclog.Dialer {
	return func(ctx context.Context) (synclog.Conn, error) {
		c, err := d(ctx)
		if err != nil {
			return nil, err
		}
		return &conn{in: in, inner: c}, nil
	}
}

type conn struct {
	in    *Injector
	inner synclog.Conn
	mu    sync.Mutex
	held  []byte // a frame held back to be sent after the next one
}

func (c *conn) Send(ctx context.Context, frame []byte) error {
	in := c.in
	if in.roll(in.faults.Drop, &in.seen.Drops) {
		c.inner.Close()
		return ErrDropped
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil && in.roll(in.faults.Reorder, &in.seen.Reorders) {
		// Frames sent within the delay overtake this one; after it, it
		// goes out anyway, as a slow packet would.
		c.held = frame
		time.AfterFunc(in.delay(), c.flush)
		return nil
	}
	frames := [][]byte{frame}
	if in.roll(in.faults.Duplicate, &in.seen.Duplicates) {
		frames = append(frames, frame)
	}
	if c.held != nil {
		frames = append(frames, c.held)
		c.held = nil
	}
	for _, f := range frames {
		if err := c.inner.Send(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// flush sends a held frame that no later frame has overtaken.
func (c *conn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held != nil {
		c.inner.Send(context.Background(), c.held)
		c.held = nil
	}
}

func (c *conn) Recv(ctx context.Context) ([]byte, error) {
	b, err := c.inner.Recv(ctx)
	if err != nil {
		return nil, err
	}
	in := c.in
	if in.roll(in.faults.Drop, &in.seen.Drops) {
		c.inner.Close()
		return nil, ErrDropped
	}
	if in.roll(in.faults.Delay, &in.seen.Delays) {
		select {
		case <-time.After(in.delay()):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return b, nil
}

func (c *conn) Close() error { return c.inner.Close() }

// EnvInt is the integer in the environment variable name, or def when
// it is unset or not a number: how a soak run (make soak) makes the
// chaos rounds and the ledger's property test larger than make test's.
func EnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
