package oplog

import (
	"encoding/binary"
	"math"

	badger "github.com/dgraph-io/badger/v4"
)

// highSeqs knows, per device, the highest seq the log holds, so that a
// pushed op above it (nearly every op: a device sends its ops in order)
// is known to be new without reading the device index, and the mark
// stops advancing without a read past the last op held. Each such read
// is a lookup in every level of the tree that misses; the benchmark of
// 200 pushing tablets spent 6% of the server's CPU in them.
//
// Only the writer goroutine uses it, and only the writer writes marks
// and device index keys (commit), so what it knows is exact once loaded; a device
// is loaded from the index at its first op since Open. A transaction's
// seqs are kept apart and merged only when it commits, so a failed or
// retried commit leaves it as it was.
type highSeqs struct {
	load    func(device string) uint64 // from the index (lastIndexed)
	known   map[string]uint64          // committed
	pending map[string]uint64          // the current transaction's
}

// begin starts a transaction's attempt.
func (h *highSeqs) begin() {
	if h.known == nil {
		h.known = make(map[string]uint64)
	}
	h.pending = make(map[string]uint64)
}

// of returns the highest seq of device held, in txn or before it.
func (h *highSeqs) of(device string) uint64 {
	if v, ok := h.pending[device]; ok {
		return v
	}
	if v, ok := h.known[device]; ok {
		return v
	}
	v := h.load(device)
	h.pending[device] = v
	return v
}

// hold records that the transaction holds device's seq.
func (h *highSeqs) hold(device string, seq uint64) {
	if seq > h.of(device) {
		h.pending[device] = seq
	}
}

// commit keeps the transaction's seqs, once it committed.
func (h *highSeqs) commit() {
	for d, v := range h.pending {
		if v != math.MaxUint64 { // unknown (the index was unreadable): read again next time
			h.known[d] = v
		}
	}
	h.pending = nil
}

// abort forgets what a failed commit touched: Badger may have written
// part of it, so those devices are read from the index again.
func (h *highSeqs) abort() {
	for d := range h.pending {
		delete(h.known, d)
	}
	h.pending = nil
}

// lastIndexed reads the highest seq of device held, as committed: its
// mark, or the last key under its prefix in the index (the ops held ahead
// of a gap) when that is higher. It reads in a transaction of
// its own, not the writer's: an iterator of a transaction that has
// written sorts all its pending writes first, which for each device new
// to a commit of a reconnecting crowd made a 2,000-tablet surge twice as
// slow. The writer's transaction holds none of the device's index keys
// yet when this runs (of loads a device before its first hold).
func lastIndexed(db *badger.DB, device string) (seq uint64) {
	end := indexKey(device, math.MaxUint64)
	prefix := end[:len(end)-8]
	err := db.View(func(txn *badger.Txn) error {
		m, err := readMark(txn, device)
		if err != nil {
			return err
		}
		seq = m.seq
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		it.Seek(end)
		if it.ValidForPrefix(prefix) {
			seq = max(seq, binary.BigEndian.Uint64(it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		// Unknown: every op of the device is looked up, as before.
		return math.MaxUint64
	}
	return seq
}
