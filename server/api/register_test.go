package api

import (
	"sync"
	"testing"
	"time"
)

// TestClientKey: the addresses one client can pick from count as one
// (issue 16, finding 9a).
func TestClientKey(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"127.0.0.1:4000", "loopback"},
		{"127.0.0.2:4000", "loopback"},
		{"127.255.1.9:1", "loopback"},
		{"[::1]:4000", "loopback"},
		{"[::ffff:127.0.0.1]:4000", "loopback"},
		{"192.0.2.7:80", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:443", "fe80::/64"},
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
		{"not an address", "not an address"},
	} {
		if got := clientKey(c.remote); got != c.want {
			t.Errorf("clientKey(%q) = %q, want %q", c.remote, got, c.want)
		}
	}
}

// TestCodeBudget: concurrent tries cannot overshoot the budget, a try
// given back is free, and a spent budget comes back one try per refill.
func TestCodeBudget(t *testing.T) {
	now := time.Now()
	b := newCodeBudget(20, time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 50 {
		wg.Go(func() {
			if _, ok := b.take("c", now); ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != 20 {
		t.Fatalf("%d of 50 concurrent tries passed a budget of 20", passed)
	}
	wait, ok := b.take("c", now)
	if ok || wait != time.Minute {
		t.Fatalf("spent budget: take = %v, %v; want a minute's wait", wait, ok)
	}
	if _, ok := b.take("other", now); !ok {
		t.Fatal("another client shares the spent budget")
	}
	if _, ok := b.take("c", now.Add(time.Minute)); !ok {
		t.Fatal("no try back after one refill")
	}
	b.giveBack("c", now.Add(time.Minute))
	if _, ok := b.take("c", now.Add(time.Minute)); !ok {
		t.Fatal("a try given back cannot be used")
	}
	if _, ok := b.take("c", now.Add(time.Minute)); ok {
		t.Fatal("more tries than earned")
	}
}
