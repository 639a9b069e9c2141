//go:build js && wasm

package idb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"smartpass.city/smartpass/wasm/jsbytes"
)

// tillPrefix names, in storeMeta, the values a shop's terminal keeps
// about offline payments (checkout.Store): what each payer spent here
// offline today.
const tillPrefix = "till:"

// Till is the shop terminal's checkout.Store in this database. Its keys
// name a payer's wallet, so each is stored as a hash, and each value is
// sealed with the device's data key, bound to its key: personal data is
// encrypted at rest like the op log. Each Save is one IndexedDB
// transaction, done when it returns.
type Till struct {
	s   *Store
	ctx context.Context
}

// Till returns the checkout store over s; ctx bounds each call.
func (s *Store) Till(ctx context.Context) Till { return Till{s: s, ctx: ctx} }

// tillKey is the stored key of key: a hash, which names no wallet.
func tillKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return tillPrefix + hex.EncodeToString(h[:])
}

// Load implements checkout.Store: nil, nil when absent.
func (t Till) Load(key string) ([]byte, error) {
	v, err := t.s.get(t.ctx, storeMeta, tillKey(key))
	if err != nil {
		return nil, fmt.Errorf("idb: read till: %w", err)
	}
	if v.IsUndefined() || v.IsNull() {
		return nil, nil
	}
	rec, err := jsbytes.ToGo(v)
	if err != nil {
		return nil, fmt.Errorf("idb: read till: %w", err)
	}
	aead, n := t.s.seal.aead, t.s.seal.aead.NonceSize()
	if len(rec) < n+aead.Overhead() {
		return nil, fmt.Errorf("idb: read till: %w: %d bytes", errDamaged, len(rec))
	}
	plain, err := aead.Open(nil, rec[:n], rec[n:], []byte(tillKey(key)))
	if err != nil {
		return nil, fmt.Errorf("idb: read till: %w: %v", errDamaged, err)
	}
	return plain, nil
}

// Save implements checkout.Store: durable when it returns (the
// transaction committed).
func (t Till) Save(key string, value []byte) error {
	aead := t.s.seal.aead
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(value)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("idb: save till: %w", err)
	}
	rec := aead.Seal(nonce, nonce, value, []byte(tillKey(key)))
	v, err := jsbytes.ToJS(rec)
	if err != nil {
		return fmt.Errorf("idb: save till: %w", err)
	}
	if err := t.s.put(t.ctx, storeMeta, tillKey(key), v); err != nil {
		return fmt.Errorf("idb: save till: %w", err)
	}
	return nil
}
