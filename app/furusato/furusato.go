// Package furusato holds the rules of the hometown tax (ふるさと納税) that
// a donation counter and a donor's account page apply: which gifts a
// municipality may offer (cost at most 30% of the donation, local
// produce), whether a donor may receive one (not the city's own
// residents), the city's total gift-cost ratio (at most 50%), the donor's
// deduction ceiling estimated from figures they type, and whether a
// donation can still take the one-stop exception (at most five
// municipalities in the year, applied for by January 10 of the next).
//
// The rules are the law's as the Ministry of Internal Affairs states
// them; the figures are yen, as integers, and a ratio is checked in
// integers so no rounding lets an item through.
package furusato

import (
	"errors"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/jpaddress"
)

// Errors the rules return; the caller puts them in words.
var (
	// ErrCostOver30 means a gift costs more than 30% of its donation.
	ErrCostOver30 = errors.New("furusato: the gift costs more than 30% of the donation")
	// ErrNotLocal means a gift is not the municipality's own produce.
	ErrNotLocal = errors.New("furusato: the gift is not local produce")
	// ErrInvalidItem means an item's figures make no sense (no name, a
	// donation not above zero, a negative cost or stock).
	ErrInvalidItem = errors.New("furusato: invalid item")
	// ErrOutOfStock means the gift has none left to hand over.
	ErrOutOfStock = errors.New("furusato: the gift is out of stock")
	// ErrOwnResident means the donor lives in the municipality, which may
	// not give its own residents a gift (the donation is still welcome).
	ErrOwnResident = errors.New("furusato: a resident of the city receives no gift")
	// ErrTooManyMunicipalities means a sixth municipality in the year:
	// the one-stop exception no longer applies; the donor files a tax
	// return.
	ErrTooManyMunicipalities = errors.New("furusato: more than five municipalities this year")
	// ErrPastDeadline means the one-stop application is after January 10
	// of the year after the donation.
	ErrPastDeadline = errors.New("furusato: the one-stop application deadline has passed")
)

// Item is a gift a shop offers for a donation.
type Item struct {
	ID       string `json:"id"`
	NameJA   string `json:"name_ja"`
	Donation int64  `json:"donation"` // yen the donor gives
	Cost     int64  `json:"cost"`     // yen the city pays for the gift
	Local    bool   `json:"local"`    // the municipality's own produce
	Stock    int    `json:"stock"`
}

// Check applies the gift rules to an item: the server refuses an item
// that breaks them when a shop lists it.
func (it Item) Check() error {
	switch {
	case it.ID == "" || it.NameJA == "":
		return fmt.Errorf("%w: an item needs an id and a name", ErrInvalidItem)
	case it.Donation <= 0:
		return fmt.Errorf("%w: %s: donation ¥%d", ErrInvalidItem, it.ID, it.Donation)
	case it.Cost < 0 || it.Stock < 0:
		return fmt.Errorf("%w: %s: negative cost or stock", ErrInvalidItem, it.ID)
	case it.Cost*10 > it.Donation*3:
		return fmt.Errorf("%w: %s costs ¥%d for a ¥%d donation (at most ¥%d)", ErrCostOver30, it.ID, it.Cost, it.Donation, it.Donation*3/10)
	case !it.Local:
		return fmt.Errorf("%w: %s", ErrNotLocal, it.ID)
	}
	return nil
}

// Gift says whether a donor living at address may receive a gift from
// city (the municipality's place, as jpaddress parses it), and whether
// item can be handed over. A donor whose address cannot be parsed gets
// the parse error: staff check it by hand rather than guess.
func Gift(city jpaddress.Place, address string, item Item) error {
	p, err := jpaddress.Parse(address)
	if err != nil {
		return err
	}
	if p == city {
		return fmt.Errorf("%w (%s)", ErrOwnResident, city)
	}
	if item.Stock <= 0 {
		return fmt.Errorf("%w: %s", ErrOutOfStock, item.ID)
	}
	return nil
}

// Ratio is the gift costs of a period against its donations.
type Ratio struct {
	Donations, Costs int64
}

// Add counts one donation and the cost of its gift (0 when none).
func (r *Ratio) Add(donation, cost int64) { r.Donations += donation; r.Costs += cost }

// Percent is the costs as a percentage of the donations, to one decimal
// place (rounded down), for the city's report.
func (r Ratio) Percent() float64 {
	if r.Donations == 0 {
		return 0
	}
	return float64(r.Costs*1000/r.Donations) / 10
}

// Within50 says whether the costs are at most half the donations.
func (r Ratio) Within50() bool { return r.Costs*2 <= r.Donations }

// IncomeTaxRates are the marginal income-tax rates, in percent, a donor
// picks from for the ceiling estimate.
var IncomeTaxRates = []int{0, 5, 10, 20, 23, 33, 40, 45}

// Ceiling estimates the most a donor can give with only ¥2,000 left to
// pay themselves: 住民税所得割 × 20% ÷ (90% − 所得税率 × 1.021) + ¥2,000.
// residentTax is the income-based part of their resident tax (from their
// 住民税決定通知書), rate their marginal income-tax rate in percent (one
// of IncomeTaxRates). The result is rounded down to the yen; it is an
// estimate, and the screen says so. Nothing typed is stored.
func Ceiling(residentTax int64, rate int) (int64, error) {
	known := false
	for _, r := range IncomeTaxRates {
		known = known || r == rate
	}
	if !known {
		return 0, fmt.Errorf("furusato: income-tax rate %d%% is not one of %v", rate, IncomeTaxRates)
	}
	if residentTax < 0 {
		return 0, fmt.Errorf("furusato: resident tax ¥%d is negative", residentTax)
	}
	// In thousandths of a percent: 90% − rate × 1.021 = (90000 − 1021 ×
	// rate) / 100000.
	denom := int64(90000 - 1021*rate)
	return residentTax*20*1000/denom + 2000, nil
}

// OneStopDeadline is the last day (Japan time) to apply for the one-stop
// exception for a donation made at donated: January 10 of the next year.
func OneStopDeadline(donated time.Time) time.Time {
	y := donated.In(jst).Year()
	return time.Date(y+1, time.January, 10, 23, 59, 59, 0, jst)
}

var jst = time.FixedZone("JST", 9*60*60)

// OneStop says whether a donation made at donated can still take the
// one-stop exception at now, with others the other municipalities the
// donor declares for the same year (this city counted once, whatever
// they declare of it).
func OneStop(donated, now time.Time, city string, others []string) error {
	if now.After(OneStopDeadline(donated)) {
		return fmt.Errorf("%w: the deadline was %s", ErrPastDeadline, OneStopDeadline(donated).Format("2006-01-02"))
	}
	seen := map[string]bool{city: true}
	for _, o := range others {
		seen[o] = true
	}
	if n := len(seen); n > 5 {
		return fmt.Errorf("%w: %d municipalities", ErrTooManyMunicipalities, n)
	}
	return nil
}
