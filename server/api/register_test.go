package api

import (
	"sync"
	"testing"
	"time"
)

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
