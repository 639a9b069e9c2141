package hub

import (
	"encoding/json"
	"time"

	"smartpass.city/smartpass/server/store"
)

// A device's ingest allowance is a token bucket (Options.OpsPerSecond,
// Burst). One server keeps it in memory. Servers that share a store
// (several replicas on one PostgreSQL tenant) would each keep their own,
// and a device spreading its sessions over n of them would get n
// allowances; so with Options.SharedAllowance the bucket also lives in
// the store, one record per device, and each server leases from it in
// chunks (when it has them), inside the transaction of a push that needs more (no round trip
// of its own, and most pushes do not touch it). A push is never refused
// inside its transaction, since the ops are already checked and the
// device waits: a push drawn while other replicas hold the rest puts
// the bucket in debt, and every replica refuses the device's pushes once
// it sees the debt, until the refill pays it. So a device gets about one push more
// per replica than its allowance, and over time its rate. Its open sessions stay bounded per server
// (MaxConnsPerDevice), which a replica count multiplies by a small
// constant only.

// allowanceKind names the store records of the shared buckets.
const allowanceKind = "hub.allowance"

// bucket is a device's shared allowance as kept in the store.
type bucket struct {
	Tokens float64   `json:"tokens"`
	At     time.Time `json:"at"`
}

// lease is one push's draw on the shared bucket: need is what the push
// lacks beyond the lease this server still held; take draws it and, when
// the bucket has it, extra (up to a chunk) for the pushes that follow, and
// fills in the bucket's balance after the draw.
type lease struct {
	device string
	need   float64
	opt    Options

	extra   float64
	balance float64
	at      time.Time
}

// chunk is how much a server leases beyond a push's need: a tenth of the
// burst, so replicas draw rarely and hold little the others cannot use.
func chunk(opt Options) float64 { return max(1, opt.Burst/10) }

// fromLease spends n ops from the lease d holds (nil, true), or returns
// the lease to take in the push's transaction, or refuses while the
// shared bucket is in debt.
func (d *deviceLimits) fromLease(opt Options, device string, n int, now time.Time) (*lease, bool) {
	if d.lease >= float64(n) {
		d.lease -= float64(n)
		return nil, true
	}
	if now.Before(d.blockedUntil) {
		return nil, false
	}
	l := &lease{device: device, need: float64(n) - d.lease, opt: opt}
	d.lease = 0 // spent by this push; another session's push leases its own
	return l, true
}

// take draws the lease from the device's bucket in tx. It may run again
// on fresh data (a retried transaction), and draws once in the commit.
func (l *lease) take(tx store.Tx) error {
	b, ok, err := store.GetJSON[bucket](tx, allowanceKind, l.device)
	if err != nil {
		return err
	}
	now := time.Now()
	if !ok {
		b = bucket{Tokens: l.opt.Burst, At: now}
	}
	if now.After(b.At) {
		b.Tokens = min(l.opt.Burst, b.Tokens+now.Sub(b.At).Seconds()*l.opt.OpsPerSecond)
		b.At = now
	}
	// The chunk only from what the bucket has: a push is never refused
	// here, so only the push itself may put the bucket in debt.
	l.extra = min(chunk(l.opt), max(0, b.Tokens-l.need))
	b.Tokens -= l.need + l.extra
	l.balance, l.at = b.Tokens, b.At
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return tx.Put(allowanceKind, l.device, v)
}

// leased records a committed lease: what is left of it after the push is
// this server's to spend, and a bucket in debt blocks the device here
// until the refill pays the debt.
func (h *Hub) leased(device string, l *lease) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.limits[device]
	if d == nil {
		return
	}
	d.lease += l.extra
	if l.balance < 0 {
		d.blockedUntil = l.at.Add(time.Duration(-l.balance / l.opt.OpsPerSecond * float64(time.Second)))
	}
}

// joinTx runs the writes that are set, in order, in one transaction; nil
// when none is.
func joinTx(writes ...func(store.Tx) error) func(store.Tx) error {
	var set []func(store.Tx) error
	for _, w := range writes {
		if w != nil {
			set = append(set, w)
		}
	}
	if len(set) == 0 {
		return nil
	}
	return func(tx store.Tx) error {
		for _, w := range set {
			if err := w(tx); err != nil {
				return err
			}
		}
		return nil
	}
}
