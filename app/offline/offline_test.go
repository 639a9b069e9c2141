package offline

import (
	"testing"
)

func TestNeedsModel(t *testing.T) {
	tests := []struct {
		role     string
		enrolled bool
		want     bool
	}{
		{"shelter", true, true},
		{"reception", true, true},
		{"playpark", true, true},
		{"registrar", true, true},
		{"hq", true, false},
		{"audit", true, false},
		{"", false, false},        // a resident's phone, the admin screen
		{"shelter", false, false}, // not enrolled (any more)
		{"unknown", true, false},  // a role this version does not know
	}
	for _, tc := range tests {
		if got := NeedsModel(tc.role, tc.enrolled); got != tc.want {
			t.Errorf("NeedsModel(%q, %v) = %v, want %v", tc.role, tc.enrolled, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ok      bool
		ready   bool
		lacks   string
		percent int
	}{
		{"ready", `{"type":"offline","version":"v1","ready":true,"missing":[]}`, true, true, "", 0},
		{"model half way", `{"ready":false,"missing":["model"],"busy":true,"modelDone":5,"modelSize":10}`, true, false, Model, 50},
		{"shell and model", `{"ready":false,"missing":["shell","model"]}`, true, false, Shell, 0},
		{"ready but lacking", `{"ready":true,"missing":["model"]}`, false, false, "", 0},
		{"not ready, nothing lacking", `{"ready":false,"missing":[]}`, false, false, "", 0},
		{"unknown part", `{"ready":false,"missing":["fonts"]}`, false, false, "", 0},
		{"negative", `{"ready":false,"missing":["model"],"modelDone":-1}`, false, false, "", 0},
		{"not json", `ready`, false, false, "", 0},
		{"more than all", `{"ready":false,"missing":["model"],"modelDone":20,"modelSize":10}`, true, false, Model, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("Parse(%s) error %v, want ok=%v", tc.in, err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if !s.Known || s.Ready != tc.ready || (tc.lacks != "" && !s.Lacks(tc.lacks)) || s.Percent() != tc.percent {
				t.Errorf("Parse(%s) = %+v (percent %d)", tc.in, s, s.Percent())
			}
		})
	}
}

// FuzzParse: whatever a message holds, a status that parses says ready
// exactly when nothing is missing, and its percentage stays in 0–100.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"ready":true,"missing":[]}`))
	f.Add([]byte(`{"ready":false,"missing":["model"],"modelDone":3,"modelSize":7}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if s.Ready != (len(s.Missing) == 0) {
			t.Fatalf("ready=%v with missing %v", s.Ready, s.Missing)
		}
		if p := s.Percent(); p < 0 || p > 100 {
			t.Fatalf("percent %d", p)
		}
	})
}

func TestPercentHuge(t *testing.T) {
	s := Status{ModelDone: 1 << 62, ModelSize: 1 << 61}
	if p := s.Percent(); p != 100 {
		t.Errorf("percent %d, want 100", p)
	}
}
