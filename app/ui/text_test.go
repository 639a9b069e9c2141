package ui

import (
	"strings"
	"testing"
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
