package kiosk

import (
	"errors"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	for _, bad := range []string{"", "123", "123456789", "12a4", "１２３４"} {
		if _, err := New(bad); !errors.Is(err, ErrPIN) {
			t.Errorf("New(%q) = %v, want ErrPIN", bad, err)
		}
	}
	l, err := New("2580")
	if err != nil {
		t.Fatal(err)
	}
	if !l.Opens("2580") || l.Opens("2581") || (Lock{}).Opens("2580") {
		t.Fatal("the lock opens wrongly")
	}
	other, _ := New("2580")
	if string(other.Hash) == string(l.Hash) {
		t.Fatal("two locks of one PIN share a hash: no salt")
	}
}

func TestGuard(t *testing.T) {
	l, _ := New("2580")
	var g Guard
	now := time.Now()
	for i := 1; i < MaxTries; i++ {
		if err := g.Try(l, "0000", now); !errors.Is(err, ErrWrong) {
			t.Fatalf("wrong PIN %d: %v", i, err)
		}
	}
	if err := g.Try(l, "0000", now); !errors.Is(err, ErrLocked) {
		t.Fatalf("wrong PIN %d: %v, want ErrLocked", MaxTries, err)
	}
	if err := g.Try(l, "2580", now.Add(Wait/2)); !errors.Is(err, ErrLocked) {
		t.Fatalf("the right PIN while locked: %v, want ErrLocked", err)
	}
	if err := g.Try(l, "2580", now.Add(Wait)); err != nil {
		t.Fatalf("the right PIN after the wait: %v", err)
	}
}
