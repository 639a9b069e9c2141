package opkind

import (
	"fmt"

	"smartpass.city/smartpass/syncproto"
)

// Parts is folded state, one part per Slot: each domain package folds its
// kinds into the parts it declares, and app/state binds the parts the
// screens read to its own fields. A part nobody bound is made on first
// use, so a kind added later folds without a field of its own.
type Parts struct {
	m map[any]any // *Slot[T] -> *T
}

// Slot declares a part of the folded state, of type T.
type Slot[T any] struct {
	name string
	zero func() T
}

// NewSlot declares a part named name (for messages), made by zero.
func NewSlot[T any](name string, zero func() T) *Slot[T] {
	return &Slot[T]{name: name, zero: zero}
}

// In returns the part in p, making it if nobody bound it.
func (s *Slot[T]) In(p *Parts) *T {
	if v, ok := p.m[s]; ok {
		return v.(*T)
	}
	v := s.zero()
	s.Bind(p, &v)
	return &v
}

// Bind makes at the part in p, set to a new part: the fold then writes
// into at, which state keeps as a field the screens read.
func (s *Slot[T]) Bind(p *Parts, at *T) {
	if p.m == nil {
		p.m = make(map[any]any)
	}
	*at = s.zero()
	p.m[s] = at
}

// String names the slot.
func (s *Slot[T]) String() string { return s.name }

// Rejected is an op the fold could not apply, or the server refused.
type Rejected struct {
	Op     syncproto.Op
	Reason string
}

// Rejections is the part that lists Rejected ops, so staff see them
// instead of losing them silently.
var Rejections = NewSlot("rejections", func() []Rejected { return nil })

// Fold applies op to p by its kind's declaration. A kind not declared in
// this build (a newer app's) changes nothing: it stays in the log, shown
// nowhere. A fold that fails lists the op among the Rejections.
func Fold(p *Parts, op syncproto.Op) {
	k, ok := Lookup(op.Kind)
	if !ok || k.Fold == nil {
		return
	}
	if err := k.Fold(p, op); err != nil {
		rs := Rejections.In(p)
		*rs = append(*rs, Rejected{Op: op, Reason: fmt.Errorf("state: %w", err).Error()})
	}
}

// Replace makes a Kind.Fold that sets the part to the op's body: the last
// one folded wins (published keys, trust anchors).
func Replace[T any](slot *Slot[T]) func(*Parts, syncproto.Op) error {
	return func(p *Parts, op syncproto.Op) error {
		v, err := Decode[T](op)
		if err != nil {
			return err
		}
		*slot.In(p) = v
		return nil
	}
}

// Keep makes a Kind.Fold that checks the op's body and keeps it in the
// part under its key: the last one folded per key wins (facility records,
// templates, profiles).
func Keep[T interface{ Validate() error }](slot *Slot[map[string]T], key func(T) string) func(*Parts, syncproto.Op) error {
	return func(p *Parts, op syncproto.Op) error {
		v, err := DecodeValid[T](op)
		if err != nil {
			return err
		}
		(*slot.In(p))[key(v)] = v
		return nil
	}
}
