// Package projection keeps one browser tab's folded state of the device's
// op log. It folds the log once, then applies each op the log stores as it
// comes (state.Apply): an op in fold order costs that op's work, not a
// read and fold of the whole log, which on a terminal holding a city's
// templates took seconds. An op out of order, or one that replaces an op
// held with other content (an erasure's redaction), has the state folded
// again from the ops in memory; a log that forgot ops is read again whole.
//
// The screens read it through Current on the UI goroutine, where queued
// ops are applied; a fold again runs on its own goroutine and replaces
// the state when done, so the screen is never held up by it. In a
// browser, where every goroutine shares the page's one thread, that fold
// also pauses every few milliseconds (Options), so the identify screen's
// camera loop keeps its frame rate while ops arrive out of order. Ops
// that arrive while a fold runs wait for it and are applied (or folded
// again, once, together) when it is done: a burst of out-of-order ops
// costs one fold more, not one each.
package projection

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"smartpass.city/smartpass/app/listen"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/syncproto"
)

// Source is the device's op log (a *synclog.Engine).
type Source interface {
	// Ops returns every op held.
	Ops(ctx context.Context) ([]syncproto.Op, error)
	// Watch calls fn after every change of the log or of its status.
	Watch(fn func()) (stop func())
	// WatchOps calls fn with the ops each change stored, before Watch's
	// listeners hear of it; reset: the log forgot ops, read it again.
	WatchOps(fn func(ops []syncproto.Op, reset bool)) (stop func())
}

// View is the state as of one moment, for the screens. Ops and State
// belong to the projection: read them on the UI goroutine (the one
// calling Current), never change them.
type View struct {
	// Ops are the ops held, in no particular order.
	Ops []syncproto.Op
	// State is their fold; nil until the first fold is done.
	State *state.State
	// Gen changes whenever State or Ops do: a screen's caches compare it
	// (State is the same value, changed in place, between folds).
	Gen uint64
	// Folds counts the folds of the whole log. While it stays the same,
	// Ops only grows at its end, by the ops applied since: a screen may
	// follow those alone (the identify screen's face gallery does).
	Folds uint64
}

// Options pace a projection's folds of the whole log.
type Options struct {
	// Slice is how long a fold runs before it pauses; Pause is what it
	// calls then (a sleep, which lets a browser draw its frames).
	// Zero values: DefaultSlice and a sleep of DefaultPause.
	Slice time.Duration
	Pause func()
}

// The default pacing: a fold gives the page a turn every 8 ms of work,
// half a frame at 60 frames a second, for about a millisecond (a
// browser's shortest timer).
const (
	DefaultSlice = 8 * time.Millisecond
	DefaultPause = time.Millisecond
)

// indexPause is how many ops a fold again indexes between pauses.
const indexPause = 8192

// Projection is a tab's folded state. Create it with New.
type Projection struct {
	src Source
	ctx context.Context
	opt Options

	mu        sync.Mutex
	pending   []delta
	ops       []syncproto.Op
	index     map[opKey]int // position in ops
	st        *state.State
	gen       uint64
	folds     uint64
	err       error
	refolding bool
	// reread: the last read of the log failed; read it again before
	// applying anything (what it forgot must not stay shown).
	reread bool
	// poked: the log reported a change since the last read failed (a
	// failed read is tried again at the next change, not in a loop).
	poked bool

	listeners listen.Set[func()]
}

// delta is one change the log reported.
type delta struct {
	ops   []syncproto.Op
	reset bool
}

type opKey struct {
	dev string
	seq uint64
}

// New folds src's log (on its own goroutine) and follows its changes
// until ctx ends, its folds paced by the defaults.
func New(ctx context.Context, src Source) *Projection { return NewPaced(ctx, src, Options{}) }

