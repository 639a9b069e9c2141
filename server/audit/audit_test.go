package audit

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/store"
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
		tamper func(tx store.Tx) error
		want   string
	}{
		{"an edited entry", func(tx store.Tx) error {
			v, _ := tx.Get(kind, id(2))
			var e Entry
			json.Unmarshal(v, &e)
			e.Detail = "nothing happened"
			b, _ := json.Marshal(e)
			return tx.Put(kind, id(2), b)
		}, "entry 2 was changed"},
		{"a removed entry", func(tx store.Tx) error { return tx.Delete(kind, id(2)) }, "entry 2 is missing"},
		{"a rewritten tail", func(tx store.Tx) error {
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

// TestAbout: a subject's entries come back through the index, oldest
// first, and only theirs; a log written before the index existed is
// indexed at the first read; an edited entry is refused.
func TestAbout(t *testing.T) {
	a, l := newLog(t)
	about := func(subject string) ([]string, error) {
		var got []string
		err := a.About(subject, func(e Entry) { got = append(got, e.Detail) })
		return got, err
	}
	for i, s := range []string{"R-1", "R-2", "R-1", "", "R-10", "R-1"} {
		if _, err := a.Append("tab", "face.identified", s, string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := about("R-1"); err != nil || strings.Join(got, "") != "acf" {
		t.Fatalf("R-1: %q, %v", got, err)
	}

	// As if the entries were written before the index: drop it, and
	// open the log afresh (a server started on an older store).
	err := l.Update(func(tx store.Tx) error {
		for _, s := range []string{"R-1", "R-2", "R-10"} {
			var ids []string
			tx.Each(bySubject(s), func(id string, _ []byte) error { ids = append(ids, id); return nil })
			for _, id := range ids {
				if err := tx.Delete(bySubject(s), id); err != nil {
					return err
				}
			}
		}
		return tx.Delete(kindIndexed, "upto")
	})
	if err != nil {
		t.Fatal(err)
	}
	a = New(l)
	a.Append("tab", "face.identified", "R-2", "g") // not indexed yet: not contiguous
	if got, err := about("R-2"); err != nil || strings.Join(got, "") != "bg" {
		t.Fatalf("R-2 after catching up: %q, %v", got, err)
	}
	a.Append("tab", "face.identified", "R-10", "h") // indexed at once now
	if got, err := about("R-10"); err != nil || strings.Join(got, "") != "eh" {
		t.Fatalf("R-10: %q, %v", got, err)
	}

	// Someone edits one of R-1's entries.
	err = l.Update(func(tx store.Tx) error {
		v, err := tx.Get(kind, id(3))
		if err != nil {
			return err
		}
		var e Entry
		json.Unmarshal(v, &e)
		e.Detail = "z"
		b, _ := json.Marshal(e)
		return tx.Put(kind, id(3), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := about("R-1"); !errors.Is(err, ErrBroken) {
		t.Fatalf("an edited entry: %v", err)
	}
}

// TestLatest: a device's newest session, through the index, not another
// device's and not another action of its own.
func TestLatest(t *testing.T) {
	a, _ := newLog(t)
	for _, e := range [][3]string{
		{"tab-1", "sync.session", "first"}, {"tab-2", "sync.session", "other"},
		{"tab-1", "sync.session", "second"}, {"tab-1", "sync.refused", "later"},
	} {
		if _, err := a.Append(e[0], e[1], "shelter-daishoji", e[2]); err != nil {
			t.Fatal(err)
		}
	}
	if e, ok, err := a.Latest("tab-1", "sync.session"); err != nil || !ok || e.Detail != "second" {
		t.Fatalf("tab-1's last session: %+v %v %v", e, ok, err)
	}
	if _, ok, err := a.Latest("tab-3", "sync.session"); err != nil || ok {
		t.Fatalf("a device with no session: %v %v", ok, err)
	}
}
