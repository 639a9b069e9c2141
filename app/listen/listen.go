// Package listen keeps the callbacks a source of changes calls: the op
// log's watchers, the tab projection's. Each is added with a way to
// remove it, and the source calls a copy of the set, outside its lock, so
// a callback may add or remove one.
package listen

import "sync"

// Set is a set of callbacks of type F. The zero value is ready to use;
// it is safe for concurrent use.
type Set[F any] struct {
	mu     sync.Mutex
	fns    map[int]F
	nextID int
}

// Add adds fn until stop is called.
func (s *Set[F]) Add(fn F) (stop func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fns == nil {
		s.fns = make(map[int]F)
	}
	id := s.nextID
	s.nextID++
	s.fns[id] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.fns, id)
	}
}

// Each calls call with each callback in the set when Each was called.
func (s *Set[F]) Each(call func(F)) {
	s.mu.Lock()
	fns := make([]F, 0, len(s.fns))
	for _, fn := range s.fns {
		fns = append(fns, fn)
	}
	s.mu.Unlock()
	for _, fn := range fns {
		call(fn)
	}
}
