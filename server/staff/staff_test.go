package staff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/oplog"
)

// clock is a test clock the registry reads.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newRegistry(t *testing.T) (*Registry, *clock) {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	r := New(l)
	r.Now = c.now
	return r, c
}

var yamada = admin.Staff{ID: "yamada", Name: "防災課 山田", Role: admin.DeviceOfficer, Facility: "shelter-daishoji"}

func TestAddRefusals(t *testing.T) {
	r, _ := newRegistry(t)
	if _, _, err := r.Add(yamada); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    admin.Staff
		want error
	}{
		{"the same id", yamada, ErrTaken},
		{"an id with capitals", admin.Staff{ID: "Yamada", Name: "山田", Role: admin.Auditor}, admin.ErrInvalid},
		{"no name", admin.Staff{ID: "tanaka", Role: admin.Auditor}, admin.ErrInvalid},
		{"no such role", admin.Staff{ID: "tanaka", Name: "田中", Role: "root"}, admin.ErrInvalid},
		{"an auditor of one facility", admin.Staff{ID: "tanaka", Name: "田中", Role: admin.Auditor, Facility: "kaga-medical"}, admin.ErrInvalid},
	} {
		if _, _, err := r.Add(tc.s); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestSignIn(t *testing.T) {
	r, c := newRegistry(t)
	s, password, err := r.Add(yamada)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5}$`).MatchString(password) {
		t.Fatalf("password %q", password)
	}
	for _, tc := range []struct{ id, password string }{{"yamada", "kaga2026"}, {"nobody", password}, {"yamada", ""}} {
		if _, err := signIn(r, tc.id, tc.password); !errors.Is(err, ErrSignIn) {
			t.Errorf("sign in as %q with %q: %v, want ErrSignIn", tc.id, tc.password, err)
		}
	}
	c.t = c.t.Add(time.Minute) // past the address's back-off
	sess, err := signIn(r, "yamada", password)
	if err != nil || sess.Staff != s || sess.Token == "" {
		t.Fatalf("sign in: %+v, %v", sess, err)
	}
	if got, err := r.Session(sess.Token); err != nil || got != s {
		t.Fatalf("session: %+v, %v", got, err)
	}
	if _, err := r.Session(sess.Token + "x"); !errors.Is(err, ErrSession) {
		t.Fatalf("a made-up token: %v", err)
	}
	c.t = c.t.Add(SessionFor + time.Minute)
	if _, err := r.Session(sess.Token); !errors.Is(err, ErrSession) {
		t.Fatalf("after a working day: %v", err)
	}
	sess, _ = signIn(r, "yamada", password)
	r.SignOut(sess.Token)
	if _, err := r.Session(sess.Token); !errors.Is(err, ErrSession) {
		t.Fatalf("signed out: %v", err)
	}
}

// signIn signs in from one address, as most tests need.
func signIn(r *Registry, id, password string) (admin.Session, error) {
	return r.SignIn(context.Background(), id, password, "192.0.2.1")
}

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		n     int
		limit time.Duration
		want  time.Duration
	}{
		{0, MaxAccountDelay, 0}, {FreeTries - 1, MaxAccountDelay, 0}, {FreeTries, MaxAccountDelay, time.Second},
		{FreeTries + 1, MaxAccountDelay, 2 * time.Second}, {FreeTries + 4, MaxAccountDelay, 16 * time.Second},
		{FreeTries + 5, MaxAccountDelay, MaxAccountDelay}, {FreeTries + 9, MaxAddressDelay, 512 * time.Second},
		{FreeTries + 10, MaxAddressDelay, MaxAddressDelay}, {1000, MaxAddressDelay, MaxAddressDelay},
	} {
		if got := delay(tc.n, tc.limit); got != tc.want {
			t.Errorf("delay(%d, %s) = %s, want %s", tc.n, tc.limit, got, tc.want)
		}
	}
}

// TestBackoff: wrong passwords from one address make that address wait
// (refused, the right password too, with the answer of every failure);
// the account's holder at another address is held for the account's
// short delay and then signed in; an unknown id is counted as a known
// one is; nothing locks.
func TestBackoff(t *testing.T) {
	r, c := newRegistry(t)
	_, password, _ := r.Add(yamada)
	ctx := context.Background()
	const stranger, holder = "203.0.113.9", "192.0.2.7"
	for i := range FreeTries {
		if _, err := r.SignIn(ctx, "yamada", "wrong", stranger); !errors.Is(err, ErrSignIn) {
			t.Fatalf("wrong password %d: %v", i+1, err)
		}
		r.SignIn(ctx, "nobody", "wrong", holder+"0")
	}
	if _, err := r.SignIn(ctx, "yamada", password, stranger); !errors.Is(err, ErrSignIn) {
		t.Fatalf("the right password from the address in back-off: %v, want ErrSignIn", err)
	}
	known, knownAcct := r.backoff.wait("yamada", stranger, c.t)
	_, unknownAcct := r.backoff.wait("nobody", holder+"0", c.t)
	if known != time.Second || knownAcct != time.Second || unknownAcct != knownAcct {
		t.Fatalf("waits: address %s, account %s, unknown account %s", known, knownAcct, unknownAcct)
	}
	start := time.Now()
	if _, err := r.SignIn(ctx, "yamada", password, holder); err != nil {
		t.Fatalf("the holder at another address: %v", err)
	}
	if held := time.Since(start); held < 900*time.Millisecond || held > MaxAccountDelay {
		t.Fatalf("the holder was held %s, want the account's delay (1s)", held)
	}
	// A held sign-in whose caller goes away is refused, not kept.
	for i := range FreeTries {
		r.SignIn(ctx, "yamada", "wrong", fmt.Sprintf("198.51.100.%d", i))
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.SignIn(gone, "yamada", password, holder); !errors.Is(err, ErrSignIn) {
		t.Fatalf("a held sign-in whose caller left: %v", err)
	}
	c.t = c.t.Add(MaxAddressDelay)
	if _, err := r.SignIn(ctx, "yamada", password, stranger); err != nil {
		t.Fatalf("after the address's delay: %v", err)
	}
	// Ids that cannot exist are counted against the address only.
	if _, err := r.SignIn(ctx, "Yamada\n\tadmin", "x", "192.0.2.99"); !errors.Is(err, ErrSignIn) {
		t.Fatalf("a malformed id: %v", err)
	}
	if len(r.backoff.accounts) > 2 {
		t.Fatalf("accounts counted: %v", r.backoff.accounts)
	}
}

// TestHashingCap: a flood of concurrent sign-ins never hashes more than
// the cap at once; beyond the queue, the answer is ErrBusy at once.
func TestHashingCap(t *testing.T) {
	r, _ := newRegistry(t)
	r.hashing = newHashGate(2)
	const flood = 32
	errs := make(chan error, flood)
	for i := range flood {
		go func() {
			_, err := r.SignIn(context.Background(), fmt.Sprintf("user%d", i), "wrong", fmt.Sprintf("192.0.2.%d", i))
			errs <- err
		}()
	}
	busy := 0
	for range flood {
		err := <-errs
		switch {
		case errors.Is(err, ErrBusy):
			busy++
		case !errors.Is(err, ErrSignIn):
			t.Fatalf("sign-in: %v", err)
		}
	}
	if peak := r.HashingPeak(); peak > 2 || peak == 0 {
		t.Fatalf("%d hashes ran at once, cap 2", peak)
	}
	if busy < flood-2-MaxHashQueue-4 {
		t.Fatalf("%d of %d were told busy; want about %d", busy, flood, flood-2-MaxHashQueue)
	}
}

// TestRevokeAndReset: a revoked account's session ends at once and it
// cannot sign in; a reset password replaces the old one and ends the
// sessions signed in with it.
func TestRevokeAndReset(t *testing.T) {
	r, _ := newRegistry(t)
	_, old, _ := r.Add(yamada)
	sess, _ := signIn(r, "yamada", old)
	fresh, err := r.Reset("yamada")
	if err != nil || fresh == old {
		t.Fatalf("reset: %q, %v", fresh, err)
	}
	if _, err := r.Session(sess.Token); !errors.Is(err, ErrSession) {
		t.Fatalf("a session from before the reset: %v", err)
	}
	if _, err := signIn(r, "yamada", old); !errors.Is(err, ErrSignIn) {
		t.Fatalf("the old password: %v", err)
	}
	sess, err = signIn(r, "yamada", fresh)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Revoke("yamada")
	if err != nil || s.Revoked.IsZero() {
		t.Fatalf("revoke: %+v, %v", s, err)
	}
	if _, err := r.Session(sess.Token); !errors.Is(err, ErrSession) {
		t.Fatalf("a session of a revoked account: %v", err)
	}
	if _, err := signIn(r, "yamada", fresh); !errors.Is(err, ErrSignIn) {
		t.Fatalf("a revoked account signs in: %v", err)
	}
	if _, err := r.Revoke("nobody"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("revoke an unknown id: %v", err)
	}
	list, err := r.List()
	if err != nil || len(list) != 1 || list[0].Revoked.IsZero() {
		t.Fatalf("list: %+v, %v", list, err)
	}
}
