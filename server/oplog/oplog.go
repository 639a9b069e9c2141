// Package oplog is the server's durable op log on Badger: every op every
// device pushed, stored once under (device, device_seq), numbered by a
// gapless global sequence in commit order.
//
// One writer goroutine owns all writes. It group-commits the appends that
// arrive while the previous commit is on disk into one transaction, assigns
// global sequence numbers in commit order, and only then acknowledges. With
// SyncWrites on, an acknowledged op survives a SIGKILL or a power cut, and a
// global sequence number that a device has pulled is never reused (which
// Badger's own leased Sequence cannot promise after a crash).
package oplog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Key layout. Prefixes are one byte so scans are cheap and the layout is
// easy to read in a dump.
var (
	prefixOp    = []byte{'o'} // o + be64(global)            -> op JSON
	prefixIndex = []byte{'d'} // d + device + 0 + be64(seq)  -> be64(global), for ops above the mark when stored (see mark)
	prefixMark  = []byte{'m'} // m + device                  -> be64(contiguous seq) + be64(its op's global)
	prefixFeed  = []byte{'f'} // f + feed + 0 + be64(global)  -> nothing
	prefixPriv  = []byte{'p'} // p + kind + 0 + id            -> the server's own records
	prefixRec   = []byte{'r'} // r + record + 0 + be64(global) -> nothing (Erasure.Record's record)
	keyEpoch    = []byte("meta/epoch")
	// keyRecIndex marks a log whose ops are all in the record index (a
	// log written before the index gets it at Open).
	keyRecIndex = []byte("meta/recindex")
	// keyFormat holds the store format this log is written in (be64),
	// so a server that reads only older formats refuses it.
	keyFormat = []byte("meta/format")
)

// FeedAll names the feed of every op. Other feeds are what Options.Feeds
// says an op belongs to.
const FeedAll = store.FeedAll

// Errors of Open and Restore. Use errors.Is.
var (
	ErrClosed = store.ErrClosed
	// ErrWrongKey means the store was written with another encryption
	// key (or none, or the key is missing).
	ErrWrongKey = errors.New("oplog: the encryption key does not match the store")
	// ErrNewerFormat means the store was written by a newer server, in
	// a format this one cannot read without damaging it.
	ErrNewerFormat = errors.New("oplog: the store was written by a newer server")
	// ErrNotEmpty means Restore was pointed at a directory that holds
	// data already.
	ErrNotEmpty = errors.New("oplog: restore target is not empty")
	// ErrNotFound means Tx.Get found no record.
	ErrNotFound = store.ErrNotFound
)

// storeFormat is the format this package writes. 2: marks keep their
// op's global number, and the device index holds only ops stored above
// the mark (see mark); a log without keyFormat is format 1, which this
// package reads. The next change of format that older code would misread
// raises it.
const storeFormat = 2

// maxOpsPerCommit bounds one group commit so a transaction stays well under
// Badger's size limit.
const maxOpsPerCommit = 4096

// Log is the op log on Badger: the embedded store.Store. It is safe for
// concurrent use.
type Log struct {
	db    *badger.DB
	feeds func(syncproto.Op) []string
	epoch string
	reqs  chan *appendReq
	stop  chan struct{}
	done  chan struct{}

	mu   sync.Mutex
	head uint64
	// changed holds, per feed with a waiter, a channel closed at the next
	// commit that adds an op to that feed.
	changed store.Waiters
	closed  bool

	erasure *Erasure
	// high is the writer's knowledge of each device's highest seq.
	high highSeqs
	// splits counts groups Badger refused as too big for one
	// transaction, which commit then split: the writer's estimate should
	// keep it near zero.
	splits atomic.Int64
}

type appendReq struct {
	device string
	ops    []syncproto.Op
	// feeds, when set, are each op's feeds as the caller read them
	// (AppendRouted); a nil entry is read here.
	feeds [][]string
	// records writes private records in the ops' transaction (AppendBatch).
	records func(store.Tx) error
	// next numbers the ops in the commit (AppendNext).
	next   bool
	stored []syncproto.Op // the ops not held before, as stored
	mark   uint64
	err    error
	done   chan struct{}
}

