//go:build js && wasm

// Package idb is the device's op log in the browser's IndexedDB: the
// synclog.Store that a shelter tablet keeps its check-ins in while offline
// for days. Every op record is encrypted (sealer): templates, names and
// every other body are personal data.
//
// Every method is one IndexedDB transaction, so a reload or a closed tab
// leaves each call done or not done, never half done. Requests are issued
// only synchronously, from Go code running inside the transaction's own
// callbacks, because a transaction commits itself as soon as control goes
// back to the event loop with nothing pending (awaiting anything else, a
// timer or the network, ends it).
package idb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/wasm/jsbytes"
)

// Object stores. The schema version goes up with any change to them.
const (
	schemaVersion = 3
	storeMeta     = "meta"       // out-of-line string keys -> numbers and strings
	storeOps      = "ops"        // [device, seq] -> sealed op (local and pulled); plain JSON before records were sealed
	storeKeys     = "keys"       // schema 3: "device" -> the device's CryptoKeyPair; "records" -> the wrapped data key
	keyEnrollment = "enrollment" // in meta: the enrollment as JSON
	keyDevice     = "device"
	keySeq        = "seq"   // last local seq
	keyAcked      = "acked" // the server's acknowledged mark
	keyEpoch      = "epoch"
	cursorPrefix  = "cursor:"
	snapPrefix    = "snap:" // snapshot progress: [at, next]
	// storeOutboxV1 held unacknowledged ops in schema 1. Dropping it loses
	// nothing: every op is in storeOps, and with no acked mark the device
	// sends all of them again, which the server stores once.
	storeOutboxV1 = "outbox"
)

// ErrUnavailable is returned by Open when the browser has no IndexedDB or
// refuses to open it.
var ErrUnavailable = errors.New("idb: IndexedDB is not available")

// Store is a synclog.Store in IndexedDB.
type Store struct {
	db   safejs.Value
	dev  string
	seal sealer
}

