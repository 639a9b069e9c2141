package pass

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func keys(t testing.TB) (ed25519.PrivateKey, Keys) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv, Keys{Keys: []ed25519.PublicKey{pub}}
}

func TestIssueVerify(t *testing.T) {
	priv, trusted := keys(t)
	_, other := keys(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.Local)
	text, issued, err := Issue(priv, "R-0007", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(text) > 200 {
		t.Errorf("pass of %d characters; keep it small for the QR code", len(text))
	}
	s, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		keys Keys
		at   time.Time
		want error
	}{
		{"at once", trusted, now, nil},
		{"a minute on", trusted, now.Add(time.Minute), nil},
		{"terminal clock a minute behind", trusted, now.Add(-time.Minute), nil},
		{"terminal clock far behind", trusted, now.Add(-time.Hour), ErrNotYet},
		{"at expiry", trusted, now.Add(Lifetime), ErrExpired},
		{"another server's key", other, now, ErrSignature},
		{"no keys yet", Keys{}, now, ErrSignature},
		{"rotated: old key second", Keys{Keys: append(other.Keys, trusted.Keys...)}, now, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Verify(tt.keys, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err == nil && (p.Resident != "R-0007" || p.ID() != issued.ID() || !p.Issued.Equal(issued.Issued)) {
				t.Fatalf("Verify = %+v, want %+v", p, issued)
			}
		})
	}

	// Two passes for the same resident differ: each is admitted once.
	again, p2, _ := Issue(priv, "R-0007", now)
	if again == text || p2.ID() == issued.ID() {
		t.Fatal("two passes are the same")
	}
}

func TestTampered(t *testing.T) {
	priv, trusted := keys(t)
	now := time.Now()
	text, _, err := Issue(priv, "R-0007", now)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := b32.DecodeString(strings.TrimPrefix(text, prefix))
	for _, tt := range []struct {
		name string
		text string
		want error
	}{
		{"another QR code", "https://example.jp/", ErrMalformed},
		{"not base32", prefix + "a!b", ErrMalformed},
		{"truncated", text[:len(text)-10], ErrMalformed},
		{"empty resident", prefix + b32.EncodeToString(append(raw[:fixed-1:fixed-1], append([]byte{0}, make([]byte, 64)...)...)), ErrMalformed},
		{"resident changed", prefix + b32.EncodeToString(edit(raw, fixed+3, '8')), ErrSignature},
		{"lifetime stretched", prefix + b32.EncodeToString(edit(raw, 9, 0xff)), ErrSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.text)
			if err == nil {
				_, err = s.Verify(trusted, now)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func edit(b []byte, i int, v byte) []byte {
	out := append([]byte(nil), b...)
	out[i] = v
	return out
}

// FuzzParse: the text of any QR code a terminal sees is outside bytes.
func FuzzParse(f *testing.F) {
	priv, trusted := keys(f)
	text, _, _ := Issue(priv, "R-0001", time.Now())
	f.Add(text)
	f.Add(prefix)
	f.Add("SP1:AE")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if s.Resident == "" || len(s.Resident) > 255 {
			t.Fatalf("Parse accepted resident %q", s.Resident)
		}
		s.Verify(trusted, time.Now())
	})
}
