package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/syncproto"
)

func TestTextComplete(t *testing.T) {
	for key, pair := range text {
		if pair[0] == "" || pair[1] == "" {
			t.Errorf("%s: missing a translation: %q", key, pair)
		}
		if strings.Count(pair[0], "%") != strings.Count(pair[1], "%") {
			t.Errorf("%s: the two languages take different arguments: %q", key, pair)
		}
	}
}

func TestT(t *testing.T) {
	if got := tr(langEN, "list.capacity", 3, 120); got != "Checked in: 3 of 120" {
		t.Fatalf("t = %q", got)
	}
	if got := tr(langJA, "status.offline"); got != "オフライン" {
		t.Fatalf("t = %q", got)
	}
	if got := tr(langJA, "no.such.key"); got != "no.such.key" {
		t.Fatalf("missing key = %q, want the key itself", got)
	}
}

// TestEveryKeyHasText: every key the screens ask for exists, so no
// screen shows a raw key to a volunteer.
func TestEveryKeyHasText(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	literal := regexp.MustCompile(`\btr\("([a-z0-9_.]+)"[,)]`)
	var keys []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			keys = append(keys, m[1])
		}
	}
	if len(keys) < 20 {
		t.Fatalf("found only %d keys in the sources: the pattern is broken", len(keys))
	}
	// Keys built from values.
	for _, r := range []string{"shelter", "hq", "reception", "playpark"} {
		keys = append(keys, "role."+r)
	}
	for _, k := range []string{state.ConflictTwoShelters, state.ConflictEdit} {
		keys = append(keys, "conflict.flag."+k)
	}
	for _, c := range []string{syncproto.CodeRevoked, syncproto.CodeUnknownDevice} {
		keys = append(keys, "setup.needed."+c)
	}
	for _, f := range []string{shelter.FieldName, shelter.FieldKana, shelter.FieldBirthYear} {
		keys = append(keys, "field.label."+f)
	}
	for _, k := range keys {
		if _, ok := text[k]; !ok {
			t.Errorf("text key %q is used but has no text", k)
		}
	}
}
