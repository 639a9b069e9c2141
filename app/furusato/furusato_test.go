package furusato

import (
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/jpaddress"
)

func TestItemCheck(t *testing.T) {
	ok := Item{ID: "crab", NameJA: "加能ガニ", Donation: 10000, Cost: 3000, Local: true, Stock: 3}
	for _, tt := range []struct {
		name string
		edit func(*Item)
		want error
	}{
		{"exactly 30%", func(*Item) {}, nil},
		{"one yen over 30%", func(i *Item) { i.Cost = 3001 }, ErrCostOver30},
		{"30% of an odd donation", func(i *Item) { i.Donation, i.Cost = 10001, 3000 }, nil},
		{"not local", func(i *Item) { i.Local = false }, ErrNotLocal},
		{"no name", func(i *Item) { i.NameJA = "" }, ErrInvalidItem},
		{"free donation", func(i *Item) { i.Donation = 0 }, ErrInvalidItem},
		{"negative stock", func(i *Item) { i.Stock = -1 }, ErrInvalidItem},
	} {
		it := ok
		tt.edit(&it)
		if err := it.Check(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestGift(t *testing.T) {
	kaga := jpaddress.Place{Prefecture: "石川県", Municipality: "加賀市"}
	item := Item{ID: "crab", NameJA: "加能ガニ", Donation: 10000, Cost: 3000, Local: true, Stock: 1}
	for _, tt := range []struct {
		address string
		stock   int
		want    error
	}{
		{"東京都世田谷区世田谷４－２１－２７", 1, nil},
		{"石川県金沢市広坂１－１－１", 1, nil},
		{"石川県加賀市大聖寺南町ニ４１", 1, ErrOwnResident},
		{"東京都世田谷区世田谷４－２１－２７", 0, ErrOutOfStock},
		{"世田谷４－２１－２７", 1, jpaddress.ErrUnparsed},
	} {
		it := item
		it.Stock = tt.stock
		if err := Gift(kaga, tt.address, it); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("Gift(%s, stock %d) = %v, want %v", tt.address, tt.stock, err, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	var r Ratio
	r.Add(10000, 3000)
	r.Add(10000, 0) // a resident's donation: no gift
	if r.Percent() != 15 || !r.Within50() {
		t.Fatalf("ratio %+v: %v%%, within %v", r, r.Percent(), r.Within50())
	}
	r.Add(1000, 8001) // a gift far over cost, as a report would show
	if r.Within50() {
		t.Fatalf("ratio %+v reported within 50%%", r)
	}
}

// TestCeiling checks the formula against figures worked by hand: ¥300,000
// of resident tax at a 10% rate gives 60,000 ÷ (0.90 − 0.1021) + 2,000,
// rounded down.
func TestCeiling(t *testing.T) {
	for _, tt := range []struct {
		tax  int64
		rate int
		want int64
	}{
		{300000, 10, 77197},  // 60000 / 0.7979 = 75197.39
		{300000, 5, 72675},   // 60000 / 0.84895 = 70675.54
		{300000, 20, 88231},  // 60000 / 0.6958 = 86231.68
		{300000, 45, 138193}, // 60000 / 0.44055 = 136193.39
		{0, 20, 2000},
	} {
		got, err := Ceiling(tt.tax, tt.rate)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("Ceiling(%d, %d%%) = %d, want %d", tt.tax, tt.rate, got, tt.want)
		}
	}
	if _, err := Ceiling(100, 7); err == nil {
		t.Error("a 7% rate accepted")
	}
}

func TestOneStop(t *testing.T) {
	donated := time.Date(2026, 12, 2, 14, 0, 0, 0, jst)
	for _, tt := range []struct {
		name   string
		now    time.Time
		others []string
		want   error
	}{
		{"same day", donated, nil, nil},
		{"January 10, late evening", time.Date(2027, 1, 10, 23, 0, 0, 0, jst), nil, nil},
		{"January 11", time.Date(2027, 1, 11, 0, 0, 1, 0, jst), nil, ErrPastDeadline},
		{"four others", donated, []string{"a", "b", "c", "d"}, nil},
		{"ours declared again", donated, []string{"加賀市", "a", "b", "c", "d"}, nil},
		{"a sixth", donated, []string{"a", "b", "c", "d", "e"}, ErrTooManyMunicipalities},
	} {
		if err := OneStop(donated, tt.now, "加賀市", tt.others); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
