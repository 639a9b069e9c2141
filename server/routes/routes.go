// Package routes is the server's route table: the patterns every package
// registers its endpoints under, kept as they are registered, so a test
// (server/security's walk of every POST endpoint) and the owner's admin
// socket can list what the server answers without each package keeping
// a second list that drifts from the first.
package routes

import (
	"net/http"
	"slices"
	"sync"
)

// Mux is where a package registers its endpoints: an *http.ServeMux, or
// a Table in front of one.
type Mux interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// Table is an *http.ServeMux that remembers the patterns registered on
// it.
type Table struct {
	*http.ServeMux

	mu       sync.Mutex
	patterns []string
}

// New returns an empty table.
func New() *Table { return &Table{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern (http.ServeMux.Handle) and records it.
func (t *Table) Handle(pattern string, h http.Handler) {
	t.ServeMux.Handle(pattern, h)
	t.record(pattern)
}

// HandleFunc registers h for pattern (http.ServeMux.HandleFunc) and
// records it.
func (t *Table) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	t.ServeMux.HandleFunc(pattern, h)
	t.record(pattern)
}

func (t *Table) record(pattern string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.patterns = append(t.patterns, pattern)
}

// Patterns are the patterns registered, sorted ("POST /accounts/face",
// "GET /healthz", "/" for any method).
func (t *Table) Patterns() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.patterns)
	slices.Sort(out)
	return out
}
