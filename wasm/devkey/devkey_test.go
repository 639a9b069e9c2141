//go:build js && wasm

package devkey

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"smartpass.city/smartpass/wasm/idb"
	"smartpass.city/smartpass/wasm/promise"
)

func TestKeys(t *testing.T) {
	ctx := context.Background()
	store, err := idb.Open(ctx, "devkey-test")
	if err != nil {
		t.Fatal(err)
	}
	keys := New(store)
	if _, err := keys.Sign(ctx, []byte("x")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Sign before any key: %v, want ErrNoKey", err)
	}
	pub, err := keys.Generate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key of %d bytes", len(pub))
	}
	msg := []byte("smartpass challenge")
	sig, err := keys.Sign(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	// WebCrypto's signature verifies with Go's Ed25519: the server's check.
	if !ed25519.Verify(pub, msg, sig) {
		t.Fatal("WebCrypto signature does not verify with crypto/ed25519")
	}

	// After a reload (a new Keys over a reopened database) the same key
	// signs.
	store.Close()
	store, err = idb.Open(ctx, "devkey-test")
	if err != nil {
		t.Fatal(err)
	}
	sig, err = New(store).Sign(ctx, msg)
	if err != nil || !ed25519.Verify(pub, msg, sig) {
		t.Fatalf("after reopen: %v", err)
	}
	if got, err := New(store).Public(ctx); err != nil || !bytes.Equal(got, pub) {
		t.Fatalf("Public after reopen = %x, %v; want %x", got, err, pub)
	}
	// A resident account's pair is kept apart from the device's.
	acct := New(store.Keys("account"))
	if _, err := acct.Public(ctx); !errors.Is(err, ErrNoKey) {
		t.Fatalf("account key before any: %v, want ErrNoKey", err)
	}
	apub, err := acct.Generate(ctx)
	if err != nil || bytes.Equal(apub, pub) {
		t.Fatalf("account key: %x, %v (the device's is %x)", apub, err, pub)
	}
	if got, _ := New(store).Public(ctx); !bytes.Equal(got, pub) {
		t.Fatal("making the account key replaced the device's")
	}

	// The private key cannot be exported, by us or by any script.
	pair, _ := store.KeyPair(ctx)
	priv, _ := pair.Get("privateKey")
	extractable, _ := priv.Get("extractable")
	if b, _ := extractable.Bool(); b {
		t.Fatal("the private key is extractable")
	}
	s, _ := subtle()
	p, err := s.Call("exportKey", "pkcs8", priv)
	if err == nil {
		_, err = promise.Await(ctx, p)
	}
	if err == nil {
		t.Fatal("exportKey(pkcs8) of the private key succeeded")
	}
}
