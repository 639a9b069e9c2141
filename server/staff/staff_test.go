package staff

import (
	"errors"
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
		if _, err := r.SignIn(tc.id, tc.password); !errors.Is(err, ErrSignIn) {
			t.Errorf("sign in as %q with %q: %v, want ErrSignIn", tc.id, tc.password, err)
		}
	}
	sess, err := r.SignIn("yamada", password)
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
	sess, _ = r.SignIn("yamada", password)
	r.SignOut(sess.Token)
	if _, err := r.Session(sess.Token); !errors.Is(err, ErrSession) {
		t.Fatalf("signed out: %v", err)
	}
}

// TestLock: five wrong passwords lock the account, even against the right
// one, until the lock ends; the right password then works and the count
// starts again.
func TestLock(t *testing.T) {
	r, c := newRegistry(t)
	_, password, _ := r.Add(yamada)
	r.SignIn("yamada", "wrong") // two wrong, then right: the count resets
	r.SignIn("yamada", "wrong")
	if _, err := r.SignIn("yamada", password); err != nil {
		t.Fatal(err)
	}
	for i := range MaxFailures {
		_, err := r.SignIn("yamada", "wrong")
		want := ErrSignIn
		if i == MaxFailures-1 {
			want = ErrLocked
		}
		if !errors.Is(err, want) {
			t.Fatalf("wrong password %d: %v, want %v", i+1, err, want)
		}
	}
	if _, err := r.SignIn("yamada", password); !errors.Is(err, ErrLocked) {
		t.Fatalf("the right password while locked: %v", err)
	}
	c.t = c.t.Add(LockFor + time.Second)
	if _, err := r.SignIn("yamada", password); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// TestRevokeAndReset: a revoked account's session ends at once and it
// cannot sign in; a reset password replaces the old one and ends the
// sessions signed in with it.
func TestRevokeAndReset(t *testing.T) {
	r, _ := newRegistry(t)
	_, old, _ := r.Add(yamada)
	sess, _ := r.SignIn("yamada", old)
	fresh, err := r.Reset("yamada")
	if err != nil || fresh == old {
		t.Fatalf("reset: %q, %v", fresh, err)
	}
	if _, err := r.Session(sess.Token); !errors.Is(err, ErrSession) {
		t.Fatalf("a session from before the reset: %v", err)
	}
	if _, err := r.SignIn("yamada", old); !errors.Is(err, ErrSignIn) {
		t.Fatalf("the old password: %v", err)
	}
	sess, err = r.SignIn("yamada", fresh)
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
	if _, err := r.SignIn("yamada", fresh); !errors.Is(err, ErrSignIn) {
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