// Options configure Open.
type Options struct {
	// Key encrypts the store at rest (AES-256; 32 bytes). Nil stores
	// plaintext, which only tests should do.
	Key []byte
	// Logger receives Badger's own messages at debug level; nil discards.
	Logger *slog.Logger
	// Feeds names the feeds (besides FeedAll) an op belongs to, decided
	// once when the op is stored (scope.Feeds). Nil puts every op in
	// FeedAll only.
	Feeds func(syncproto.Op) []string
	// Erasure, when set, lets an op erase earlier ops for good (a
	// resident deleting their face): see Erasure.
	Erasure *Erasure
}

// Erasure says which ops erase which (store.Erasure).
type Erasure = store.Erasure

// Open opens the log in dir, creating the directory and an empty log when
// missing. It fails with a readable error when dir cannot be used, and
// with ErrWrongKey when opt.Key is not the store's key.
func Open(dir string, opt Options) (*Log, error) {
	db, err := openDB(dir, opt)
	if err != nil {
		return nil, err
	}
	l := &Log{
		db:      db,
		feeds:   opt.Feeds,
		erasure: opt.Erasure,
		reqs:    make(chan *appendReq, 256),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	l.high.load = func(device string) uint64 { return lastIndexed(db, device) }
	if err := checkFormat(db, dir); err != nil {
		db.Close()
		return nil, err
	}
	if err := l.load(); err != nil {
		db.Close()
		return nil, err
	}
	if err := l.indexRecords(); err != nil {
		db.Close()
		return nil, err
	}
	go l.writer()
	return l, nil
}

func openDB(dir string, opt Options) (*badger.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("oplog: create data directory: %w", err)
	}
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(badgerLogger{opt.Logger}).
		// A small server: a city's op log is gigabytes at most. These keep
		// a quiet server's resident memory near 200 MB instead of Badger's
		// default 700; a server taking a stream of pushes needs more (the
		// README's figures: about 600 MB).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithNumCompactors(2).
		WithEncryptionKey(opt.Key)
	// Tables of 2 MB at every level, not twice as large at each deeper
	// one. Badger builds a table in buffers three times its size, and
	// without jemalloc they are Go heap that its pool of builders keeps: as
	// the log grew, deeper tables made them grow too. Under 200 pushing
	// tablets with a 512 MiB heap, at 4,000,000 ops the server peaked at
	// 1,092 MiB and its collector halved the rate (33,400 ops/s); with
	// this, 803 MiB and 61,700 ops/s. The cost is more table files: about
	// 500 a gigabyte of log, within the open-file limit Go raises to the
	// hard limit at start.
	bo.TableSizeMultiplier = 1
	db, err := badger.Open(bo)
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return nil, fmt.Errorf("%w (%s)", ErrWrongKey, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("oplog: open %s: %w", dir, err)
	}
	return db, nil
}

// Backup writes a consistent copy of the whole store to w while the log
// keeps serving. The copy is plaintext, whatever the store's encryption:
// seal it (package sealed) before it leaves the server.
func (l *Log) Backup(w io.Writer) error {
	if _, err := l.db.Backup(w, 0); err != nil {
		return fmt.Errorf("oplog: backup: %w", err)
	}
	return nil
}

// Restore loads a backup made by Backup into dir, which must not hold a
// store yet, and gives it a new epoch: devices that synced with the old
// server see the change, and resend what it may have lost.
func Restore(dir string, r io.Reader, opt Options) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%w: %s", ErrNotEmpty, dir)
	}
	db, err := openDB(dir, opt)
	if err != nil {
		return err
	}
	if err := db.Load(r, 256); err != nil {
		db.Close()
		return fmt.Errorf("oplog: restore: %w", err)
	}
	err = db.Update(func(txn *badger.Txn) error { return txn.Set(keyEpoch, []byte(newEpoch())) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("oplog: restore: %w", err)
	}
	return nil
}

