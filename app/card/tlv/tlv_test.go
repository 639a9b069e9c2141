package tlv

import (
	"bytes"
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	inner := Append(nil, 0xDF22, []byte("山田\u3000太郎"))
	inner = Append(inner, 0xDF24, []byte("19500101"))
	inner = Append(inner, 0xDF25, []byte("1"))
	file := Append(nil, 0xFF20, inner)
	file = append(file, 0xFF, 0xFF, 0xFF) // padded to the file's size
	outer, err := Parse(file)
	if err != nil || len(outer) != 1 || outer[0].Tag != 0xFF20 {
		t.Fatalf("Parse = %+v, %v", outer, err)
	}
	facts, err := Parse(outer[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := Find(facts, 0xDF24); !ok || string(v) != "19500101" {
		t.Fatalf("DF24 = %q %v", v, ok)
	}
	if _, ok := Find(facts, 0xDF23); ok {
		t.Fatal("found an absent tag")
	}
	// Long lengths: 81 and 82 forms.
	for _, n := range []int{0x7F, 0x80, 0xFF, 0x100, 3000} {
		b := Append(nil, 0xDF27, bytes.Repeat([]byte{7}, n))
		ts, err := Parse(b)
		if err != nil || len(ts) != 1 || len(ts[0].Value) != n {
			t.Fatalf("length %d: %v", n, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range [][]byte{
		{0xDF},                   // tag without its second byte
		{0xDF, 0x22},             // no length
		{0xDF, 0x22, 0x05, 1, 2}, // short value
		{0xDF, 0x22, 0x84, 0, 0, 0, 1, 0},
		{0xDF, 0x22, 0x80},             // indefinite length: not on this card
		{0x1F, 0x81, 0x81, 0x81, 0x01}, // a tag that never ends
	} {
		if _, err := Parse(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(% X) = %v, want ErrMalformed", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Append(nil, 0xFF20, Append(nil, 0xDF22, []byte("x"))))
	f.Add([]byte{0xDF, 0x22, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := Parse(b)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range ts {
			again = Append(again, e.Tag, e.Value)
		}
		ts2, err := Parse(again)
		if err != nil || len(ts2) != len(ts) {
			t.Fatalf("re-encoded TLVs do not parse alike: %v", err)
		}
	})
}