// NewPaced is New with the folds paced by opt.
func NewPaced(ctx context.Context, src Source, opt Options) *Projection {
	if opt.Slice <= 0 {
		opt.Slice = DefaultSlice
	}
	if opt.Pause == nil {
		opt.Pause = func() { time.Sleep(DefaultPause) }
	}
	p := &Projection{src: src, ctx: ctx, opt: opt}
	stopOps := src.WatchOps(func(ops []syncproto.Op, reset bool) {
		p.mu.Lock()
		p.pending = append(p.pending, delta{ops: ops, reset: reset})
		p.mu.Unlock()
	})
	stop := src.Watch(func() {
		p.mu.Lock()
		p.poked = true
		p.mu.Unlock()
		p.notify()
	})
	go func() {
		<-ctx.Done()
		stopOps()
		stop()
	}()
	p.mu.Lock()
	p.refold(nil)
	p.mu.Unlock()
	return p
}

// Watch calls fn after every change of the log or of its status, and when
// a fold again is done, until stop is called. fn must not block; it calls
// Current later, on the UI goroutine.
func (p *Projection) Watch(fn func()) (stop func()) { return p.listeners.Add(fn) }

func (p *Projection) notify() { p.listeners.Each(func(fn func()) { fn() }) }

// Current applies the changes the log reported since the last call and
// returns the state; err is the last failure to read the log (the state
// is then the one before it). Call it from one goroutine only: the UI's.
func (p *Projection) Current() (View, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.refolding {
		p.drain()
	}
	return View{Ops: p.ops, State: p.st, Gen: p.gen, Folds: p.folds}, p.err
}

// drain applies the pending changes; p.mu is held and no fold runs.
func (p *Projection) drain() {
	if p.reread {
		if p.poked {
			p.pending, p.poked = nil, false
			p.refold(nil)
		}
		return
	}
	if len(p.pending) == 0 {
		return
	}
	var fresh []syncproto.Op
	again := false
	for _, d := range p.pending {
		if d.reset {
			// Ops were forgotten: only the log knows which. What
			// came before or after is in it too.
			p.pending = nil
			p.refold(nil)
			return
		}
		for _, op := range d.ops {
			k := opKey{op.Device, op.Seq}
			i, held := p.index[k]
			switch {
			case !held:
				p.index[k] = len(p.ops)
				p.ops = append(p.ops, op)
				fresh = append(fresh, op)
			case p.ops[i].Kind == op.Kind && bytes.Equal(p.ops[i].Body, op.Body):
				// Sent back numbered: the fold ignores Global.
				p.ops[i].Global = max(p.ops[i].Global, op.Global)
			default:
				p.ops[i] = op // redacted in place: fold again
				again = true
			}
		}
	}
	p.pending = nil
	p.gen++
	slices.SortFunc(fresh, func(a, b syncproto.Op) int {
		return cmp.Or(cmp.Compare(a.HLC, b.HLC), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq))
	})
	for _, op := range fresh {
		if again {
			break
		}
		again = !p.st.Apply(op)
	}
	if again {
		p.refold(slices.Clone(p.ops))
	}
}

// refold folds again, on its own goroutine, the ops given, or the log's
// when ops is nil; p.mu is held. The state stays as it is until then.
func (p *Projection) refold(ops []syncproto.Op) {
	p.refolding = true
	fromLog := ops == nil
	if fromLog {
		p.poked = false
	}
	go func() {
		var err error
		if fromLog {
			ops, err = p.src.Ops(p.ctx)
		}
		var st *state.State
		var index map[opKey]int
		if err == nil {
			// Sorted in place: the next fold again starts from ops
			// nearly in order, which sort in about one pass.
			st = state.FoldPaced(ops, p.opt.Slice, p.opt.Pause)
			index = make(map[opKey]int, len(ops))
			for i, op := range ops {
				index[opKey{op.Device, op.Seq}] = i
				if i%indexPause == indexPause-1 {
					p.opt.Pause()
				}
			}
		}
		p.mu.Lock()
		p.refolding, p.err, p.reread = false, err, err != nil
		if err == nil {
			p.ops, p.index, p.st = ops, index, st
			p.gen++
			p.folds++
		}
		p.mu.Unlock()
		p.notify()
	}()
}
