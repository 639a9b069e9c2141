// Package receipt makes the city's donation receipts (寄附金受領証明書) as
// PDF, one page per donation, set in a Japanese TrueType font from the
// machine's Debian packages (IPA Gothic) and embedded in the file, so the
// donor's phone, a tax office or a printer shows the same page.
//
// The font is loaded once, when the server starts: a server without it
// refuses to start with a message naming the package, rather than make
// receipts whose Japanese text is blank.
package receipt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// FontPaths are where Debian's fonts-ipafont-gothic puts IPA Gothic, in
// the order New looks.
var FontPaths = []string{
	"/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
	"/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
}

// ErrNoFont means the receipt font is not on the machine.
var ErrNoFont = errors.New("receipt: the Japanese font for receipts is missing (install the Debian package fonts-ipafont-gothic)")

// ErrInvalid is wrapped when a donation cannot be put on a receipt.
var ErrInvalid = errors.New("receipt: invalid donation")

// Maker makes receipts. It is safe for concurrent use.
type Maker struct {
	font []byte
}

// New loads the TrueType font at path, or the first of FontPaths when
// path is "".
func New(path string) (*Maker, error) {
	paths := FontPaths
	if path != "" {
		paths = []string{path}
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("receipt: font %s: %w", p, err)
		}
		if len(b) < 12 || (string(b[:4]) != "\x00\x01\x00\x00" && string(b[:4]) != "true") {
			return nil, fmt.Errorf("receipt: %s is not a TrueType font", p)
		}
		return &Maker{font: b}, nil
	}
	return nil, fmt.Errorf("%w: looked in %s", ErrNoFont, strings.Join(paths, ", "))
}

// Issuer is the municipality that received the donations.
type Issuer struct {
	CityJA  string // 加賀市
	MayorJA string // 加賀市長 ...
}

// Donation is one donation, one receipt page.
type Donation struct {
	Number       string // the receipt's number, unique in the city
	Date         time.Time
	DonorName    string
	DonorAddress string
	Amount       int64  // yen
	Gift         string // the gift handed over, "" for none
}

func (d Donation) check() error {
	switch {
	case d.Number == "" || d.DonorName == "" || d.DonorAddress == "":
		return fmt.Errorf("%w: a receipt needs a number, the donor's name and address", ErrInvalid)
	case d.Amount <= 0:
		return fmt.Errorf("%w: %s: amount ¥%d", ErrInvalid, d.Number, d.Amount)
	case d.Date.IsZero():
		return fmt.Errorf("%w: %s: no date", ErrInvalid, d.Number)
	}
	return nil
}

// Yen formats an amount with thousands separators: 10,000.
func Yen(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

var jst = time.FixedZone("JST", 9*60*60)

// japaneseDate writes a date as 2026年12月2日（令和8年）, Japan time.
func japaneseDate(t time.Time) string {
	t = t.In(jst)
	s := fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	if reiwa := time.Date(2019, 5, 1, 0, 0, 0, 0, jst); !t.Before(reiwa) {
		s += fmt.Sprintf("（令和%d年）", t.Year()-2018)
	}
	return s
}

// Write writes the receipts of ds, one page each, as one PDF to w.
// Nothing is written when a donation is invalid.
func (m *Maker) Write(w io.Writer, iss Issuer, ds []Donation) error {
	if len(ds) == 0 {
		return fmt.Errorf("%w: no donation", ErrInvalid)
	}
	if iss.CityJA == "" {
		return fmt.Errorf("%w: no issuing municipality", ErrInvalid)
	}
	for _, d := range ds {
		if err := d.check(); err != nil {
			return err
		}
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle("寄附金受領証明書", true)
	pdf.SetCreator("Smart Pass", true)
	pdf.AddUTF8FontFromBytes("ipag", "", m.font)
	for _, d := range ds {
		pdf.AddPage()
		pdf.SetFont("ipag", "", 22)
		pdf.CellFormat(0, 20, "寄附金受領証明書", "", 1, "C", false, 0, "")
		pdf.SetFont("ipag", "", 11)
		pdf.CellFormat(0, 8, "番号 "+d.Number, "", 1, "R", false, 0, "")
		pdf.Ln(6)
		pdf.SetFont("ipag", "", 13)
		pdf.CellFormat(0, 9, "寄附者 住所　"+d.DonorAddress, "", 1, "L", false, 0, "")
		pdf.CellFormat(0, 9, "寄附者 氏名　"+d.DonorName+" 様", "", 1, "L", false, 0, "")
		pdf.Ln(8)
		pdf.SetFont("ipag", "", 18)
		pdf.CellFormat(0, 14, "寄附金額　金 "+Yen(d.Amount)+" 円", "1", 1, "C", false, 0, "")
		pdf.Ln(6)
		pdf.SetFont("ipag", "", 13)
		pdf.CellFormat(0, 9, "寄附日　"+japaneseDate(d.Date), "", 1, "L", false, 0, "")
		gift := "なし"
		if d.Gift != "" {
			gift = d.Gift
		}
		pdf.CellFormat(0, 9, "返礼品　"+gift, "", 1, "L", false, 0, "")
		pdf.Ln(8)
		pdf.MultiCell(0, 8, "上記の金額を、地方税法第37条の2及び第314条の7並びに所得税法第78条に規定する寄附金として受領しました。", "", "L", false)
		pdf.Ln(14)
		pdf.CellFormat(0, 9, iss.CityJA, "", 1, "R", false, 0, "")
		if iss.MayorJA != "" {
			pdf.CellFormat(0, 9, iss.MayorJA, "", 1, "R", false, 0, "")
		}
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	return pdf.Output(w)
}