func newEpoch() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkFormat refuses a log of a newer format than storeFormat and marks
// an older or new one with storeFormat, which it is written in from now
// on.
func checkFormat(db *badger.DB, dir string) error {
	err := db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keyFormat)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(keyFormat, be64(storeFormat))
		}
		if err != nil {
			return err
		}
		format, err := valueU64(item)
		if err != nil {
			return err
		}
		switch {
		case format > storeFormat:
			return fmt.Errorf("%w (%s is in format %d; this server reads formats up to %d): run the newer server, or restore a backup taken before the upgrade", ErrNewerFormat, dir, format, storeFormat)
		case format < storeFormat:
			return txn.Set(keyFormat, be64(storeFormat))
		}
		return nil
	})
	if errors.Is(err, ErrNewerFormat) {
		return err
	}
	if err != nil {
		return fmt.Errorf("oplog: read the store format: %w", err)
	}
	return nil
}

// load reads the epoch (minting one for a new log) and the head sequence.
func (l *Log) load() error {
	err := l.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keyEpoch)
		if errors.Is(err, badger.ErrKeyNotFound) {
			l.epoch = newEpoch()
			return txn.Set(keyEpoch, []byte(l.epoch))
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		l.epoch = string(v)
		return err
	})
	if err != nil {
		return fmt.Errorf("oplog: read epoch: %w", err)
	}
	l.head, err = l.storedHead()
	return err
}

// storedHead reads the highest global sequence stored.
func (l *Log) storedHead() (head uint64, err error) {
	err = l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefixOp})
		defer it.Close()
		it.Seek(opKey(^uint64(0)))
		if it.ValidForPrefix(prefixOp) {
			head = binary.BigEndian.Uint64(it.Item().Key()[len(prefixOp):])
		}
		return nil
	})
	return head, err
}

// Epoch names this log's history. It changes only when a log is created
// (or, later, restored from a backup).
func (l *Log) Epoch() string { return l.epoch }

// Head returns the highest global sequence stored.
func (l *Log) Head() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Changed returns a channel that is closed the next time an op is added
// to feed (any op, for FeedAll). Take it before reading, so no change can
// slip between the read and the wait. A device's quiet feeds (its
// templates, the facility list) then cost nothing while its busy feed
// streams.
func (l *Log) Changed(feed string) <-chan struct{} { return l.changed.Changed(feed) }

// Append stores ops as device's ops. It sets each op's Device to device
// (the authenticated session's, whatever the op said), skips ops already
// held, and returns the device's highest contiguous seq held afterwards:
// the acknowledgement. It returns only after the ops are on disk.
func (l *Log) Append(ctx context.Context, device string, ops []syncproto.Op) (uint64, error) {
	mark, _, err := l.AppendNew(ctx, device, ops)
	return mark, err
}

// AppendNew is Append that also returns the ops it stored, those not
// held before, with their global sequence: what a resend repeats is not
// among them, whatever order the ops arrived in.
func (l *Log) AppendNew(ctx context.Context, device string, ops []syncproto.Op) (mark uint64, stored []syncproto.Op, err error) {
	return l.AppendBatch(ctx, device, ops, nil)
}

// AppendBatch is AppendNew for one logical change: the ops and the
// private records that go with them (records, which may be nil) are
// committed in one transaction, so after a crash either all of them are
// held or none. records may run more than once (a conflicting update of
// the same records makes the commit start again on fresh data) and runs
// inside the writer's group commit: its error fails the whole group, so
// it must fail only when the store does; a caller checks what it may
// refuse before.
func (l *Log) AppendBatch(ctx context.Context, device string, ops []syncproto.Op, records func(store.Tx) error) (mark uint64, stored []syncproto.Op, err error) {
	return l.append(ctx, &appendReq{device: device, ops: ops, records: records})
}

