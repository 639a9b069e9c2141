//go:build !js

package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
)

// TestLastLine runs the command as a user would and checks that its last
// line is one JSON object keeping every key it had before (with their
// meaning: the closed-set figures), and with -open and -rule the new
// ones; rates a set this small cannot show are "n/a" in the text and
// null in the JSON.
func TestLastLine(t *testing.T) {
	root := facetest.Root(t)
	dir := facetest.Labelled(t, "identities")
	facetest.Model(t)
	bin := filepath.Join(t.TempDir(), "faceeval")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	kept := []string{"detected", "eer", "identities", "images", "ms_per_face", "rank1", "tar_at_far_0.001", "tar_at_far_0.01", "threshold_at_far_0.001"}
	added := []string{"all_pairs", "impostor_pairs", "tar_at_far_0.0001", "tar_at_far_0.00001"}
	cases := []struct {
		name  string
		args  []string
		keys  []string
		texts []string
	}{
		{"plain", nil, append(kept, added...), []string{"TAR at FAR 1e-4 n/a (224 pairs)", "at 1e-4 n/a (700 pairs)"}},
		{"open and one rule", []string{"-open", "-rule", "playpark"}, append(append(kept, added...), "open", "rules"),
			[]string{"open set: every second identity by name enrolled (amy howard penny sheldon)", "rule playpark: target FPIR 1e-03 per identification", "face alone up to N=", "N=10     pair FAR 0.0001: threshold", "N=60000  pair FAR 1.7e-08", "second factor always"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(c.args, dir)...)
			cmd.Dir = root
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("faceeval: %v", err)
			}
			lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
			var got map[string]any
			if err := json.Unmarshal(lines[len(lines)-1], &got); err != nil {
				t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
			}
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			want := slices.Sorted(slices.Values(c.keys))
			if !reflect.DeepEqual(keys, want) {
				t.Fatalf("keys %v, want %v", keys, want)
			}
			if got["identities"].(float64) != 8 || got["images"].(float64) != 40 || got["tar_at_far_0.0001"] != nil {
				t.Errorf("counts: %s", lines[len(lines)-1])
			}
			for _, text := range c.texts {
				if !bytes.Contains(out, []byte(text)) {
					t.Errorf("output lacks %q:\n%s", text, out)
				}
			}
			if rules, ok := got["rules"].([]any); ok {
				// One per gallery size of the table, growing stricter.
				prev := 0.0
				for i, size := range []float64{10, 100, 1000, 5000, 60000} {
					r := rules[i].(map[string]any)
					if r["kind"] != "playpark" || r["gallery_size"] != size || r["impostor_pairs"].(float64) != 700 || r["set_threshold"] != nil || r["threshold"].(float64) < prev {
						t.Errorf("rule at %g: %v", size, r)
					}
					prev = r["threshold"].(float64)
				}
			}
		})
	}
	if err := exec.Command(bin, "-rule", "zoo", dir).Run(); err == nil {
		t.Error("an unknown facility kind was accepted")
	}
}