// Open opens (creating where missing) the database name and this
// device's identity in it.
func Open(ctx context.Context, name string) (*Store, error) {
	factory, err := safejs.Global().Get("indexedDB")
	if err != nil || factory.IsUndefined() || factory.IsNull() {
		return nil, ErrUnavailable
	}
	req, err := factory.Call("open", name, schemaVersion)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	upgrade, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		db, err := req.Get("result")
		if err != nil {
			return nil
		}
		old := 0.0
		if len(args) > 0 {
			if v, err := args[0].Get("oldVersion"); err == nil {
				old, _ = v.Float()
			}
		}
		if old < 1 {
			for _, s := range []string{storeMeta, storeOps} {
				db.Call("createObjectStore", s)
			}
		}
		if old == 1 {
			db.Call("deleteObjectStore", storeOutboxV1)
		}
		if old < 3 {
			db.Call("createObjectStore", storeKeys)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade.Value())
	db, err := await(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s := &Store{db: db}

	// The device id is minted once, in the same transaction that checks
	// for it, so two tabs opening at once agree on it.
	fresh := make([]byte, 16)
	rand.Read(fresh)
	candidate := "pwa-" + hex.EncodeToString(fresh)
	t, err := s.begin("readwrite", storeMeta)
	if err != nil {
		return nil, err
	}
	meta := t.store(storeMeta)
	t.request(meta, "get", []any{keyDevice}, func(v safejs.Value) {
		if id, err := v.String(); err == nil && v.Type() == safejs.TypeString {
			s.dev = id
			return
		}
		s.dev = candidate
		t.request(meta, "put", []any{candidate, keyDevice}, nil)
	})
	if err := t.wait(ctx); err != nil {
		return nil, fmt.Errorf("idb: read device id: %w", err)
	}
	key, err := s.dataKey(ctx)
	if err != nil {
		return nil, err
	}
	if s.seal, err = newSealer(key); err != nil {
		return nil, err
	}
	return s, nil
}

// DeviceID implements synclog.Store.
func (s *Store) DeviceID() string { return s.dev }

// AppendLocal implements synclog.Store. The next seq is read and written in
// the same transaction as the op, so seqs stay gapless even with the app
// open in two tabs.
func (s *Store) AppendLocal(ctx context.Context, op syncproto.Op) (syncproto.Op, error) {
	t, err := s.begin("readwrite", storeMeta, storeOps)
	if err != nil {
		return op, err
	}
	var encErr error
	t.request(t.store(storeMeta), "get", []any{keySeq}, func(v safejs.Value) {
		last, _ := v.Float() // undefined: a new log
		op.Device, op.Seq, op.Global = s.dev, uint64(last)+1, 0
		rec, err := s.record(op)
		if err != nil {
			encErr = err
			t.abort()
			return
		}
		t.request(t.store(storeOps), "put", []any{rec, []any{op.Device, op.Seq}}, nil)
		t.request(t.store(storeMeta), "put", []any{op.Seq, keySeq}, nil)
	})
	err = t.wait(ctx)
	if encErr != nil {
		return op, fmt.Errorf("idb: append: %w", encErr)
	}
	if err != nil {
		return op, fmt.Errorf("idb: append: %w", err)
	}
	return op, nil
}

// Local implements synclog.Store.
func (s *Store) Local(ctx context.Context, after uint64, limit int) ([]syncproto.Op, error) {
	kr, err := safejs.Global().Get("IDBKeyRange")
	if err != nil {
		return nil, err
	}
	own, err := kr.Call("bound", []any{s.dev, after + 1}, []any{s.dev, math.Inf(1)})
	if err != nil {
		return nil, fmt.Errorf("idb: key range: %w", err)
	}
	ops, err := s.getAll(ctx, storeOps, own, limit)
	if err != nil {
		return nil, fmt.Errorf("idb: read local ops: %w", err)
	}
	return ops, nil
}

// Marks implements synclog.Store.
func (s *Store) Marks(ctx context.Context) (acked, last uint64, err error) {
	t, err := s.begin("readonly", storeMeta)
	if err != nil {
		return 0, 0, err
	}
	meta := t.store(storeMeta)
	t.request(meta, "get", []any{keyAcked}, func(v safejs.Value) { acked = number(v) })
	t.request(meta, "get", []any{keySeq}, func(v safejs.Value) { last = number(v) })
	if err := t.wait(ctx); err != nil {
		return 0, 0, fmt.Errorf("idb: read marks: %w", err)
	}
	return acked, last, nil
}

// SetAcked implements synclog.Store.
func (s *Store) SetAcked(ctx context.Context, acked uint64) error {
	t, err := s.begin("readwrite", storeMeta)
	if err != nil {
		return err
	}
	meta := t.store(storeMeta)
	t.request(meta, "get", []any{keySeq}, func(v safejs.Value) {
		t.request(meta, "put", []any{min(acked, number(v)), keyAcked}, nil)
	})
	if err := t.wait(ctx); err != nil {
		return fmt.Errorf("idb: record ack %d: %w", acked, err)
	}
	return nil
}

// Epoch implements synclog.Store.
func (s *Store) Epoch(ctx context.Context) (string, error) {
	t, err := s.begin("readonly", storeMeta)
	if err != nil {
		return "", err
	}
	var epoch string
	t.request(t.store(storeMeta), "get", []any{keyEpoch}, func(v safejs.Value) {
		if v.Type() == safejs.TypeString {
			epoch, _ = v.String()
		}
	})
	if err := t.wait(ctx); err != nil {
		return "", fmt.Errorf("idb: read epoch: %w", err)
	}
	return epoch, nil
}

// SetEpoch implements synclog.Store.
func (s *Store) SetEpoch(ctx context.Context, epoch string) error {
	cursors, err := safejs.Global().Get("IDBKeyRange")
	if err != nil {
		return err
	}
	all, err := cursors.Call("bound", cursorPrefix, cursorPrefix+"\uffff")
	if err != nil {
		return fmt.Errorf("idb: key range: %w", err)
	}
	snaps, err := cursors.Call("bound", snapPrefix, snapPrefix+"\uffff")
	if err != nil {
		return fmt.Errorf("idb: key range: %w", err)
	}
	t, err := s.begin("readwrite", storeMeta)
	if err != nil {
		return err
	}
	meta := t.store(storeMeta)
	t.request(meta, "delete", []any{all}, nil)
	t.request(meta, "delete", []any{snaps}, nil)
	t.request(meta, "put", []any{epoch, keyEpoch}, nil)
	if err := t.wait(ctx); err != nil {
		return fmt.Errorf("idb: record epoch: %w", err)
	}
	return nil
}

// SaveRemote implements synclog.Store.
func (s *Store) SaveRemote(ctx context.Context, feed string, ops []syncproto.Op, cursor uint64) error {
	recs := make([]safejs.Value, len(ops))
	for i, op := range ops {
		var err error
		if recs[i], err = s.record(op); err != nil {
			return fmt.Errorf("idb: save pulled op: %w", err)
		}
	}
	t, err := s.begin("readwrite", storeMeta, storeOps)
	if err != nil {
		return err
	}
	st := t.store(storeOps)
	for i, op := range ops {
		t.request(st, "put", []any{recs[i], []any{op.Device, op.Seq}}, nil)
	}
	meta := t.store(storeMeta)
	t.request(meta, "get", []any{cursorPrefix + feed}, func(v safejs.Value) {
		// A cursor never moves back: an overtaken frame must not make
		// the device pull again what it has.
		t.request(meta, "put", []any{max(cursor, number(v)), cursorPrefix + feed}, nil)
	})
	if err := t.wait(ctx); err != nil {
		return fmt.Errorf("idb: save %d pulled ops: %w", len(ops), err)
	}
	return nil
}

// Forget implements synclog.Store.
func (s *Store) Forget(ctx context.Context, ids []synclog.OpID) error {
	t, err := s.begin("readwrite", storeOps)
	if err != nil {
		return err
	}
	st := t.store(storeOps)
	for _, id := range ids {
		if id.Device != s.dev {
			t.request(st, "delete", []any{[]any{id.Device, id.Seq}}, nil)
		}
	}
	if err := t.wait(ctx); err != nil {
		return fmt.Errorf("idb: forget %d ops: %w", len(ids), err)
	}
	return nil
}

// Cursor implements synclog.Store.
func (s *Store) Cursor(ctx context.Context, feed string) (uint64, error) {
	t, err := s.begin("readonly", storeMeta)
	if err != nil {
		return 0, err
	}
	var cursor uint64
	t.request(t.store(storeMeta), "get", []any{cursorPrefix + feed}, func(v safejs.Value) { cursor = number(v) })
	if err := t.wait(ctx); err != nil {
		return 0, fmt.Errorf("idb: read cursor of %s: %w", feed, err)
	}
	return cursor, nil
}

// All implements synclog.Store.
func (s *Store) All(ctx context.Context) ([]syncproto.Op, error) {
	ops, err := s.getAll(ctx, storeOps, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("idb: read log: %w", err)
	}
	return ops, nil
}

// Close closes the database connection.
func (s *Store) Close() {
	s.db.Call("close")
}

// getAll reads up to limit (0: all) op values of store within keyRange
// (nil: all).
func (s *Store) getAll(ctx context.Context, store string, keyRange any, limit int) ([]syncproto.Op, error) {
	t, err := s.begin("readonly", store)
	if err != nil {
		return nil, err
	}
	args := []any{keyRange}
	if limit > 0 {
		args = append(args, limit)
	}
	var vals, keys safejs.Value
	t.request(t.store(store), "getAll", args, func(v safejs.Value) { vals = v })
	t.request(t.store(store), "getAllKeys", args, func(v safejs.Value) { keys = v })
	if err := t.wait(ctx); err != nil {
		return nil, err
	}
	n, _ := vals.Length()
	ops := make([]syncproto.Op, 0, n)
	for i := range n {
		item, _ := vals.Index(i)
		key, _ := keys.Index(i)
		op, err := s.open(key, item)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// record is op as stored: sealed, as a Uint8Array.
func (s *Store) record(op syncproto.Op) (safejs.Value, error) {
	b, err := s.seal.seal(op)
	if err != nil {
		return safejs.Value{}, err
	}
	return jsbytes.ToJS(b)
}

// open returns the op stored under key: a sealed record, or the plain
// JSON an earlier version stored.
func (s *Store) open(key, item safejs.Value) (syncproto.Op, error) {
	if item.Type() == safejs.TypeString {
		str, _ := item.String()
		var op syncproto.Op
		if err := json.Unmarshal([]byte(str), &op); err != nil {
			return op, fmt.Errorf("%w: %v", errDamaged, err)
		}
		return op, nil
	}
	dv, _ := key.Index(0)
	sv, _ := key.Index(1)
	device, _ := dv.String()
	b, err := jsbytes.ToGo(item)
	if err != nil {
		return syncproto.Op{}, fmt.Errorf("%w: %v", errDamaged, err)
	}
	return s.seal.open(device, number(sv), b)
}

// number reads a stored count; a missing one (undefined) is zero.
func number(v safejs.Value) uint64 {
	f, err := v.Float()
	if err != nil || f < 0 {
		return 0
	}
	return uint64(f)
}

// Enrollment returns the enrollment saved on this device; ok is false for
// a device not enrolled yet.
func (s *Store) Enrollment(ctx context.Context) (e enroll.Enrollment, ok bool, err error) {
	raw, err := s.get(ctx, storeMeta, keyEnrollment)
	if err != nil {
		return e, false, fmt.Errorf("idb: read enrollment: %w", err)
	}
	if raw.Type() != safejs.TypeString {
		return e, false, nil
	}
	str, _ := raw.String()
	if err := json.Unmarshal([]byte(str), &e); err != nil {
		return e, false, fmt.Errorf("idb: read enrollment: %w", err)
	}
	return e, true, nil
}

// keyAccount names, in storeMeta, the resident account this device
// holds (its id; the key pair is Keys("account")).
const keyAccount = "account"

// Account returns the id of the resident account this device holds, or
// "" for none.
func (s *Store) Account(ctx context.Context) (string, error) {
	raw, err := s.get(ctx, storeMeta, keyAccount)
	if err != nil {
		return "", fmt.Errorf("idb: read account: %w", err)
	}
	if raw.Type() != safejs.TypeString {
		return "", nil
	}
	return raw.String()
}

// SaveAccount records that this device holds the account id.
func (s *Store) SaveAccount(ctx context.Context, id string) error {
	if err := s.put(ctx, storeMeta, keyAccount, id); err != nil {
		return fmt.Errorf("idb: save account: %w", err)
	}
	return nil
}

// SaveEnrollment implements enroll.Store.
func (s *Store) SaveEnrollment(ctx context.Context, e enroll.Enrollment) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("idb: save enrollment: %w", err)
	}
	if err := s.put(ctx, storeMeta, keyEnrollment, string(b)); err != nil {
		return fmt.Errorf("idb: save enrollment: %w", err)
	}
	return nil
}

// keyDevicePair names the device's key pair in storeKeys.
const keyDevicePair = "device"

// KeyPair returns the device's stored CryptoKeyPair, or undefined when
// there is none. IndexedDB keeps CryptoKey objects as they are, so a
// non-extractable private key stays non-extractable across reloads.
func (s *Store) KeyPair(ctx context.Context) (safejs.Value, error) {
	return s.Keys(keyDevicePair).KeyPair(ctx)
}

// PutKeyPair stores the device's CryptoKeyPair, replacing any earlier one.
func (s *Store) PutKeyPair(ctx context.Context, pair safejs.Value) error {
	return s.Keys(keyDevicePair).PutKeyPair(ctx, pair)
}

// Keys returns the store of the key pair named name: "device" (the
// device's), "account" (the resident account's held on this device).
func (s *Store) Keys(name string) KeyStore { return KeyStore{s, name} }

// KeyStore keeps one CryptoKeyPair (devkey.Store).
type KeyStore struct {
	s    *Store
	name string
}

// KeyPair returns the stored pair, or undefined when there is none.
func (k KeyStore) KeyPair(ctx context.Context) (safejs.Value, error) {
	v, err := k.s.get(ctx, storeKeys, k.name)
	if err != nil {
		return v, fmt.Errorf("idb: read %s key: %w", k.name, err)
	}
	return v, nil
}

// PutKeyPair stores the pair, replacing any earlier one.
func (k KeyStore) PutKeyPair(ctx context.Context, pair safejs.Value) error {
	if err := k.s.put(ctx, storeKeys, k.name, pair); err != nil {
		return fmt.Errorf("idb: save %s key: %w", k.name, err)
	}
	return nil
}

func (s *Store) get(ctx context.Context, store, key string) (safejs.Value, error) {
	t, err := s.begin("readonly", store)
	if err != nil {
		return safejs.Value{}, err
	}
	var out safejs.Value
	t.request(t.store(store), "get", []any{key}, func(v safejs.Value) { out = v })
	if err := t.wait(ctx); err != nil {
		return safejs.Value{}, err
	}
	return out, nil
}

func (s *Store) put(ctx context.Context, store, key string, v any) error {
	t, err := s.begin("readwrite", store)
	if err != nil {
		return err
	}
	t.request(t.store(store), "put", []any{v, key}, nil)
	return t.wait(ctx)
}

// SnapshotProgress implements synclog.Store.
func (s *Store) SnapshotProgress(ctx context.Context, feed string) (at, next uint64, err error) {
	v, err := s.get(ctx, storeMeta, snapPrefix+feed)
	if err != nil {
		return 0, 0, fmt.Errorf("idb: read snapshot progress: %w", err)
	}
	if v.IsUndefined() || v.IsNull() {
		return 0, 0, nil
	}
	a, _ := v.Index(0)
	n, _ := v.Index(1)
	return number(a), number(n), nil
}

// SetSnapshotProgress implements synclog.Store.
func (s *Store) SetSnapshotProgress(ctx context.Context, feed string, at, next uint64) error {
	if err := s.put(ctx, storeMeta, snapPrefix+feed, []any{float64(at), float64(next)}); err != nil {
		return fmt.Errorf("idb: save snapshot progress: %w", err)
	}
	return nil
}
