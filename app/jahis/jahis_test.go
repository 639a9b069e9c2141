package jahis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sjis encodes a notebook written in the test as a pharmacy prints it.
func sjis(t testing.TB, lines ...string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(strings.Join(lines, "\r\n") + "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func day(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func TestReadsFixtures(t *testing.T) {
	nb, err := Parse(fixture(t, "notebook.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if nb.Version != "JAHISTC08" || nb.Output != 1 {
		t.Errorf("version %s output %d", nb.Version, nb.Output)
	}
	want := Patient{Name: "加賀　太郎", Kana: "カガ　タロウ", Sex: "male", Birth: day("1980-04-15")}
	if nb.Patient != want {
		t.Errorf("patient %+v, want %+v", nb.Patient, want)
	}
	if len(nb.Dispensings) != 2 {
		t.Fatalf("%d dispensings, want 2", len(nb.Dispensings))
	}
	d := nb.Dispensings[0]
	if !d.Date.Equal(day("2026-11-20")) || d.Pharmacy != "かが中央薬局" || d.Prescriber != "加賀市医療センター" || d.Doctor != "医師　一郎" || d.Department != "内科" {
		t.Errorf("first dispensing %+v", d)
	}
	if len(d.RPs) != 2 || len(d.RPs[0].Drugs) != 2 || len(d.RPs[1].Drugs) != 1 {
		t.Fatalf("RPs %+v", d.RPs)
	}
	rp := d.RPs[0]
	if rp.Usage != "１日１回朝食後" || rp.Quantity != 28 || rp.Unit != "日分" || rp.Form != "1" {
		t.Errorf("RP 1 usage %+v", rp)
	}
	if got := rp.Drugs[1]; got != (Drug{Name: "カンデサルタン錠８ｍｇ", Amount: "1", Unit: "錠", CodeType: "4", Code: "2149040F3022"}) {
		t.Errorf("drug %+v", got)
	}
	if d2 := nb.Dispensings[1]; d2.Pharmacy != "大聖寺薬局" || d2.RPs[0].Drugs[0].Name != "カロナール錠２００" || d2.RPs[0].Drugs[0].CodeType != "1" {
		t.Errorf("second dispensing %+v", d2)
	}

	child, err := Parse(fixture(t, "child.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// 5081130: 令和8年11月30日, in the era form.
	if !child.Dispensings[0].Date.Equal(day("2026-11-30")) || child.Dispensings[0].Department != "小児科" {
		t.Errorf("child dispensing %+v", child.Dispensings[0])
	}

	whole, err := ParseParts(fixture(t, "split2.csv"), fixture(t, "split1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if whole.Patient.Name != "加賀　花子" || len(whole.Dispensings) != 1 || whole.Dispensings[0].RPs[0].Drugs[0].Name != "メトホルミン塩酸塩錠２５０ｍｇ" {
		t.Errorf("joined %+v", whole)
	}
}

// Every refusal is of its own kind, says where, and has its own words.
func TestRefusals(t *testing.T) {
	ok := []string{"JAHISTC08,1", "1,加賀　太郎,1,19800415", "5,20261120,1", "11,かが中央薬局,17,4,1234567,,,,1", "201,1,アムロジピン錠５ｍｇ,1,錠,1,,1", "301,1,１日１回朝食後,28,日分,1,1,,1"}
	with := func(i int, line string) []byte {
		l := append([]string(nil), ok...)
		l[i] = line
		return sjis(t, l...)
	}
	if _, err := Parse(sjis(t, ok...)); err != nil {
		t.Fatalf("the base case is refused: %v", err)
	}
	cases := []struct {
		name string
		data []byte
		kind error
		in   string // in the error's text
	}{
		{"damaged fixture", fixture(t, "damaged.csv"), ErrDamaged, "before any dispensing"},
		{"truncated fixture", fixture(t, "truncated.csv"), ErrDamaged, "cut"},
		{"older version", fixture(t, "badversion.csv"), ErrVersion, "JAHISTC05 (仕様書Ver.2.2) is known"},
		{"unknown version", fixture(t, "future.csv"), ErrVersion, "not a published version"},
		{"UTF-8, not Shift_JIS", fixture(t, "utf8.csv"), ErrEncoding, "line 2"},
		{"one part of two", fixture(t, "split1.csv"), ErrIncomplete, "part 1 of 2"},
		{"not JAHIS", sjis(t, "BEGIN:VCARD", "END:VCARD"), ErrNotJAHIS, "BEGIN"},
		{"empty", nil, ErrNotJAHIS, "empty"},
		{"bad 出力区分", with(0, "JAHISTC08,3"), ErrDamaged, "出力区分"},
		{"bad sex", with(1, "1,加賀　太郎,9,19800415"), ErrDamaged, "患者性別"},
		{"no such birth date", with(1, "1,加賀　太郎,1,19800231"), ErrDamaged, "no such date"},
		{"bad era", with(1, "1,加賀　太郎,1,9550415"), ErrDamaged, "era"},
		{"pharmacy not after 5", append(sjis(t, ok...), sjis(t, "11,二つ目薬局,17,4,1234567,,,,1")...), ErrDamaged, "must follow record 5"},
		{"unknown record", with(5, "999,1"), ErrDamaged, "999 is not in JAHISTC08"},
		{"too few fields", with(4, "201,1"), ErrDamaged, "has 2 fields"},
		{"a date without its creator", with(2, "5,20261120"), ErrDamaged, "record 5 has 2 fields (3 to 3)"},
		{"a usage with a field too many", with(5, "301,1,１日１回朝食後,28,日分,1,1,,1,9"), ErrDamaged, "record 301 has 10 fields"},
		{"usage for another RP", with(5, "301,2,１日１回朝食後,28,日分,1,1,,1"), ErrDamaged, "RP 2"},
		{"bad days", with(5, "301,1,１日１回朝食後,0,日分,1,1,,1"), ErrDamaged, "調剤数量"},
		{"code with no-code type", with(4, "201,1,アムロジピン錠５ｍｇ,1,錠,1,2171022F1093,1"), ErrDamaged, "コード種別 1"},
		{"name too long", with(1, "1,"+strings.Repeat("長", 41)+",1,19800415"), ErrDamaged, "longer than 40"},
		{"no patient", sjis(t, ok[0], ok[2], ok[3], ok[4]), ErrDamaged, "no patient"},
		{"no drugs", sjis(t, ok[0], ok[1], ok[2], ok[3]), ErrDamaged, "without drugs"},
		{"split record not last", sjis(t, append(append([]string(nil), ok[:4]...), "911,1,1,1", ok[4])...), ErrDamaged, "must be last"},
		{"too large", make([]byte, MaxSize+1), ErrTooLarge, "bytes"},
	}
	words := map[string]error{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.data)
			var e *Error
			if !errors.Is(err, c.kind) || !errors.As(err, &e) {
				t.Fatalf("got %v, want %v", err, c.kind)
			}
			if !strings.Contains(err.Error(), c.in) {
				t.Errorf("%q does not say %q", err, c.in)
			}
			ja, en := Words(err)
			if ja == "" || en == "" {
				t.Errorf("no words for %v", err)
			}
			if prev, seen := words[ja]; seen && !errors.Is(err, prev) {
				t.Errorf("%v and %v share the words %q", err, prev, ja)
			}
			words[ja] = c.kind
		})
	}
	if len(words) != 6 {
		t.Errorf("%d distinct refusals' words, want 6", len(words))
	}
}

func TestParts(t *testing.T) {
	p1, p2 := fixture(t, "split1.csv"), fixture(t, "split2.csv")
	other := sjis(t, "JAHISTC08,1", "201,1,メトホルミン塩酸塩錠２５０ｍｇ,2,錠,1,,1", "911,20261115093001,2,2")
	cases := []struct {
		name  string
		parts [][]byte
		kind  error
	}{
		{"both, in order", [][]byte{p1, p2}, nil},
		{"a part twice", [][]byte{p1, p1}, ErrDamaged},
		{"a part of another data", [][]byte{p1, other}, ErrDamaged},
		{"two of three", [][]byte{p1, p2, p2}, ErrIncomplete},
		{"none", nil, ErrIncomplete},
		{"a part without its split record", [][]byte{p1, fixture(t, "child.csv")}, ErrDamaged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseParts(c.parts...)
			if c.kind == nil && err != nil || c.kind != nil && !errors.Is(err, c.kind) {
				t.Fatalf("got %v, want %v", err, c.kind)
			}
		})
	}
}

// FuzzParse: outside bytes never panic the reader, every refusal is an
// *Error of a known kind, and what it accepts keeps the layout's rules.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"notebook.csv", "child.csv", "damaged.csv", "truncated.csv", "badversion.csv", "split1.csv", "utf8.csv"} {
		f.Add(fixture(f, n))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			for _, k := range []error{ErrEncoding, ErrNotJAHIS, ErrVersion, ErrDamaged, ErrIncomplete, ErrTooLarge} {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("unknown kind: %v", err)
		}
		if !Supported(nb.Version) || nb.Patient.Name == "" || nb.Patient.Birth.IsZero() || len(nb.Dispensings) == 0 {
			t.Fatalf("accepted without its required parts: %+v", nb)
		}
		for _, d := range nb.Dispensings {
			if d.Pharmacy == "" || d.Date.IsZero() || len(d.RPs) == 0 {
				t.Fatalf("a dispensing without its required parts: %+v", d)
			}
			for _, rp := range d.RPs {
				if len(rp.Drugs) == 0 {
					t.Fatalf("an RP without drugs: %+v", rp)
				}
			}
		}
	})
}
