package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadAnchorsRefusals: a CRL without roots, or roots that are not
// certificates, stop the server at start with a message naming JPKI.
func TestLoadAnchorsRefusals(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	for _, tc := range []struct {
		name  string
		roots string
		crls  []string
	}{
		{"CRL without roots", "", []string{filepath.Join(dir, "x.crl")}},
		{"roots that are not certificates", junk, nil},
	} {
		_, err := loadAnchors(tc.roots, tc.crls)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "jpki") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if a, err := loadAnchors("", nil); a != nil || err != nil {
		t.Errorf("no roots: %v, %v, want no anchors and no error", a, err)
	}
}
