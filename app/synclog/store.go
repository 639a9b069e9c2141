package synclog

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"smartpass.city/smartpass/syncproto"
)

// Store is the device's durable log. The browser implementation lives in
// wasm/idb (IndexedDB); MemStore serves native tools and tests.
//
// The device keeps every op it ever recorded: nothing is deleted when the
// server acknowledges it, only the acknowledged mark moves. So a device can
// send its ops again to a server restored from an older backup.
//
// Every method must be atomic: a reload or a crash between two calls leaves
// either the state before a call or after it, never half of it.
type Store interface {
	// DeviceID is this device's identity, fixed when the store was created.
	DeviceID() string
	// AppendLocal stores op as the device's next op: it sets op.Device to
	// DeviceID and op.Seq to one past the last local seq (gapless), and
	// returns it.
	AppendLocal(ctx context.Context, op syncproto.Op) (syncproto.Op, error)
	// Local returns up to limit of the device's own ops with Seq > after,
	// in Seq order, acknowledged or not.
	Local(ctx context.Context, after uint64, limit int) ([]syncproto.Op, error)
	// Marks returns the server's acknowledged mark and the last local seq:
	// last - acked ops wait to be sent.
	Marks(ctx context.Context) (acked, last uint64, err error)
	// SetAcked records the server's acknowledged mark. It may go down (a
	// server restored from a backup holds less); it never goes past the
	// last local seq.
	SetAcked(ctx context.Context, acked uint64) error
	// SaveRemote stores ops received on feed and moves the feed's cursor to
	// cursor, in one step; a cursor never moves back. Ops already held
	// (same Device and Seq) are replaced, which sets their Global sequence.
	SaveRemote(ctx context.Context, feed string, ops []syncproto.Op, cursor uint64) error
	// Cursor returns the feed's cursor: the global sequence to pull after.
	Cursor(ctx context.Context, feed string) (uint64, error)
	// Epoch returns the server epoch the cursors belong to ("" at first).
	Epoch(ctx context.Context) (string, error)
	// SetEpoch records a new server epoch and sets every cursor and
	// snapshot progress back to zero: global sequences of another server
	// history mean nothing.
	SetEpoch(ctx context.Context, epoch string) error
	// SnapshotProgress returns how far a snapshot bootstrap of feed got:
	// the snapshot's cursor and the next chunk wanted; zeros when none is
	// under way.
	SnapshotProgress(ctx context.Context, feed string) (at, next uint64, err error)
	// SetSnapshotProgress records it, after the chunk's ops are saved.
	SetSnapshotProgress(ctx context.Context, feed string, at, next uint64) error
	// All returns every op held, local and remote.
	All(ctx context.Context) ([]syncproto.Op, error)
	// Forget removes other devices' ops by id: records erased for good (a
	// deleted face template), so no copy stays on this device. The
	// device's own ops are never forgotten (the server may need them
	// again); ids of them, or of ops not held, are ignored.
	Forget(ctx context.Context, ids []OpID) error
}

// OpID names an op: the device that recorded it and its seq there.
type OpID struct {
	Device string
	Seq    uint64
}

type opKey struct {
	dev string
	seq uint64
}

// MemStore is a Store in memory, for native tools, simulators and tests.
// It is safe for concurrent use.
type MemStore struct {
	mu      sync.Mutex
	dev     string
	lastSeq uint64
	acked   uint64
	epoch   string
	ops     map[opKey]syncproto.Op
	cursors map[string]uint64
	snaps   map[string][2]uint64
}

// NewMemStore returns an empty store for the device named dev.
func NewMemStore(dev string) *MemStore {
	return &MemStore{dev: dev, ops: make(map[opKey]syncproto.Op), cursors: make(map[string]uint64), snaps: make(map[string][2]uint64)}
}

// DeviceID implements Store.
func (m *MemStore) DeviceID() string { return m.dev }

// Forget implements Store.
func (m *MemStore) Forget(_ context.Context, ids []OpID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if id.Device != m.dev {
			delete(m.ops, opKey{id.Device, id.Seq})
		}
	}
	return nil
}

// AppendLocal implements Store.
func (m *MemStore) AppendLocal(_ context.Context, op syncproto.Op) (syncproto.Op, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastSeq++
	op.Device, op.Seq, op.Global = m.dev, m.lastSeq, 0
	m.ops[opKey{op.Device, op.Seq}] = op
	return op, nil
}

// Local implements Store.
func (m *MemStore) Local(_ context.Context, after uint64, limit int) ([]syncproto.Op, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []syncproto.Op
	for seq := after + 1; seq <= m.lastSeq && len(out) < limit; seq++ {
		out = append(out, m.ops[opKey{m.dev, seq}])
	}
	return out, nil
}

// Marks implements Store.
func (m *MemStore) Marks(context.Context) (uint64, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.acked, m.lastSeq, nil
}

// SetAcked implements Store.
func (m *MemStore) SetAcked(_ context.Context, acked uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.acked = min(acked, m.lastSeq)
	return nil
}

// Epoch implements Store.
func (m *MemStore) Epoch(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.epoch, nil
}

// SetEpoch implements Store.
func (m *MemStore) SetEpoch(_ context.Context, epoch string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch = epoch
	clear(m.cursors)
	clear(m.snaps)
	return nil
}

// SnapshotProgress implements Store.
func (m *MemStore) SnapshotProgress(_ context.Context, feed string) (uint64, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.snaps[feed]
	return p[0], p[1], nil
}

// SetSnapshotProgress implements Store.
func (m *MemStore) SetSnapshotProgress(_ context.Context, feed string, at, next uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snaps[feed] = [2]uint64{at, next}
	return nil
}

// SaveRemote implements Store.
func (m *MemStore) SaveRemote(_ context.Context, feed string, ops []syncproto.Op, cursor uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, op := range ops {
		m.ops[opKey{op.Device, op.Seq}] = op
	}
	m.cursors[feed] = max(m.cursors[feed], cursor)
	return nil
}

// Cursor implements Store.
func (m *MemStore) Cursor(_ context.Context, feed string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[feed], nil
}

// All implements Store.
func (m *MemStore) All(context.Context) ([]syncproto.Op, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]syncproto.Op, 0, len(m.ops))
	for _, op := range m.ops {
		out = append(out, op)
	}
	slices.SortFunc(out, func(a, b syncproto.Op) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq))
	})
	return out, nil
}
