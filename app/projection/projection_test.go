package projection

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/syncproto"
)

// memLog is a Source over ops in memory that counts its reads.
type memLog struct {
	mu    sync.Mutex
	ops   map[opKey]syncproto.Op
	reads int
	fail  error // the next read fails with it

	watch, watchOps []any
}

func (m *memLog) Ops(context.Context) ([]syncproto.Op, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if err := m.fail; err != nil {
		m.fail = nil
		return nil, err
	}
	out := make([]syncproto.Op, 0, len(m.ops))
	for _, op := range m.ops {
		out = append(out, op)
	}
	return out, nil
}

func (m *memLog) Watch(fn func()) func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.watch = append(m.watch, fn)
	return func() {}
}

func (m *memLog) WatchOps(fn func([]syncproto.Op, bool)) func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.watchOps = append(m.watchOps, fn)
	return func() {}
}

// store keeps ops and tells the listeners, as the engine does.
func (m *memLog) store(ops ...syncproto.Op) { m.change(ops, false) }

// forget drops ops and tells the listeners to read again.
func (m *memLog) forget(ops ...syncproto.Op) { m.change(ops, true) }

// change keeps ops (drops them when forgotten) and tells the listeners.
func (m *memLog) change(ops []syncproto.Op, forgotten bool) {
	m.mu.Lock()
	for _, op := range ops {
		if forgotten {
			delete(m.ops, opKey{op.Device, op.Seq})
		} else {
			m.ops[opKey{op.Device, op.Seq}] = op
		}
	}
	fns, ws := m.watchOps, m.watch
	m.mu.Unlock()
	told := ops
	if forgotten {
		told = nil
	}
	for _, fn := range fns {
		fn.(func([]syncproto.Op, bool))(told, forgotten)
	}
	for _, fn := range ws {
		fn.(func())()
	}
}

func checkIn(dev string, seq, hlc uint64, kana string) syncproto.Op {
	b, _ := json.Marshal(shelter.Evacuee{Shelter: "s1", Kana: kana, BirthYear: 1980})
	return syncproto.Op{Device: dev, Seq: seq, HLC: hlc, Kind: shelter.OpEvacueeAdd, Body: b}
}

// settled returns the view once no fold runs and nothing is left to
// apply: two calls in a row, with no fold running, give the same Gen.
func settled(t *testing.T, p *Projection) View {
	t.Helper()
	busy := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.refolding
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := p.Current()
		if !busy() {
			if w, _ := p.Current(); !busy() && w.Gen == v.Gen && w.State != nil {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the fold never ended")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestProjection: ops in order are applied to the state in place, with
// no read of the log; an op out of order, one redacted in place, or a
// log that forgot ops give a fold again; an op sent back numbered only
// sets its Global. After each step the state is the fold of the log.
func TestProjection(t *testing.T) {
	a1, a2 := checkIn("tab", 1, 100, "ア"), checkIn("tab", 2, 200, "イ")
	b1 := checkIn("hq", 1, 150, "ウ")
	numbered := a1
	numbered.Global = 7
	redacted := b1
	redacted.Body = json.RawMessage(`{"shelter":"s1","kana":"エ","birth_year":1980}`)
	tests := []struct {
		name      string
		held      []syncproto.Op
		step      func(m *memLog, p *Projection)
		wantReads int  // reads of the log after the first fold
		inPlace   bool // the same State, changed in place
		want      func(t *testing.T, v View)
	}{
		{"in order", []syncproto.Op{a1}, func(m *memLog, _ *Projection) { m.store(b1, a2) }, 0, true, nil},
		{"out of order", []syncproto.Op{a2}, func(m *memLog, _ *Projection) { m.store(a1) }, 0, false, nil},
		{"sent back numbered", []syncproto.Op{a1}, func(m *memLog, _ *Projection) { m.store(numbered) }, 0, true, func(t *testing.T, v View) {
			if len(v.Ops) != 1 || v.Ops[0].Global != 7 {
				t.Fatalf("ops %+v, want a1 numbered 7", v.Ops)
			}
		}},
		{"redacted in place", []syncproto.Op{a1, b1}, func(m *memLog, _ *Projection) { m.store(redacted) }, 0, false, func(t *testing.T, v View) {
			if v.State.Evacuees["hq.1"].Kana != "エ" {
				t.Fatalf("evacuee %+v, want the new content", v.State.Evacuees["hq.1"])
			}
		}},
		{"forgotten", []syncproto.Op{a1, b1}, func(m *memLog, _ *Projection) { m.forget(b1) }, 1, false, func(t *testing.T, v View) {
			if _, ok := v.State.Evacuees["hq.1"]; ok || len(v.Ops) != 1 {
				t.Fatalf("a forgotten op still shown: %+v", v.State.Evacuees)
			}
		}},
		{"a failed read is tried again at the next change", []syncproto.Op{a1, b1}, func(m *memLog, p *Projection) {
			m.mu.Lock()
			m.fail = errors.New("disk")
			m.mu.Unlock()
			m.forget(b1)
			p.Current()
			for busy := true; busy; time.Sleep(time.Millisecond) {
				p.mu.Lock()
				busy = p.refolding
				p.mu.Unlock()
			}
			if _, err := p.Current(); err == nil {
				t.Error("a failed read not reported")
			}
			time.Sleep(20 * time.Millisecond)
			p.Current() // no change since: no read
			m.store(a2)
		}, 2, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memLog{ops: make(map[opKey]syncproto.Op)}
			for _, op := range tt.held {
				m.ops[opKey{op.Device, op.Seq}] = op
			}
			p := New(t.Context(), m)
			before := settled(t, p)
			m.mu.Lock()
			m.reads = 0
			m.mu.Unlock()
			tt.step(m, p)
			v := settled(t, p)
			if (v.State == before.State) != tt.inPlace {
				t.Errorf("state changed in place: %v, want %v", v.State == before.State, tt.inPlace)
			}
			if v.Gen == before.Gen {
				t.Error("Gen did not change")
			}
			m.mu.Lock()
			reads := m.reads
			m.mu.Unlock()
			if reads != tt.wantReads {
				t.Errorf("the log was read %d times, want %d", reads, tt.wantReads)
			}
			all, _ := m.Ops(context.Background())
			if want := state.Fold(all); !reflect.DeepEqual(v.State, want) {
				t.Errorf("state\n got %+v\nwant %+v", v.State, want)
			}
			if tt.want != nil {
				tt.want(t, v)
			}
		})
	}
}
