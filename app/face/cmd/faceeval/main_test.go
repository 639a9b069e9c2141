//go:build !js

package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"smartpass.city/smartpass/app/face/facetest"
)

// TestLastLine runs the command as a user would and checks that its last
// line is one JSON object with exactly the promised keys.
func TestLastLine(t *testing.T) {
	root := facetest.Root(t)
	faces := facetest.Faces(t)
	facetest.Model(t)
	bin := filepath.Join(t.TempDir(), "faceeval")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, filepath.Join(faces, "identities"))
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
	want := []string{"detected", "eer", "identities", "images", "ms_per_face", "rank1", "tar_at_far_0.001", "tar_at_far_0.01", "threshold_at_far_0.001"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if got["identities"].(float64) != 8 || got["images"].(float64) != 40 {
		t.Errorf("counts: %s", lines[len(lines)-1])
	}
}
