package staff

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The sign-in's back-off. Wrong passwords are counted, in memory, per
// address and per account id (known or not, so the count says nothing
// about which ids exist); a correct sign-in clears both counts, and a
// count is forgotten ForgetAfter its last failure. With n failures
// counted, the delay is nothing for the first FreeTries and then one
// second, doubling with each failure:
//
//   - per address, up to MaxAddressDelay: a sign-in from an address
//     inside its delay is refused at once, with the answer of every
//     failure and without hashing anything;
//   - per account, up to MaxAccountDelay: a sign-in for an account
//     inside its delay is held until the delay ends, then checked. A
//     stranger's failures never refuse the account's holder at another
//     address: they make them wait MaxAccountDelay at most.
//
// Nobody can lock an account: the old rule (five wrong passwords lock it
// for fifteen minutes) let anyone lock the administrator out.
const (
	FreeTries       = 3
	MaxAddressDelay = 15 * time.Minute
	MaxAccountDelay = 30 * time.Second
	ForgetAfter     = 15 * time.Minute
	// maxTracked bounds each table of counts: beyond it, counts whose
	// delay is over are dropped first, then any.
	maxTracked = 10_000
)

// delay is the back-off after n failures, at most limit.
func delay(n int, limit time.Duration) time.Duration {
	if n < FreeTries {
		return 0
	}
	if n-FreeTries >= 30 {
		return limit
	}
	return min(time.Second<<(n-FreeTries), limit)
}

// strikes is the failures counted against one address or account.
type strikes struct {
	n    int
	last time.Time
}

// backoff holds the counts.
type backoff struct {
	mu       sync.Mutex
	accounts map[string]strikes
	addrs    map[string]strikes
}

func newBackoff() *backoff {
	return &backoff{accounts: map[string]strikes{}, addrs: map[string]strikes{}}
}

// wait returns how long a sign-in for id from addr must wait now: per
// address (refused when positive) and per account (held).
func (b *backoff) wait(id, addr string, now time.Time) (addrWait, accountWait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	left := func(s strikes, limit time.Duration) time.Duration {
		return max(0, s.last.Add(delay(s.n, limit)).Sub(now))
	}
	return left(b.addrs[addr], MaxAddressDelay), left(b.accounts[id], MaxAccountDelay)
}

// fail counts a wrong password for id (when it may name an account)
// from addr.
func (b *backoff) fail(id, addr string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	strike(b.addrs, addr, now)
	if id != "" {
		strike(b.accounts, id, now)
	}
}

// clear forgets the failures of id and of addr (a correct sign-in, a
// password reset).
func (b *backoff) clear(id, addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.accounts, id)
	delete(b.addrs, addr)
}

func strike(m map[string]strikes, key string, now time.Time) {
	s := m[key]
	if now.Sub(s.last) > ForgetAfter {
		s.n = 0
	}
	if _, ok := m[key]; !ok && len(m) >= maxTracked {
		prune(m, now)
	}
	m[key] = strikes{n: s.n + 1, last: now}
}

// prune makes room in a full table: the counts whose delay is over go
// first; if that is not enough, any (an attacker flooding the table
// from many addresses frees his own counts, not a bound on anyone).
func prune(m map[string]strikes, now time.Time) {
	for k, s := range m {
		if now.Sub(s.last) > delay(s.n, MaxAddressDelay) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxTracked {
			break
		}
		delete(m, k)
	}
}

// ErrBusy: the server is hashing as many passwords as it may, with a full
// queue; nothing was checked, try again in a moment.
var ErrBusy = errors.New("the server is busy with other sign-ins: try again in a moment")

// The cap on password hashing: a PBKDF2 of 600,000 rounds holds a core
// for a good part of a second, so a flood of sign-ins would hold every
// core. At most MaxHashing run at once (half the cores, at least one),
// MaxHashQueue more wait for a turn, and any beyond are answered ErrBusy
// without hashing.
var (
	MaxHashing   = max(1, runtime.NumCPU()/2)
	MaxHashQueue = 8
)

// hashGate admits password hashes under the cap.
type hashGate struct {
	slots   chan struct{}
	waiting atomic.Int32
	// running and peak count the hashes running, for tests.
	running, peak atomic.Int32
}

func newHashGate(n int) *hashGate { return &hashGate{slots: make(chan struct{}, n)} }

// enter waits for a turn to hash and returns the function that ends it,
// or ErrBusy when the queue is full.
func (g *hashGate) enter(ctx context.Context) (func(), error) {
	select {
	case g.slots <- struct{}{}:
	default:
		if int(g.waiting.Add(1)) > MaxHashQueue {
			g.waiting.Add(-1)
			return nil, ErrBusy
		}
		select {
		case g.slots <- struct{}{}:
			g.waiting.Add(-1)
		case <-ctx.Done():
			g.waiting.Add(-1)
			return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
		}
	}
	n := g.running.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	return func() {
		g.running.Add(-1)
		<-g.slots
	}, nil
}
