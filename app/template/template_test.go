package template

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"smartpass.city/smartpass/syncproto"
)

func TestPackIsUnitLength(t *testing.T) {
	v := make([]float32, 128)
	for i := range v {
		v[i] = float32(i%7) - 3
	}
	got := Unpack(Pack(v))
	var sum float64
	for _, x := range got {
		sum += float64(x) * float64(x)
	}
	if math.Abs(sum-1) > 1e-3 {
		t.Fatalf("|v|² = %f after packing, want 1", sum)
	}
	if len(Pack(v)) != 256 {
		t.Fatalf("128 dims packed into %d bytes, want 256", len(Pack(v)))
	}
}

func TestValidate(t *testing.T) {
	good := Template{Resident: "r1", Model: "m", Facilities: []string{"kaga-playpark"}, Vec: Pack([]float32{1, 2})}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Template){
		"no resident":   func(t *Template) { t.Resident = "" },
		"no model":      func(t *Template) { t.Model = "" },
		"odd vector":    func(t *Template) { t.Vec = t.Vec[:3] },
		"no facilities": func(t *Template) { t.Facilities = nil },
		"huge vector":   func(t *Template) { t.Vec = make([]byte, 2*MaxDims+2) },
		"NaN":           func(t *Template) { t.Vec = Pack([]float32{1, float32(math.NaN())}) },
		"infinity":      func(t *Template) { t.Vec = Pack([]float32{float32(math.Inf(-1)), 2}) },
	} {
		bad := good
		mut(&bad)
		if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}

func TestErases(t *testing.T) {
	put, _ := json.Marshal(Template{Resident: "r-1"})
	del, _ := json.Marshal(Delete{Resident: "r-1"})
	cases := []struct {
		op       syncproto.Op
		resident string
		erases   bool
	}{
		{syncproto.Op{Kind: OpPut, Body: put}, "r-1", false},
		{syncproto.Op{Kind: OpDelete, Body: del}, "r-1", true},
		{syncproto.Op{Kind: "shelter.evacuee.add", Body: put}, "", false},
		{syncproto.Op{Kind: OpDelete, Body: json.RawMessage(`[`)}, "", false},
	}
	for _, c := range cases {
		if r, e := Erases(c.op); r != c.resident || e != c.erases {
			t.Errorf("%s %s: %q %v, want %q %v", c.op.Kind, c.op.Body, r, e, c.resident, c.erases)
		}
	}
}

func TestRedact(t *testing.T) {
	put, _ := json.Marshal(Template{Resident: "r-1", Model: "m", Facilities: []string{"p"}, Vec: Pack([]float32{1, 2})})
	op := Redact(syncproto.Op{Device: "desk", Seq: 3, Global: 9, Kind: OpPut, Body: put})
	if op.Kind != OpErased || op.Device != "desk" || op.Seq != 3 || op.Global != 9 || string(op.Body) != `{"resident":"r-1"}` {
		t.Fatalf("redacted op %+v %s", op, op.Body)
	}
	if r, e := Erases(op); r != "" || e {
		t.Fatalf("an erased op is about %q (erases %v): devices must ignore it", r, e)
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		expires time.Time
		want    bool
	}{
		{time.Time{}, false},
		{now.Add(time.Hour), false},
		{now, true},
		{now.Add(-time.Hour), true},
	} {
		if got := (Template{Expires: tc.expires}).Expired(now); got != tc.want {
			t.Errorf("Expired with expiry %s = %v", tc.expires, got)
		}
	}
}