// AppendRouted is AppendBatch with the ops' feeds read by the caller
// (store.Log.AppendRouted).
func (l *Log) AppendRouted(ctx context.Context, device string, ops []syncproto.Op, feeds [][]string, records func(store.Tx) error) (mark uint64, stored []syncproto.Op, err error) {
	if err := store.CheckRouting(ops, feeds); err != nil {
		return 0, nil, fmt.Errorf("oplog: append: %w", err)
	}
	return l.append(ctx, &appendReq{device: device, ops: ops, feeds: feeds, records: records})
}

// AppendNext is AppendBatch with the ops numbered inside the commit, each
// with device's next free seq (store.Log.AppendNext).
func (l *Log) AppendNext(ctx context.Context, device string, ops []syncproto.Op, records func(store.Tx) error) ([]syncproto.Op, error) {
	_, stored, err := l.append(ctx, &appendReq{device: device, ops: ops, records: records, next: true})
	return stored, err
}

// append hands req to the writer's group commit and waits for it.
func (l *Log) append(ctx context.Context, req *appendReq) (mark uint64, stored []syncproto.Op, err error) {
	if err := store.CheckAppend(req.device, req.ops, req.next); err != nil {
		return 0, nil, fmt.Errorf("oplog: append: %w", err)
	}
	req.done = make(chan struct{})
	select {
	case l.reqs <- req:
	case <-l.stop:
		return 0, nil, ErrClosed
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	select {
	case <-req.done:
		return req.mark, req.stored, req.err
	case <-l.done:
		// The writer may have finished this request just before exiting.
		select {
		case <-req.done:
			return req.mark, req.stored, req.err
		default:
			return 0, nil, ErrClosed
		}
	}
}

func (l *Log) writer() {
	defer close(l.done)
	for {
		var batch []*appendReq
		select {
		case req := <-l.reqs:
			batch = append(batch, req)
		case <-l.stop:
			return
		}
		n, size := len(batch[0].ops), reqSize(batch[0])
	drain:
		for n < maxOpsPerCommit && size < l.db.MaxBatchSize()/2 {
			select {
			case req := <-l.reqs:
				batch = append(batch, req)
				n += len(req.ops)
				size += reqSize(req)
			default:
				break drain
			}
		}
		l.commit(batch)
	}
}

// reqSize estimates the bytes req adds to a transaction: each op's JSON
// and its index, feed and record keys. The writer stops gathering a group
// at half of Badger's limit on one transaction, so a group of full pushes
// (a megabyte each) is rarely refused as too big; commit splits one that
// is.
func reqSize(req *appendReq) int64 {
	var n int64
	for _, op := range req.ops {
		n += int64(len(op.Body)+len(op.Kind)) + 3*int64(len(req.device)) + 256
	}
	return n
}

// commit writes one group of appends in one transaction and answers
// each. A group too big for one Badger transaction is committed in two
// halves, each again in parts when need be: one append always fits (a
// push is at most syncproto.MaxFrameSize), and the appends of a group are
// independent of each other.
func (l *Log) commit(batch []*appendReq) {
	err := l.commitGroup(batch)
	if errors.Is(err, badger.ErrTxnTooBig) && len(batch) > 1 {
		l.splits.Add(1)
		half := len(batch) / 2
		l.commit(batch[:half])
		l.commit(batch[half:])
		return
	}
	for _, req := range batch {
		req.err = err
		if err != nil {
			req.stored, req.mark = nil, 0
		}
		close(req.done)
	}
}

// commitGroup writes batch in one transaction and publishes the new head;
// it leaves answering to commit.
func (l *Log) commitGroup(batch []*appendReq) error {
	l.mu.Lock()
	head := l.head
	l.mu.Unlock()
	next := head
	var touched map[string]bool
	err := l.update(func(txn *badger.Txn) error {
		next = head
		touched = map[string]bool{FeedAll: true}
		l.high.begin()
		for _, req := range batch {
			req.stored = nil
			mark, err := readMark(txn, req.device)
			if err != nil {
				return err
			}
			// added holds the global number of each op this append
			// stores, by seq: the device index gets only those left
			// above the mark.
			added := make(map[uint64]uint64, len(req.ops))
			var seq uint64 // the last seq given (next)
			if req.next {
				if mark, err = l.advanceMark(txn, req.device, mark, nil); err != nil {
					return err
				}
				seq = mark.seq
			}
			for i, op := range req.ops {
				op.Device, op.Global = req.device, 0
				if req.next {
					s, err := nextFree(txn, req.device, seq)
					if err != nil {
						return err
					}
					op.Seq, seq = s, s
				}
				if held, err := l.holds(txn, req.device, op.Seq, mark, added); err != nil {
					return err
				} else if held {
					continue // a resend
				}
				next++
				op.Global = next
				v, err := op.AppendJSON(nil)
				if err != nil {
					return err
				}
				if err := txn.Set(opKey(next), v); err != nil {
					return err
				}
				added[op.Seq] = next
				l.high.hold(req.device, op.Seq)
				req.stored = append(req.stored, op)
				if l.feeds == nil {
					continue
				}
				feeds := store.Routed(req.feeds, i, op, l.feeds)
				for _, feed := range feeds {
					if err := txn.Set(feedKey(feed, next), nil); err != nil {
						return err
					}
					touched[feed] = true
				}
				// The op's record, read once: it indexes the op and,
				// for an erasing op, names what to redact.
				rec, erases := l.record(op)
				if rec == "" {
					continue
				}
				if err := txn.Set(recKey(rec, next), nil); err != nil {
					return err
				}
				if erases {
					if err := l.erase(txn, op, rec, feeds); err != nil {
						return err
					}
				}
			}
			if mark, err = l.advanceMark(txn, req.device, mark, added); err != nil {
				return err
			}
			for s, global := range added {
				if s > mark.seq {
					if err := txn.Set(indexKey(req.device, s), be64(global)); err != nil {
						return err
					}
				}
			}
			req.mark = mark.seq
			if req.records != nil {
				if err := req.records(&Tx{txn}); err != nil {
					return fmt.Errorf("records of %s's batch: %w", req.device, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("oplog: commit: %w", err)
		l.high.abort()
		// A commit that failed in Badger's sync may have left its
		// entries readable: the next group is numbered after them, never
		// again with their numbers (the devices resend those ops, which
		// their marks then acknowledge once).
		next = head
		if stored, serr := l.storedHead(); serr == nil && stored > head {
			next = stored
		}
	} else {
		l.high.commit()
	}
	l.mu.Lock()
	advanced := next != head
	if advanced {
		l.head = next
	}
	l.mu.Unlock()
	if advanced {
		l.changed.Wake(touched)
	}
	return err
}

// erase redacts the ops that op, which erases record rec, erases: the
// ops about the same record, earlier in op's feeds (opFeeds, as stored).
func (l *Log) erase(txn *badger.Txn, op syncproto.Op, rec string, opFeeds []string) error {
	// The ops about rec, through the record index: the cost is the
	// record's own ops, not the feeds' (a registration withdraws a face
	// from every other facility; scanning each facility's feed made every
	// registration slower than the last).
	feeds := map[string]bool{}
	for _, f := range opFeeds {
		feeds[f] = true
	}
	prefix := recKey(rec, 0)[:len(prefixRec)+len(rec)+1]
	var redacted []syncproto.Op
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		global := binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
		if global >= op.Global {
			break
		}
		item, err := txn.Get(opKey(global))
		if err != nil {
			it.Close()
			return fmt.Errorf("erase: op %d: %w", global, err)
		}
		var old syncproto.Op
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &old) }); err != nil {
			it.Close()
			return fmt.Errorf("erase: op %d: %w", global, err)
		}
		if r, e := l.erasure.Record(old); r == rec && !e && slices.ContainsFunc(l.feeds(old), func(f string) bool { return feeds[f] }) {
			redacted = append(redacted, l.erasure.Redact(old))
		}
	}
	it.Close()
	for _, old := range redacted {
		v, err := json.Marshal(old)
		if err != nil {
			return err
		}
		if err := txn.Set(opKey(old.Global), v); err != nil {
			return err
		}
	}
	return nil
}

// record is Erasure.Record of op: the record it is about ("" for none,
// or when the log has no erasure) and whether it erases it.
func (l *Log) record(op syncproto.Op) (string, bool) {
	if l.erasure == nil {
		return "", false
	}
	return l.erasure.Record(op)
}

// recKey is the record index's key of the op global about rec.
func recKey(rec string, global uint64) []byte {
	k := make([]byte, 0, len(prefixRec)+len(rec)+1+8)
	k = append(append(append(k, prefixRec...), rec...), 0)
	return binary.BigEndian.AppendUint64(k, global)
}

// indexRecords puts every op of a log written before the record index
// into it, once (keyRecIndex marks it done), a thousand ops a
// transaction.
func (l *Log) indexRecords() error {
	if l.erasure == nil || l.feeds == nil {
		return nil
	}
	done := false
	if err := l.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(keyRecIndex)
		done = err == nil
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		return err
	}); err != nil || done {
		return err
	}
	for after := uint64(0); ; {
		n := 0
		err := l.db.Update(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixOp})
			defer it.Close()
			for it.Seek(opKey(after + 1)); it.ValidForPrefix(prefixOp) && n < 1000; it.Next() {
				var op syncproto.Op
				if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &op) }); err != nil {
					return err
				}
				if rec, _ := l.record(op); rec != "" {
					if err := txn.Set(recKey(rec, op.Global), nil); err != nil {
						return err
					}
				}
				after, n = op.Global, n+1
			}
			if n < 1000 {
				return txn.Set(keyRecIndex, nil)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("oplog: index the records of older ops: %w", err)
		}
		if n < 1000 {
			return nil
		}
	}
}

