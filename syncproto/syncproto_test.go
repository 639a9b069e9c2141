package syncproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRoundTrip(t *testing.T) {
	frames := []Frame{
		&Hello{Proto: Version, Device: "dev-1", Client: "test"},
		&Welcome{Epoch: "e1", Acked: 7, Head: 99, Server: "v", Facility: "shelter-a", Role: "shelter", Feeds: []string{"public", "facility.shelter-a"}},
		&Challenge{Nonce: bytes.Repeat([]byte{7}, NonceSize)},
		&Auth{Sig: bytes.Repeat([]byte{9}, SignatureSize)},
		&Chunk{Feed: "templates.kaga-playpark", At: 9, Index: 2, Last: true, Ops: []Op{
			{Device: "desk", Seq: 3, HLC: 77, Kind: "face.template.put", Body: json.RawMessage(`{"resident":"r"}`), Global: 9},
			{Device: "desk", Seq: 1, HLC: 70, Kind: "face.template.delete", Global: 4},
		}},
		&Pull{Feed: "templates.x", Snapshot: true, ResumeAt: 90, ResumeFrom: 3},
		&Push{Ops: []Op{{Device: "dev-1", Seq: 1, HLC: 5, Kind: "shelter.evacuee.add", Body: json.RawMessage(`{"a":1}`)}}},
		&Ack{Acked: 3},
		&Pull{Feed: "all", After: 10},
		&Ops{Feed: "all", Ops: []Op{{Device: "d", Seq: 2, HLC: 1, Kind: "k", Global: 4}}, Cursor: 4, CaughtUp: true},
		&Error{Code: CodeInvalid, Message: "bad", Fatal: true},
	}
	for _, f := range frames {
		t.Run(f.Type().String(), func(t *testing.T) {
			b, err := Encode(f)
			if err != nil {
				t.Fatal(err)
			}
			if b[0] != Version || Type(b[1]) != f.Type() {
				t.Fatalf("header = % x, want version %d type %d", b[:2], Version, f.Type())
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, f) {
				t.Fatalf("round trip: got %#v, want %#v", got, f)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	hello := func(body string) []byte { return append([]byte{Version, byte(TypeHello)}, body...) }
	push := func(body string) []byte { return append([]byte{Version, byte(TypePush)}, body...) }
	manyOps := `{"ops":[` + strings.Repeat(`{"seq":1,"kind":"k"},`, MaxOpsPerPush) + `{"seq":1,"kind":"k"}]}`
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"one byte", []byte{Version}, ErrMalformed},
		{"future version", []byte{Version + 1, byte(TypeHello), '{', '}'}, ErrVersion},
		{"unknown type", []byte{Version, 200, '{', '}'}, ErrUnknownType},
		{"not json", hello("not json"), ErrMalformed},
		{"trailing data", hello(`{"proto":1,"device":"d"} {}`), ErrMalformed},
		{"a stray closing brace after the frame", hello(`{"proto":1,"device":"d"}}`), ErrMalformed},
		{"a stray closing bracket after the frame", hello(`{"proto":1,"device":"d"}]`), ErrMalformed},
		{"bad device id", hello(`{"proto":1,"device":"a/b"}`), ErrInvalid},
		{"empty device id", hello(`{"proto":1}`), ErrInvalid},
		{"seq zero", push(`{"ops":[{"seq":0,"kind":"k"}]}`), ErrInvalid},
		{"bad kind", push(`{"ops":[{"seq":1,"kind":"DROP TABLE"}]}`), ErrInvalid},
		{"too many ops", push(manyOps), ErrTooLarge},
		{"huge op body", push(`{"ops":[{"seq":1,"kind":"k","body":"` + strings.Repeat("x", MaxOpBody) + `"}]}`), ErrTooLarge},
		{"oversized frame", make([]byte, MaxFrameSize+1), ErrTooLarge},
		{"bad feed", []byte(string([]byte{Version, byte(TypePull)}) + `{"feed":"","after":1}`), ErrInvalid},
		{"short nonce", []byte(string([]byte{Version, byte(TypeChallenge)}) + `{"nonce":"AAAA"}`), ErrInvalid},
		{"short signature", []byte(string([]byte{Version, byte(TypeAuth)}) + `{"sig":"AAAA"}`), ErrInvalid},
		{"signature not base64", []byte(string([]byte{Version, byte(TypeAuth)}) + `{"sig":"***"}`), ErrMalformed},
		{"welcome with bad feed", []byte(string([]byte{Version, byte(TypeWelcome)}) + `{"feeds":["Bad Feed"]}`), ErrInvalid},
		{"error frame without code", []byte(string([]byte{Version, byte(TypeError)}) + `{"message":"x"}`), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, %v; want error %v", f, err, tt.want)
			}
			if code := CodeOf(err); code == CodeInternal {
				t.Fatalf("CodeOf(%v) = internal, want a specific code", err)
			}
		})
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	_, err := Encode(&Push{Ops: []Op{{Seq: 1, Kind: "k", Body: json.RawMessage("{")}}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Encode invalid body: err = %v, want ErrInvalid", err)
	}
}

func TestCodeOf(t *testing.T) {
	if got := CodeOf(errors.New("other")); got != CodeInternal {
		t.Fatalf("CodeOf(other) = %q, want %q", got, CodeInternal)
	}
}

// FuzzDecode checks that no input makes Decode panic, and that whatever it
// accepts encodes again to a frame that decodes to the same value.
func FuzzDecode(f *testing.F) {
	for _, fr := range []Frame{
		&Hello{Proto: 1, Device: "d"},
		&Push{Ops: []Op{{Device: "d", Seq: 1, HLC: 2, Kind: "a.b", Body: json.RawMessage(`{"x":"y"}`)}}},
		&Ops{Feed: "all", Cursor: 1},
		&Error{Code: "x", Message: "y"},
		&Challenge{Nonce: make([]byte, NonceSize)},
		&Auth{Sig: make([]byte, SignatureSize)},
		&Welcome{Epoch: "e", Feeds: []string{"facility.a-b"}},
		&Chunk{Feed: "templates.a", At: 5, Ops: []Op{{Device: "d", Seq: 1, HLC: 1, Kind: "k", Body: json.RawMessage(`{}`), Global: 5}}},
	} {
		b, err := Encode(fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{Version, byte(TypeAck), '{', '}'})
	f.Fuzz(func(t *testing.T, p []byte) {
		fr, err := Decode(p)
		if err != nil {
			if CodeOf(err) == CodeInternal {
				t.Fatalf("decode error without a code: %v", err)
			}
			return
		}
		b, err := Encode(fr)
		if err != nil {
			t.Fatalf("re-encode of accepted frame: %v", err)
		}
		fr2, err := Decode(b)
		if err != nil {
			t.Fatalf("decode of re-encoded frame: %v", err)
		}
		b2, _ := Encode(fr2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable:\n%q\n%q", b, b2)
		}
	})
}

// Every cut of a chunk short of its end is refused as malformed: a
// terminal on a failing link never stores half a template.
func TestTruncatedChunk(t *testing.T) {
	b, err := Encode(&Chunk{Feed: "templates.a", At: 300, Index: 1, Ops: []Op{
		{Device: "desk", Seq: 1, HLC: 5, Kind: "face.template.put", Body: json.RawMessage(`{"resident":"r1","vec":"AAAA"}`), Global: 200},
		{Device: "desk", Seq: 2, HLC: 6, Kind: "face.template.put", Body: json.RawMessage(`{"resident":"r2","vec":"AAAA"}`), Global: 300},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for n := 2; n < len(b); n++ {
		if f, err := Decode(b[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("chunk cut at %d of %d bytes: %#v, %v; want ErrMalformed", n, len(b), f, err)
		}
	}
	extra := append(bytes.Clone(b), 0)
	if _, err := Decode(extra); !errors.Is(err, ErrMalformed) {
		t.Fatalf("chunk with a trailing byte: %v", err)
	}
	// An op newer than the snapshot it claims to be part of is refused.
	bad, _ := Encode(&Chunk{Feed: "templates.a", At: 300})
	c := &Chunk{Feed: "templates.a", At: 10, Ops: []Op{{Device: "d", Seq: 1, Kind: "k", Global: 11}}}
	bad = append(bad[:2], c.appendBinary(nil)...)
	if _, err := Decode(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("op past the snapshot cursor: %v, want ErrInvalid", err)
	}
}

func TestClip(t *testing.T) {
	for _, msg := range []string{
		strings.Repeat("避難所", 400),            // multi-byte, over the limit
		strings.Repeat("a", MaxMessageLen+1),  // one byte over
		strings.Repeat("\xff", MaxMessageLen), // invalid UTF-8 that would grow
		"short",
	} {
		c := Clip(msg)
		if len(c) > MaxMessageLen || !utf8.ValidString(c) {
			t.Fatalf("Clip gave %d bytes, valid %v", len(c), utf8.ValidString(c))
		}
		b, err := Encode(&Error{Code: CodeInvalid, Message: c})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b); err != nil {
			t.Fatalf("a clipped message does not survive the wire: %v", err)
		}
	}
	if Clip("short") != "short" {
		t.Fatal("Clip changed a short message")
	}
}
