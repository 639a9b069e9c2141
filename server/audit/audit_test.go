package audit

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"smartpass.city/smartpass/server/oplog"
)

func newLog(t *testing.T) (*Log, *oplog.Log) {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return New(l), l
}

func TestChain(t *testing.T) {
	a, _ := newLog(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Append("admin", "device.code", "shelter-daishoji", string(rune('a'+i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n, err := a.Verify(nil)
	if err != nil || n != 20 {
		t.Fatalf("Verify = %d, %v; want 20 entries, intact", n, err)
	}
}

func TestTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(tx *oplog.Tx) error
		want   string
	}{
		{"an edited entry", func(tx *oplog.Tx) error {
			v, _ := tx.Get(kind, id(2))
			var e Entry
			json.Unmarshal(v, &e)
			e.Detail = "nothing happened"
			b, _ := json.Marshal(e)
			return tx.Put(kind, id(2), b)
		}, "entry 2 was changed"},
		{"a removed entry", func(tx *oplog.Tx) error { return tx.Delete(kind, id(2)) }, "entry 2 is missing"},
		{"a rewritten tail", func(tx *oplog.Tx) error {
			// Rehash entry 3 after editing it: entry 4 no longer follows.
			v, _ := tx.Get(kind, id(3))
			var e Entry
			json.Unmarshal(v, &e)
			e.Actor = "someone else"
			e.Hash = hash(e)
			b, _ := json.Marshal(e)
			return tx.Put(kind, id(3), b)
		}, "entry 4 does not follow entry 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, l := newLog(t)
			for range 4 {
				a.Append("server", "backup", "", "")
			}
			if err := l.Update(tt.tamper); err != nil {
				t.Fatal(err)
			}
			_, err := a.Verify(nil)
			if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want ErrBroken saying %q", err, tt.want)
			}
		})
	}
}