// A device's mark is the highest seq up to which the log holds every op
// of the device, and the global number of the op at it. Ops at or below
// the mark need no entry in the device index: nearly every device sends
// its ops in order, so the index holds only the few ops held ahead of a
// gap when they were stored (once the gap fills, the mark passes them and
// their entries stay, unread), and a pushed op costs one entry fewer (of four; the benchmark of
// 200 pushing tablets went from about 58,000 to 70,000 ops a second).
type mark struct {
	seq uint64
	// global is zero in a mark written before marks kept it; the device
	// index of such a log holds every op.
	global uint64
}

func (m mark) value() []byte { return binary.BigEndian.AppendUint64(be64(m.seq), m.global) }

// holds reports whether the log holds device's op seq, given its mark
// and the ops the append stores so far (added). Above the device's highest
// seq nothing is held, so nearly every pushed op is known new without a
// read.
func (l *Log) holds(txn *badger.Txn, device string, seq uint64, m mark, added map[uint64]uint64) (bool, error) {
	if seq <= m.seq {
		return true, nil
	}
	if _, ok := added[seq]; ok {
		return true, nil
	}
	if seq > l.high.of(device) {
		return false, nil
	}
	_, err := txn.Get(indexKey(device, seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// advanceMark moves device's mark m past every seq now held, in added
// or in the index, and stores it when it moved: none is held above the
// device's highest seq.
func (l *Log) advanceMark(txn *badger.Txn, device string, m mark, added map[uint64]uint64) (mark, error) {
	start, high := m, l.high.of(device)
	for m.seq < high {
		s := m.seq + 1
		if global, ok := added[s]; ok {
			m = mark{s, global}
			continue
		}
		item, err := txn.Get(indexKey(device, s))
		if errors.Is(err, badger.ErrKeyNotFound) {
			break
		}
		if err != nil {
			return start, err
		}
		global, err := valueU64(item)
		if err != nil {
			return start, err
		}
		m = mark{s, global}
	}
	if m != start {
		if err := txn.Set(markKey(device), m.value()); err != nil {
			return start, err
		}
	}
	return m, nil
}

// nextFree returns device's first seq after seq that no op holds (ops
// held ahead of a gap keep their seqs). seq is at or above the mark,
// where the index holds every op held.
func nextFree(txn *badger.Txn, device string, seq uint64) (uint64, error) {
	for {
		seq++
		_, err := txn.Get(indexKey(device, seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return seq, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// valueU64 reads an item whose value is one be64: a format, or the
// global number a device index entry holds.
func valueU64(item *badger.Item) (n uint64, err error) {
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%q holds %d bytes, not 8", item.Key(), len(v))
		}
		n = binary.BigEndian.Uint64(v)
		return nil
	})
	return n, err
}

func readMark(txn *badger.Txn, device string) (mark, error) {
	item, err := txn.Get(markKey(device))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return mark{}, nil
	}
	if err != nil {
		return mark{}, err
	}
	var m mark
	err = item.Value(func(v []byte) error {
		switch len(v) {
		case 16:
			m.global = binary.BigEndian.Uint64(v[8:])
			fallthrough
		case 8:
			m.seq = binary.BigEndian.Uint64(v)
			return nil
		}
		return fmt.Errorf("mark of %s: %d bytes", device, len(v))
	})
	return m, err
}

// Mark returns the device's highest contiguous seq held.
func (l *Log) Mark(device string) (uint64, error) {
	var m mark
	err := l.db.View(func(txn *badger.Txn) error {
		var err error
		m, err = readMark(txn, device)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("oplog: read mark of %s: %w", device, err)
	}
	return m.seq, nil
}

// Last returns device's op at its mark, the last of its contiguous ops
// (ok false when it has none): a writer that numbers its own ops reads
// its clock from it at start instead of scanning the log.
func (l *Log) Last(device string) (op syncproto.Op, ok bool, err error) {
	err = l.db.View(func(txn *badger.Txn) error {
		m, err := readMark(txn, device)
		if err != nil || m.seq == 0 {
			return err
		}
		if m.global == 0 { // an older mark: the index holds every op
			item, err := txn.Get(indexKey(device, m.seq))
			if err != nil {
				return err
			}
			if m.global, err = valueU64(item); err != nil {
				return err
			}
		}
		item, err := txn.Get(opKey(m.global))
		if err != nil {
			return err
		}
		ok = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &op) })
	})
	if err != nil {
		return op, false, fmt.Errorf("oplog: last op of %s: %w", device, err)
	}
	return op, ok, nil
}

// Since returns up to limit ops of feed with a global sequence after
// after, in order, stopping early once their bodies pass maxBytes so a
// frame of them stays under the protocol's limit.
func (l *Log) Since(feed string, after uint64, limit, maxBytes int) ([]syncproto.Op, error) {
	var out []syncproto.Op
	size := 0
	add := func(item *badger.Item) (bool, error) {
		var op syncproto.Op
		err := item.Value(func(v []byte) error {
			size += len(v)
			return json.Unmarshal(v, &op)
		})
		if err != nil {
			return false, err
		}
		if size > maxBytes && len(out) > 0 {
			return false, nil
		}
		out = append(out, op)
		return len(out) < limit, nil
	}
	err := l.db.View(func(txn *badger.Txn) error {
		if feed == FeedAll {
			it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: prefixOp})
			defer it.Close()
			for it.Seek(opKey(after + 1)); it.ValidForPrefix(prefixOp); it.Next() {
				if more, err := add(it.Item()); err != nil || !more {
					return err
				}
			}
			return nil
		}
		prefix := feedKey(feed, 0)[:len(prefixFeed)+len(feed)+1]
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(feedKey(feed, after+1)); it.ValidForPrefix(prefix); it.Next() {
			global := binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
			item, err := txn.Get(opKey(global))
			if err != nil {
				return fmt.Errorf("op %d of feed %s: %w", global, feed, err)
			}
			if more, err := add(item); err != nil || !more {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("oplog: read %s after %d: %w", feed, after, err)
	}
	return out, nil
}

var _ store.Store = (*Log)(nil)
var _ store.Tx = (*Tx)(nil)

// Tx is a transaction on the server's private records: state the server
// keeps beside the log (enrolled devices, enrollment codes) that no feed
// ever serves. Records live in the same store, so they share its
// encryption at rest and its backups.
type Tx struct{ txn *badger.Txn }

// Get returns the record kind/id, or ErrNotFound.
func (t *Tx) Get(kind, id string) ([]byte, error) {
	item, err := t.txn.Get(privKey(kind, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, kind, id)
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// Put stores the record kind/id.
func (t *Tx) Put(kind, id string, v []byte) error { return t.txn.Set(privKey(kind, id), v) }

// Delete removes the record kind/id.
func (t *Tx) Delete(kind, id string) error { return t.txn.Delete(privKey(kind, id)) }

// Each calls fn with every record of kind, in id order.
func (t *Tx) Each(kind string, fn func(id string, v []byte) error) error {
	prefix := privKey(kind, "")
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		if err := fn(string(it.Item().Key()[len(prefix):]), v); err != nil {
			return err
		}
	}
	return nil
}

// Last returns the record of kind with the greatest id, or ErrNotFound.
func (t *Tx) Last(kind string) (id string, v []byte, err error) {
	prefix := privKey(kind, "")
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
	defer it.Close()
	it.Seek(append(bytes.Clone(prefix), 0xFF))
	if !it.ValidForPrefix(prefix) {
		return "", nil, fmt.Errorf("%w: no %s record", ErrNotFound, kind)
	}
	v, err = it.Item().ValueCopy(nil)
	return string(it.Item().Key()[len(prefix):]), v, err
}

// View runs fn in a read-only transaction on the private records.
func (l *Log) View(fn func(store.Tx) error) error {
	return l.db.View(func(txn *badger.Txn) error { return fn(&Tx{txn}) })
}

// Update runs fn in a read-write transaction on the private records and
// commits it durably. When a concurrent update touched the same records,
// fn runs again on fresh data, so a read-check-write in fn is atomic (a
// one-time code is consumed once).
func (l *Log) Update(fn func(store.Tx) error) error {
	return l.update(func(txn *badger.Txn) error { return fn(&Tx{txn}) })
}

// update runs fn in a read-write transaction, again on fresh data while
// a concurrent transaction conflicts with it.
func (l *Log) update(fn func(*badger.Txn) error) error {
	for {
		err := l.db.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
}

// Close stops the writer, waits for it, and closes Badger. Callers must
// have stopped every reader first.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("oplog: close: %w", err)
	}
	return nil
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func opKey(global uint64) []byte { return append(bytes.Clone(prefixOp), be64(global)...) }

func indexKey(device string, seq uint64) []byte {
	k := append(bytes.Clone(prefixIndex), device...)
	k = append(k, 0)
	return append(k, be64(seq)...)
}

func markKey(device string) []byte { return append(bytes.Clone(prefixMark), device...) }

func feedKey(feed string, global uint64) []byte {
	k := append(bytes.Clone(prefixFeed), feed...)
	k = append(k, 0)
	return append(k, be64(global)...)
}

func privKey(kind, id string) []byte {
	k := append(bytes.Clone(prefixPriv), kind...)
	k = append(k, 0)
	return append(k, id...)
}

// badgerLogger routes Badger's messages to slog, errors and warnings at
// their level and the chatty rest at debug.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) log(level slog.Level, f string, args ...any) {
	if b.l != nil {
		b.l.Log(context.Background(), level, "badger: "+fmt.Sprintf(f, args...))
	}
}

func (b badgerLogger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a...) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a...) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a...) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.log(slog.LevelDebug, f, a...) }
