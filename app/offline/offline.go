// Package offline says whether a device is ready to work without the
// network: which devices need the face model offline, and what the service
// worker (server/appworker.js) reports it holds and still lacks. It is
// plain Go, so the rules are tested natively; wasm/ carries the messages.
package offline

import (
	"encoding/json"
	"fmt"
	"slices"

	"smartpass.city/smartpass/app/scope"
)

// NeedsModel reports whether a device enrolled in role recognises faces
// and so must hold the face model (13 MB) offline. Terminals that match
// faces do (shelter, hospital reception, play park) and so does the city
// desk that registers them (registrar). The HQ, the audit role and a
// device not enrolled (a resident's own phone, a browser on the admin
// screen) do not: a resident registering a face from their phone needs the
// server anyway, so their phone downloads the model when that screen
// opens and never keeps it for offline use.
func NeedsModel(role string, enrolled bool) bool {
	if !enrolled {
		return false
	}
	switch scope.Role(role) {
	case scope.Shelter, scope.Reception, scope.PlayPark, scope.Registrar, scope.Shop, scope.Vehicle, scope.Counter:
		return true
	}
	return false
}

// Parts a device may still lack.
const (
	Shell = "shell" // the app itself: pages, scripts, app.wasm, icons
	Model = "model" // the face model
)

// Status is what the service worker holds for this device.
type Status struct {
	// Known is false until the worker has answered (and for good in a
	// browser without service workers: see Unsupported).
	Known       bool `json:"-"`
	Unsupported bool `json:"-"`

	Version string   `json:"version"`
	Ready   bool     `json:"ready"`   // everything this device needs is cached
	Missing []string `json:"missing"` // Shell, Model
	Busy    bool     `json:"busy"`    // the worker is fetching
	// ModelDone and ModelSize are the model download's progress in
	// bytes, while the model is missing.
	ModelDone int64 `json:"modelDone"`
	ModelSize int64 `json:"modelSize"`
}

// Percent is how much of the model has arrived, 0–100.
func (s Status) Percent() int {
	if s.ModelSize <= 0 || s.ModelDone <= 0 {
		return 0
	}
	return int(min(100, float64(s.ModelDone)/float64(s.ModelSize)*100))
}

// Lacks reports whether part is still missing.
func (s Status) Lacks(part string) bool { return slices.Contains(s.Missing, part) }

// Parse reads the worker's message (the JSON of its smartpass field). A
// message that claims readiness while naming a missing part, or names a
// part we do not know, is refused: the status bar must not say ready when
// it is not.
func Parse(data []byte) (Status, error) {
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return Status{}, fmt.Errorf("offline: read the worker's status: %w", err)
	}
	for _, p := range s.Missing {
		if p != Shell && p != Model {
			return Status{}, fmt.Errorf("offline: the worker names an unknown part %q", p)
		}
	}
	if s.Ready == (len(s.Missing) > 0) {
		return Status{}, fmt.Errorf("offline: the worker says ready=%v with %d parts missing", s.Ready, len(s.Missing))
	}
	if s.ModelDone < 0 || s.ModelSize < 0 {
		return Status{}, fmt.Errorf("offline: negative progress")
	}
	s.Known = true
	return s, nil
}
