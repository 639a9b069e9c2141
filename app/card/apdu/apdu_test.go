package apdu

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestEncode(t *testing.T) {
	big := bytes.Repeat([]byte{0xAB}, 300)
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"case 1", Command{CLA: 0x00, INS: 0x20, P1: 0x00, P2: 0x80, Le: NoLe}, "00 20 00 80"},
		{"case 2, Le 256", Command{INS: 0xB0, Le: 256}, "00 B0 00 00 00"},
		{"case 3: select JPKI", Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: unhex("D3 92 F0 00 26 01 00 00 00 01"), Le: NoLe}, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"},
		{"case 4", Command{CLA: 0x80, INS: 0x2A, P1: 0x00, P2: 0x80, Data: []byte{1, 2}, Le: 0}, "80 2A 00 80 02 01 02 00"},
		{"case 2 extended", Command{INS: 0xB0, Le: 65536}, "00 B0 00 00 00 00 00"},
		{"case 3 extended", Command{INS: 0xD6, Data: big, Le: NoLe}, "00 D6 00 00 00 01 2C" + strings.Repeat(" AB", 300)},
		{"case 4 extended", Command{INS: 0x2A, Data: big, Le: 512}, "00 2A 00 00 00 01 2C" + strings.Repeat(" AB", 300) + " 02 00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.cmd.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(tt.want); !bytes.Equal(b, want) {
				t.Fatalf("Encode = % X\nwant     % X", b, want)
			}
			back, err := ParseCommand(b)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.cmd
			if want.Le == 0 { // "as much as there is": 256 in the short form
				want.Le = MaxShortLe
			}
			if len(want.Data) == 0 {
				want.Data = nil
			}
			if len(back.Data) == 0 {
				back.Data = nil
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("ParseCommand = %+v, want %+v", back, want)
			}
		})
	}
	if _, err := (Command{Data: make([]byte, 70000)}).Encode(); err == nil {
		t.Fatal("Encode accepted 70,000 data bytes")
	}
}

func TestParseCommandRejects(t *testing.T) {
	for _, in := range []string{"", "00 A4 04", "00 A4 04 0C 05 01 02", "00 A4 04 0C 00 00", "00 A4 04 0C 00 00 05 01"} {
		if _, err := ParseCommand(unhex(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCommand(%s) = %v, want ErrMalformed", in, err)
		}
	}
	if _, err := ParseResponse([]byte{0x90}); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseResponse of one byte: %v", err)
	}
}

func TestErr(t *testing.T) {
	var wp *WrongPINError
	if err := Err(0x63C2); !errors.As(err, &wp) || wp.Remaining != 2 {
		t.Fatalf("Err(63C2) = %v", err)
	}
	for sw, want := range map[uint16]error{0x6984: ErrPINBlocked, 0x6982: ErrSecurityStatus, 0x6A82: ErrFileNotFound, 0x6B00: ErrOffsetPastEnd, 0x6700: ErrWrongLength} {
		if err := Err(sw); !errors.Is(err, want) {
			t.Errorf("Err(%04X) = %v, want %v", sw, err, want)
		}
	}
	var se *StatusError
	if err := Err(0x6F00); !errors.As(err, &se) || se.SW != 0x6F00 {
		t.Fatalf("Err(6F00) = %v", err)
	}
}

// script answers each command with the next canned response, recording
// what was sent.
type script struct {
	answers []string
	sent    []string
}

func (s *script) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	s.sent = append(s.sent, strings.ToUpper(hex.EncodeToString(cmd)))
	if len(s.answers) == 0 {
		return nil, errors.New("no more answers")
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return unhex(a), nil
}

func TestExchangeChaining(t *testing.T) {
	s := &script{answers: []string{"01 02 61 03", "03 04 05 90 00"}}
	got, err := Exchange(context.Background(), s, Command{INS: 0xB0, Le: 0})
	if err != nil || !bytes.Equal(got, []byte{1, 2, 3, 4, 5}) {
		t.Fatalf("Exchange = % X, %v", got, err)
	}
	if s.sent[1] != "00C0000003" {
		t.Fatalf("GET RESPONSE sent as %s", s.sent[1])
	}

	s = &script{answers: []string{"6C 10", strings.Repeat("AA ", 16) + "90 00"}}
	got, err = Exchange(context.Background(), s, Command{INS: 0xB0, Le: 0})
	if err != nil || len(got) != 16 || s.sent[1] != "00B0000010" {
		t.Fatalf("6Cxx: % X, %v, sent %v", got, err, s.sent)
	}

	s = &script{answers: []string{"63 C1"}}
	_, err = Exchange(context.Background(), s, Command{INS: 0x20, P2: 0x80, Data: []byte("1234"), Le: NoLe})
	var wp *WrongPINError
	if !errors.As(err, &wp) || wp.Remaining != 1 {
		t.Fatalf("wrong PIN: %v", err)
	}
	if len(s.sent) != 1 {
		t.Fatalf("Exchange sent %d commands after a wrong PIN: it must never retry", len(s.sent))
	}

	s = &script{answers: []string{"61 01", "61 01", "61 01"}}
	for range maxChain {
		s.answers = append(s.answers, "61 01")
	}
	if _, err := Exchange(context.Background(), s, Command{INS: 0xB0, Le: 0}); err == nil {
		t.Fatal("an endless 61xx chain was followed forever")
	}
}

// FuzzParseCommand: no input panics, and what parses encodes back to the
// same bytes' meaning.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"00A4040C0AD392F000260100000001", "00B0000000", "00B00000000000", "00200080", "802A0080020102000200"} {
		f.Add(unhex(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatalf("re-encode %+v: %v", c, err)
		}
		c2, err := ParseCommand(enc)
		if err != nil || c2.Le != c.Le || !bytes.Equal(c2.Data, c.Data) || c2.INS != c.INS {
			t.Fatalf("round trip: %+v -> % X -> %+v, %v", c, enc, c2, err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add(unhex("0102 9000"))
	f.Add(unhex("63C2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatalf("round trip % X -> % X", b, r.Encode())
		}
	})
}
