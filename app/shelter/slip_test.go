package shelter

import "testing"

func TestSlip(t *testing.T) {
	s, r, ok := ParseSlip(SlipText("shelter-daishoji", "pwa-1f.12"))
	if !ok || s != "shelter-daishoji" || r != "pwa-1f.12" {
		t.Fatalf("ParseSlip = %q %q %v", s, r, ok)
	}
	for _, bad := range []string{"", "SPSLIP1:", "SPSLIP1:x", "SPSLIP1:/r", "SPSLIP1:s/", "SPSLIP1:s/r/x", "SP1:AAAA", "https://example.jp/"} {
		if _, _, ok := ParseSlip(bad); ok {
			t.Errorf("ParseSlip(%q) accepted", bad)
		}
	}
}

// FuzzParseSlip: the text of any QR code a shelter tablet sees is
// outside bytes.
func FuzzParseSlip(f *testing.F) {
	f.Add(SlipText("s", "r.1"))
	f.Add("SPSLIP1:a/b/c")
	f.Fuzz(func(t *testing.T, text string) {
		s, r, ok := ParseSlip(text)
		if ok && (s == "" || r == "" || SlipText(s, r) != text) {
			t.Fatalf("ParseSlip(%q) = %q %q", text, s, r)
		}
	})
}
