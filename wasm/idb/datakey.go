//go:build js && wasm

package idb

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/wasm/jsbytes"
	"smartpass.city/smartpass/wasm/promise"
	"smartpass.city/smartpass/wasm/webcrypto"
)

// keyRecords names, in storeKeys, the records' data key as kept at rest:
// {kek: a non-extractable AES-GCM CryptoKey, iv, wrapped: the data key
// encrypted with kek}.
const keyRecords = "records"

// errDataKey wraps every failure to make or unwrap the data key: without
// it the device cannot read its own records.
var errDataKey = errors.New("idb: the records' key is unavailable")

// dataKey returns the key op records are sealed with, made on first use.
// Two tabs opening at once may each make one; the first stored wins and
// both use it.
func (s *Store) dataKey(ctx context.Context) ([]byte, error) {
	stored, err := s.get(ctx, storeKeys, keyRecords)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDataKey, err)
	}
	if stored.IsUndefined() || stored.IsNull() {
		fresh, err := newWrappedKey(ctx)
		if err != nil {
			return nil, err
		}
		t, err := s.begin("readwrite", storeKeys)
		if err != nil {
			return nil, err
		}
		keys := t.store(storeKeys)
		t.request(keys, "get", []any{keyRecords}, func(v safejs.Value) {
			if v.IsUndefined() || v.IsNull() {
				stored = fresh
				t.request(keys, "put", []any{fresh, keyRecords}, nil)
				return
			}
			stored = v
		})
		if err := t.wait(ctx); err != nil {
			return nil, fmt.Errorf("%w: save: %v", errDataKey, err)
		}
	}
	return unwrapKey(ctx, stored)
}

// newWrappedKey makes a random data key and its wrapping key, and
// returns the object to store.
func newWrappedKey(ctx context.Context) (safejs.Value, error) {
	sub, err := webcrypto.Subtle()
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w: %v", errDataKey, err)
	}
	p, err := sub.Call("generateKey", map[string]any{"name": "AES-GCM", "length": 256}, false, []any{"encrypt", "decrypt"})
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w: %v", errDataKey, err)
	}
	kek, err := promise.Await(ctx, p)
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w: %v", errDataKey, err)
	}
	key, iv := make([]byte, 32), make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	jsKey, err := jsbytes.ToJS(key)
	if err != nil {
		return safejs.Value{}, err
	}
	jsIV, err := jsbytes.ToJS(iv)
	if err != nil {
		return safejs.Value{}, err
	}
	p, err = sub.Call("encrypt", map[string]any{"name": "AES-GCM", "iv": jsIV}, kek, jsKey)
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w: %v", errDataKey, err)
	}
	wrapped, err := promise.Await(ctx, p)
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w: %v", errDataKey, err)
	}
	ctor, err := safejs.Global().Get("Object")
	if err != nil {
		return safejs.Value{}, err
	}
	obj, err := ctor.New()
	if err != nil {
		return safejs.Value{}, err
	}
	for k, v := range map[string]safejs.Value{"kek": kek, "iv": jsIV, "wrapped": wrapped} {
		if err := obj.Set(k, v); err != nil {
			return safejs.Value{}, err
		}
	}
	return obj, nil
}

// unwrapKey decrypts the stored data key.
func unwrapKey(ctx context.Context, stored safejs.Value) ([]byte, error) {
	sub, err := webcrypto.Subtle()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDataKey, err)
	}
	kek, _ := stored.Get("kek")
	iv, _ := stored.Get("iv")
	wrapped, _ := stored.Get("wrapped")
	p, err := sub.Call("decrypt", map[string]any{"name": "AES-GCM", "iv": iv}, kek, wrapped)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDataKey, err)
	}
	raw, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDataKey, err)
	}
	return jsbytes.ToGo(raw)
}
