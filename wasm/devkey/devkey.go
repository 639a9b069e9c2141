//go:build js && wasm

// Package devkey keeps the device's Ed25519 key pair in the browser's
// WebCrypto. The private key is generated non-extractable: the browser
// signs with it but gives no script, ours included, its bytes. The pair is
// stored in IndexedDB as CryptoKey objects, which survive reloads as they
// are.
package devkey

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"

	"smartpass.city/smartpass/wasm/jsbytes"
	"smartpass.city/smartpass/wasm/promise"
	"smartpass.city/smartpass/wasm/webcrypto"
)

// Errors of Keys. Use errors.Is.
var (
	// ErrNoKey: the device has not been enrolled (no key generated yet).
	ErrNoKey = errors.New("devkey: this device has no key yet; enroll it first")
	// ErrUnsupported: the browser's WebCrypto has no Ed25519.
	ErrUnsupported = errors.New("devkey: this browser cannot make Ed25519 keys")
)

// Store keeps the key pair (wasm/idb).
type Store interface {
	KeyPair(ctx context.Context) (safejs.Value, error)
	PutKeyPair(ctx context.Context, pair safejs.Value) error
}

// Keys is the device's key pair: enroll.Keys and syncproto.Signer.
type Keys struct {
	store Store

	mu   sync.Mutex
	pair safejs.Value // loaded lazily; undefined until then
}

// New returns the keys kept in store.
func New(store Store) *Keys { return &Keys{store: store, pair: safejs.Undefined()} }

var algorithm = map[string]any{"name": "Ed25519"}

// subtle returns the page's WebCrypto, or ErrUnsupported.
func subtle() (safejs.Value, error) {
	s, err := webcrypto.Subtle()
	if err != nil {
		return s, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return s, nil
}

// Generate makes a new key pair, stores it, and returns the raw public
// key. It replaces the earlier pair, which a re-enrollment retires.
func (k *Keys) Generate(ctx context.Context) ([]byte, error) {
	s, err := subtle()
	if err != nil {
		return nil, err
	}
	p, err := s.Call("generateKey", algorithm, false, []any{"sign", "verify"})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	pair, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	raw, err := exportPublic(ctx, pair)
	if err != nil {
		return nil, err
	}
	if err := k.store.PutKeyPair(ctx, pair); err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.pair = pair
	k.mu.Unlock()
	return raw, nil
}

// exportPublic returns the raw public key of a CryptoKeyPair.
func exportPublic(ctx context.Context, pair safejs.Value) ([]byte, error) {
	s, err := subtle()
	if err != nil {
		return nil, err
	}
	pub, err := pair.Get("publicKey")
	if err != nil {
		return nil, fmt.Errorf("devkey: public key: %w", err)
	}
	p, err := s.Call("exportKey", "raw", pub)
	if err != nil {
		return nil, fmt.Errorf("devkey: export public key: %w", err)
	}
	raw, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("devkey: export public key: %w", err)
	}
	return jsbytes.ToGo(raw)
}

// load returns the key pair, read from the store the first time.
func (k *Keys) load(ctx context.Context) (safejs.Value, error) {
	k.mu.Lock()
	pair := k.pair
	k.mu.Unlock()
	if !pair.IsUndefined() {
		return pair, nil
	}
	pair, err := k.store.KeyPair(ctx)
	if err != nil {
		return pair, err
	}
	if pair.IsUndefined() || pair.IsNull() {
		return pair, ErrNoKey
	}
	k.mu.Lock()
	k.pair = pair
	k.mu.Unlock()
	return pair, nil
}

// Public returns the stored pair's raw public key, or ErrNoKey.
func (k *Keys) Public(ctx context.Context) ([]byte, error) {
	pair, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	return exportPublic(ctx, pair)
}

// Sign implements syncproto.Signer.
func (k *Keys) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	pair, err := k.load(ctx)
	if err != nil {
		return nil, err
	}
	s, err := subtle()
	if err != nil {
		return nil, err
	}
	priv, err := pair.Get("privateKey")
	if err != nil {
		return nil, fmt.Errorf("devkey: sign: %w", err)
	}
	data, err := jsbytes.ToJS(msg)
	if err != nil {
		return nil, fmt.Errorf("devkey: sign: %w", err)
	}
	p, err := s.Call("sign", algorithm, priv, data)
	if err != nil {
		return nil, fmt.Errorf("devkey: sign: %w", err)
	}
	sig, err := promise.Await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("devkey: sign: %w", err)
	}
	return jsbytes.ToGo(sig)
}
