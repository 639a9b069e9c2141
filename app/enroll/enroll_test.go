package enroll

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"smartpass.city/smartpass/syncproto"
)

type memKeys struct{ priv ed25519.PrivateKey }

func (k *memKeys) Generate(context.Context) ([]byte, error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	k.priv = priv
	return pub, err
}

type memStore struct{ saved []Enrollment }

func (s *memStore) SaveEnrollment(_ context.Context, e Enrollment) error {
	s.saved = append(s.saved, e)
	return nil
}

func TestEnroll(t *testing.T) {
	var got syncproto.RegisterRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		if got.Code != "ABCD-1234" {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(syncproto.Error{Code: "bad_code", Message: "no"})
			return
		}
		json.NewEncoder(w).Encode(syncproto.RegisterResponse{Device: got.Device, Facility: "shelter-a", Role: "shelter"})
	}))
	defer srv.Close()
	ctx := context.Background()
	keys, store := &memKeys{}, &memStore{}
	register := func(ctx context.Context, req syncproto.RegisterRequest) (syncproto.RegisterResponse, error) {
		return syncproto.Register(ctx, srv.Client(), srv.URL, req)
	}

	e, err := Enroll(ctx, register, "pwa-1", " ABCD-1234 ", "受付1", keys, store)
	if err != nil {
		t.Fatal(err)
	}
	if e.Facility != "shelter-a" || e.Role != "shelter" || len(store.saved) != 1 {
		t.Fatalf("Enroll = %+v, saved %+v", e, store.saved)
	}
	if !ed25519.PublicKey(got.PublicKey).Equal(keys.priv.Public()) || got.Name != "受付1" {
		t.Fatalf("the server got key %x name %q, not the device's", got.PublicKey, got.Name)
	}

	_, err = Enroll(ctx, register, "pwa-1", "WRONG", "", keys, store)
	var ef *syncproto.Error
	if !errors.As(err, &ef) || ef.Code != "bad_code" {
		t.Fatalf("wrong code: %v, want the server's refusal", err)
	}
	if _, err := Enroll(ctx, register, "pwa-1", "  ", "", keys, store); !errors.Is(err, ErrNoCode) {
		t.Fatalf("empty code: %v, want ErrNoCode", err)
	}
	if len(store.saved) != 1 {
		t.Fatalf("a refused enrollment was saved: %+v", store.saved)
	}
}
