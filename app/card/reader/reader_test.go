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
		ifaces          []Interface
		want            Protocol
		iface           int
		err             error
	}{
		{"RC-S380/S", 0x054C, 0x06C1, []Interface{{0, 0xFF}}, RCS380, 0, nil},
		{"RC-S380/P", 0x054C, 0x06C3, []Interface{{0, 0xFF}}, RCS380, 0, nil},
		{"RC-S300/S: the vendor interface, not the CCID one", 0x054C, 0x0DC8, []Interface{{0, 0x0B}, {1, 0xFF}}, RCS300, 1, nil},
		{"ACS ACR1252U: its CCID interface", 0x072F, 0x223B, []Interface{{0, 0x0B}}, CCID, 0, nil},
		{"a composite device with CCID second", 0x1234, 0x5678, []Interface{{0, 0x03}, {1, 0x0B}}, CCID, 1, nil},
		{"a keyboard", 0x046D, 0xC31C, []Interface{{0, 0x03}}, "", 0, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Identify(tt.vendor, tt.product, tt.ifaces)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), "RC-S380") {
					t.Fatalf("Identify = %v, want %v naming what works instead", err, tt.err)
				}
				return
			}
			if err != nil || m.Protocol != tt.want || m.Interface != tt.iface {
				t.Fatalf("Identify = %+v, %v; want %s on interface %d", m, err, tt.want, tt.iface)
			}
		})
	}
	m, _ := Identify(0x072F, 0x223B, []Interface{{0, 0x0B}})
	if err := Refused(m, errors.New("SecurityError")); !errors.Is(err, ErrClassReserved) || !strings.Contains(err.Error(), "RC-S300") {
		t.Fatalf("Refused = %v", err)
	}
	f := Filters()
	if len(f) != len(Supported)+1 || f[len(f)-1].Class != ClassCCID {
		t.Fatalf("Filters = %+v: want every supported reader and the CCID class", f)
	}
}
