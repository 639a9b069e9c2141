package devices

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

func newRegistry(t *testing.T) *Registry {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	fac := func() (map[string]facility.Facility, error) {
		out := make(map[string]facility.Facility)
		for _, f := range facility.Demo() {
			out[f.ID] = f
		}
		return out, nil
	}
	return New(l, fac)
}

func request(code, id string) (syncproto.RegisterRequest, ed25519.PrivateKey) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	return syncproto.RegisterRequest{Code: code, Device: id, PublicKey: pub, Name: "受付1"}, priv
}

func TestRegisterAndLookup(t *testing.T) {
	r := newRegistry(t)
	code, err := r.Issue("shelter-daishoji", scope.Shelter, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 9 || code[4] != '-' {
		t.Fatalf("code %q, want XXXX-XXXX", code)
	}
	req, _ := request(code, "tab-1")
	d, err := r.Register(req)
	if err != nil {
		t.Fatal(err)
	}
	if d.Facility != "shelter-daishoji" || d.Role != scope.Shelter {
		t.Fatalf("registered as %+v", d)
	}
	key, dev, err := r.Lookup("tab-1")
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(ed25519.PublicKey(req.PublicKey)) || dev.Facility.ID != "shelter-daishoji" || dev.Role != scope.Shelter {
		t.Fatalf("Lookup = %x %+v", key, dev)
	}
	// The code is spent.
	again, _ := request(code, "tab-2")
	if _, err := r.Register(again); !errors.Is(err, ErrBadCode) {
		t.Fatalf("second use of a code: %v, want ErrBadCode", err)
	}
	// Revocation is seen by the next lookup.
	if _, err := r.Revoke("tab-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Lookup("tab-1"); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Lookup after revoke: %v, want ErrRevoked", err)
	}
	list, err := r.List()
	if err != nil || len(list) != 1 || list[0].Revoked.IsZero() {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// A new code brings the revoked device back, with its new key.
	code, _ = r.Issue("shelter-yamashiro", scope.Shelter, time.Hour)
	back, _ := request(code, "tab-1")
	if _, err := r.Register(back); err != nil {
		t.Fatalf("re-enrolling a revoked device: %v", err)
	}
	if key, dev, err := r.Lookup("tab-1"); err != nil || !key.Equal(ed25519.PublicKey(back.PublicKey)) || dev.Facility.ID != "shelter-yamashiro" {
		t.Fatalf("after re-enrollment: %x %+v %v", key, dev, err)
	}
	if _, _, err := r.Lookup("nobody"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Lookup(nobody) = %v, want ErrUnknown", err)
	}
	if _, err := r.Revoke("nobody"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Revoke(nobody) = %v, want ErrUnknown", err)
	}
}

func TestRegisterRefuses(t *testing.T) {
	r := newRegistry(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return now }
	issue := func() string {
		c, err := r.Issue("kaga-hq", scope.HQ, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	taken, _ := request(issue(), "taken")
	if _, err := r.Register(taken); err != nil {
		t.Fatal(err)
	}
	expired := issue()
	tests := []struct {
		name   string
		req    func() syncproto.RegisterRequest
		before func()
		want   error
	}{
		{"unknown code", func() syncproto.RegisterRequest { q, _ := request("AAAA-AAAA", "d1"); return q }, nil, ErrBadCode},
		{"expired code", func() syncproto.RegisterRequest { q, _ := request(expired, "d2"); return q }, func() { now = now.Add(2 * time.Hour) }, ErrBadCode},
		{"id taken", func() syncproto.RegisterRequest { q, _ := request(issue(), "taken"); return q }, nil, ErrTaken},
		{"bad id", func() syncproto.RegisterRequest { q, _ := request(issue(), "a/b"); return q }, nil, ErrBadRequest},
		{"the server's own id", func() syncproto.RegisterRequest { q, _ := request(issue(), "server"); return q }, nil, ErrBadRequest},
		{"short key", func() syncproto.RegisterRequest {
			q, _ := request(issue(), "d3")
			q.PublicKey = q.PublicKey[:16]
			return q
		}, nil, ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			if _, err := r.Register(tt.req()); !errors.Is(err, tt.want) {
				t.Fatalf("Register = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCodeAsPeopleTypeIt(t *testing.T) {
	r := newRegistry(t)
	code, err := r.Issue("kaga-playpark", scope.PlayPark, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	typed := " " + strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(code, "0", "o"), "1", "l")) + " "
	req, _ := request(typed, "park-1")
	if _, err := r.Register(req); err != nil {
		t.Fatalf("code typed as %q: %v", typed, err)
	}
}

func TestExpiredCodesAreForgotten(t *testing.T) {
	r := newRegistry(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return now }
	for range 5 {
		if _, err := r.Issue("kaga-playpark", scope.PlayPark, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Hour)
	if _, err := r.Issue("kaga-playpark", scope.PlayPark, time.Hour); err != nil {
		t.Fatal(err)
	}
	var stored int
	r.log.View(func(tx store.Tx) error {
		return tx.Each(kindCode, func(string, []byte) error { stored++; return nil })
	})
	if stored != 1 {
		t.Fatalf("%d codes stored; want the new one only", stored)
	}
}

func TestIssueRefuses(t *testing.T) {
	r := newRegistry(t)
	if _, err := r.Issue("nowhere", scope.Shelter, time.Hour); !errors.Is(err, ErrNoFacility) {
		t.Fatalf("Issue at unknown facility: %v", err)
	}
	if _, err := r.Issue("kaga-playpark", scope.Shelter, time.Hour); !errors.Is(err, scope.ErrForbidden) {
		t.Fatalf("Issue shelter role at play park: %v", err)
	}
}

func TestCodeWorksOnceUnderRace(t *testing.T) {
	r := newRegistry(t)
	code, err := r.Issue("shelter-yamashiro", scope.Shelter, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := request(code, "race-"+string(rune('a'+i)))
			if _, err := r.Register(req); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrBadCode) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d devices registered with one code, want 1", ok)
	}
}
