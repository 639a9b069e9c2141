package api

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
)

// recPassKey is the private record (id "current") of the key the server
// signs QR passes with: kept in the store, encrypted with it, so a
// restart does not invalidate every terminal's copy of the public key.
const recPassKey = "pass.key"

// passKey returns the server's pass signing key, made on first start,
// and publishes its public half on the public feed for terminals to
// check passes offline.
func passKey(ctx context.Context, log store.Store, pub *publish.Writer) (ed25519.PrivateKey, error) {
	var seed []byte
	if err := log.View(func(tx store.Tx) error {
		b, err := tx.Get(recPassKey, "current")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		seed = b
		return err
	}); err != nil {
		return nil, fmt.Errorf("pass key: %w", err)
	}
	var key ed25519.PrivateKey
	if len(seed) == ed25519.SeedSize {
		key = ed25519.NewKeyFromSeed(seed)
	} else {
		_, k, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, fmt.Errorf("pass key: %w", err)
		}
		if err := log.Update(func(tx store.Tx) error { return tx.Put(recPassKey, "current", k.Seed()) }); err != nil {
			return nil, fmt.Errorf("pass key: save: %w", err)
		}
		key = k
	}
	body, err := json.Marshal(pass.Keys{Keys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}})
	if err == nil {
		_, err = pub.Publish(ctx, pass.OpKeys, body)
	}
	if err != nil {
		return nil, fmt.Errorf("pass key: publish: %w", err)
	}
	return key, nil
}

// pass serves account.PassPath: the holder asks for a QR pass for
// themselves or a family member. Issuing is audited with the resident;
// the pass itself is not kept.
func (a *accounts) pass(ctx context.Context, holder account.Account, p account.Person) (account.Pass, string, error) {
	if err := a.reg.InHousehold(holder.ID, p.Resident); err != nil {
		return account.Pass{}, "", err
	}
	text, issued, err := pass.Issue(a.passKey, p.Resident, time.Now())
	if err != nil {
		return account.Pass{}, "", err
	}
	return account.Pass{Text: text, Expires: issued.Expires()}, p.Resident, nil
}
