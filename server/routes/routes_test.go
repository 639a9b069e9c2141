package routes

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestTableRecordsAndServes(t *testing.T) {
	tab := New()
	var m Mux = tab
	m.HandleFunc("POST /b", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	m.Handle("GET /a", http.NotFoundHandler())
	if got, want := tab.Patterns(), []string{"GET /a", "POST /b"}; !slices.Equal(got, want) {
		t.Fatalf("patterns %v, want %v", got, want)
	}
	rec := httptest.NewRecorder()
	tab.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/b", nil))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /b through the table: %d, want 202", rec.Code)
	}
}
