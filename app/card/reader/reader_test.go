package reader

import (
	"errors"
	"strings"
	"testing"
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		name            string
		vendor, product uint16
		classes         []byte
		want            Protocol
		err             error
	}{
		{"RC-S380/S", 0x054C, 0x06C1, []byte{0xFF}, RCS380, nil},
		{"RC-S380/P", 0x054C, 0x06C3, []byte{0xFF}, RCS380, nil},
		{"RC-S300/S", 0x054C, 0x0DC8, []byte{0x0B, 0xFF}, RCS300, nil},
		{"ACS ACR1252U (CCID)", 0x072F, 0x223B, []byte{0x0B}, "", ErrClassReserved},
		{"a keyboard", 0x046D, 0xC31C, []byte{0x03}, "", ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Identify(tt.vendor, tt.product, tt.classes)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), "RC-S380") {
					t.Fatalf("Identify = %v, want %v naming what works instead", err, tt.err)
				}
				return
			}
			if err != nil || m.Protocol != tt.want {
				t.Fatalf("Identify = %+v, %v", m, err)
			}
		})
	}
	if len(Filters()) != len(Supported) {
		t.Fatal("Filters does not list every supported reader")
	}
}
