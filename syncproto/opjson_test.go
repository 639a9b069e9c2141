package syncproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The alphabets as the regular expressions that defined them.
var (
	kindRE   = regexp.MustCompile(`^[a-z][a-z0-9_.]*$`)
	feedRE   = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	deviceRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

func checkAlphabets(t *testing.T, s string) {
	t.Helper()
	for _, c := range []struct {
		name string
		got  bool
		re   *regexp.Regexp
	}{{"kind", kindChars(s), kindRE}, {"feed", feedChars(s), feedRE}, {"device", deviceChars(s), deviceRE}} {
		if want := c.re.MatchString(s); c.got != want {
			t.Errorf("%sChars(%q) = %v, the expression says %v", c.name, s, c.got, want)
		}
	}
}

func TestAlphabets(t *testing.T) {
	for _, s := range []string{"", "a", "A", "0", "shelter.evacuee.add", "facility.park-1", "tab-3_4", "Tab", "a b", "a\n", "_a", "-a", ".a", "a.", "aZ", "é", "a\x00", "z9_.-"} {
		checkAlphabets(t, s)
	}
}

func FuzzAlphabets(f *testing.F) {
	for _, s := range []string{"shelter.evacuee.add", "facility.park-1", "tab-3_4", "a\n", "é"} {
		f.Add(s)
	}
	f.Fuzz(checkAlphabets)
}

// encoded returns op as Encode writes it inside a frame.
func encoded(t *testing.T, op Op) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := writeJSON(&b, &op); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// checkAppendJSON: AppendJSON refuses what json.Marshal refuses, and
// otherwise writes an op that decodes to what json.Marshal's does, never
// shorter than Encode writes it (a store limits pulls by stored bytes);
// for a compact body, Encode's bytes.
func checkAppendJSON(t *testing.T, op Op) {
	t.Helper()
	marshalled, werr := json.Marshal(&op)
	got, err := op.AppendJSON([]byte("prefix"))
	if (err != nil) != (werr != nil) {
		t.Fatalf("AppendJSON error %v, json.Marshal error %v", err, werr)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("AppendJSON error %v is not ErrInvalid", err)
		}
		return
	}
	got, ok := bytes.CutPrefix(got, []byte("prefix"))
	if !ok {
		t.Fatalf("AppendJSON lost what dst held: %q", got)
	}
	var a, b Op
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("AppendJSON wrote %q: %v", got, err)
	}
	if err := json.Unmarshal(marshalled, &b); err != nil {
		t.Fatal(err)
	}
	var abody, bbody any
	if len(a.Body) > 0 {
		json.Unmarshal(a.Body, &abody)
		json.Unmarshal(b.Body, &bbody)
	}
	a.Body, b.Body = nil, nil
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(abody, bbody) {
		t.Fatalf("AppendJSON wrote %q, json.Marshal %q", got, marshalled)
	}
	want := encoded(t, op)
	if len(got) < len(want) {
		t.Fatalf("AppendJSON wrote %d bytes, fewer than Encode's %d: %q", len(got), len(want), got)
	}
	var compact bytes.Buffer
	if json.Compact(&compact, op.Body) == nil && bytes.Equal(compact.Bytes(), op.Body) && plainJSON(op.Device) && plainJSON(op.Kind) && !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON wrote %q, Encode %q", got, want)
	}
}

func TestAppendJSON(t *testing.T) {
	for _, op := range []Op{
		{Device: "tab-3-4", Seq: 12345, HLC: 1 << 60, Kind: "shelter.evacuee.add", Body: json.RawMessage(`{"shelter":"s-1","name":"山田 太郎","birth_year":1950}`), Global: 987654},
		{Device: "d", Seq: 1, Kind: "k"},
		{Device: "d", Seq: 1, Kind: "k", Body: json.RawMessage(` { "a" : [1, 2] } `)},
		{Device: "d", Seq: 1, Kind: "k", Body: json.RawMessage(`{"a":"<b>&"}`)},
		{Device: "d", Seq: 1, Kind: "k", Body: json.RawMessage("{\"a\":\"\u2028\u2029\"}")},
		{Device: "d", Seq: 1, Kind: "k", Body: json.RawMessage(`"` + strings.Repeat("<", 1000) + `"`)},
		{Device: `d"quote`, Seq: 1, Kind: "k\n", Body: json.RawMessage(`1`)},
		{Device: "d", Seq: 1, Kind: "k", Body: json.RawMessage(`{"a":`)},
		{Device: "d", Seq: 1, Kind: "k", Body: json.RawMessage(`nul`)},
	} {
		checkAppendJSON(t, op)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("tab-3-4", uint64(1), uint64(2), "shelter.evacuee.add", []byte(`{"a":"山田"}`), uint64(3))
	f.Add("d\"", uint64(0), uint64(0), "", []byte(` [1, "<"] `), uint64(0))
	f.Add("d", uint64(1), uint64(1), "k", []byte(`{`), uint64(1))
	f.Fuzz(func(t *testing.T, dev string, seq, hlc uint64, kind string, body []byte, global uint64) {
		checkAppendJSON(t, Op{Device: dev, Seq: seq, HLC: hlc, Kind: kind, Body: body, Global: global})
	})
}
