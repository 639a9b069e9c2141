package receipt

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pdftotext returns the text poppler (Debian's poppler-utils, the tool a
// tax office's viewer stands for) reads from a PDF, and its page count.
func pdftotext(t *testing.T, pdf []byte) (string, int) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: scripts/deps.sh installs poppler-utils", tool)
		}
	}
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext could not read the receipt: %v", err)
	}
	info, err := exec.Command("pdfinfo", f).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	pages := 0
	for _, l := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			for _, c := range strings.TrimSpace(v) {
				pages = pages*10 + int(c-'0')
			}
		}
	}
	return string(text), pages
}

func TestReceiptReadsBack(t *testing.T) {
	m, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	ds := []Donation{
		{Number: "KAGA-2026-000123", Date: day, DonorName: "山田 花子", DonorAddress: "東京都世田谷区世田谷４－２１－２７", Amount: 10000, Gift: "加能ガニ（ズワイガニ）"},
		{Number: "KAGA-2026-000124", Date: day, DonorName: "加賀 太郎", DonorAddress: "石川県加賀市大聖寺南町ニ４１", Amount: 5000},
	}
	var b bytes.Buffer
	if err := m.Write(&b, Issuer{CityJA: "石川県加賀市", MayorJA: "加賀市長"}, ds); err != nil {
		t.Fatal(err)
	}
	text, pages := pdftotext(t, b.Bytes())
	if pages != 2 {
		t.Fatalf("%d pages for two donations", pages)
	}
	for _, want := range []string{"寄附金受領証明書", "KAGA-2026-000123", "山田 花子", "世田谷区", "金 10,000 円", "2026年12月2日（令和8年）", "加能ガニ", "加賀 太郎", "金 5,000 円", "返礼品 なし", "石川県加賀市"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("the receipt's text lacks %q:\n%s", want, text)
		}
	}
}

func TestReceiptRefuses(t *testing.T) {
	m, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	good := Donation{Number: "1", Date: time.Now(), DonorName: "a", DonorAddress: "b", Amount: 1}
	for _, tt := range []struct {
		name string
		edit func(*Donation)
	}{
		{"no amount", func(d *Donation) { d.Amount = 0 }},
		{"no name", func(d *Donation) { d.DonorName = "" }},
		{"no date", func(d *Donation) { d.Date = time.Time{} }},
	} {
		d := good
		tt.edit(&d)
		var b bytes.Buffer
		if err := m.Write(&b, Issuer{CityJA: "加賀市"}, []Donation{good, d}); !errors.Is(err, ErrInvalid) || b.Len() != 0 {
			t.Errorf("%s: err %v, %d bytes written; want ErrInvalid and nothing", tt.name, err, b.Len())
		}
	}
}

// TestMissingFont: a server without the font stops at start with words
// naming the package, not later with a blank receipt.
func TestMissingFont(t *testing.T) {
	_, err := New(filepath.Join(t.TempDir(), "ipag.ttf"))
	if !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), "fonts-ipafont-gothic") {
		t.Fatalf("New with no font: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "x.ttf")
	os.WriteFile(bad, []byte("%PDF-1.4 not a font"), 0o600)
	if _, err := New(bad); err == nil {
		t.Fatal("a file that is not a font accepted")
	}
}

func TestYen(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -3000: "-3,000"} {
		if got := Yen(in); got != want {
			t.Errorf("Yen(%d) = %q, want %q", in, got, want)
		}
	}
}
