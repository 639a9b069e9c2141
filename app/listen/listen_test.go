package listen

import "testing"

// TestSet: each callback added is called until stopped, and one may stop
// itself while called.
func TestSet(t *testing.T) {
	var s Set[func(int)]
	var got []int
	stopA := s.Add(func(n int) { got = append(got, n) })
	var stopB func()
	stopB = s.Add(func(n int) { got = append(got, 10*n); stopB() })
	s.Each(func(f func(int)) { f(1) })
	s.Each(func(f func(int)) { f(2) })
	stopA()
	s.Each(func(f func(int)) { f(3) })
	if len(got) != 3 || got[0]+got[1] != 11 || got[2] != 2 {
		t.Fatalf("calls %v, want 1 and 10 (any order), then 2 alone", got)
	}
}
