package copay

import (
	"fmt"
	"time"
)

// Subsidy is a city's child medical subsidy (子ども医療費助成), a payer
// of its own beside the insurer: it pays the share of a child up to the
// end of a school year, all of it, or all but a fixed amount per visit.
// The city sets it; the pass applies it.
type Subsidy struct {
	// Name is the programme, for the receipt.
	Name string
	// UntilAge: children are covered up to the first 31 March on or after
	// they reach this age (15: through junior high; 18: through the year
	// a high-school student finishes). 0: no subsidy.
	UntilAge int
	// PerVisit is what the family still pays per visit when the subsidy
	// is partial (yen, a multiple of 10); 0: the subsidy pays all.
	PerVisit int64
}

// Validate reports whether s can be applied.
func (s Subsidy) Validate() error {
	switch {
	case s.UntilAge < 0 || s.UntilAge > 22:
		return fmt.Errorf("%w: subsidy until age %d", ErrInvalid, s.UntilAge)
	case s.PerVisit < 0 || s.PerVisit%10 != 0:
		return fmt.Errorf("%w: subsidy leaves ¥%d per visit (a multiple of ¥10)", ErrInvalid, s.PerVisit)
	case s.UntilAge > 0 && s.Name == "":
		return fmt.Errorf("%w: a subsidy without a name", ErrInvalid)
	}
	return nil
}

// Covers reports whether a child born on birth is covered on day on.
func (s Subsidy) Covers(birth, on time.Time) bool {
	return s.UntilAge > 0 && !dateOf(on).After(SchoolYearEnd(birth, s.UntilAge))
}

// Patient is what the share depends on: the birth date, and the income
// class staff set from the qualification check.
type Patient struct {
	Birth  time.Time
	Income Income
}

// Split is a bill divided among its payers, in yen: Total = Insurer +
// Share, and Share = Subsidy + Patient (what the window charges).
type Split struct {
	Points  int64
	Total   int64 // points × ¥10
	Tenths  int   // the share's rate, in 割
	Bracket Bracket
	Insurer int64
	Share   int64 // the patient's share, rounded, before the subsidy
	Subsidy int64 // what the city's subsidy pays of Share
	Patient int64 // what the patient pays
	// SubsidyName is the programme that paid, "" when none did.
	SubsidyName string
}

// MaxPoints bounds one visit's points: an outpatient day is hundreds to
// tens of thousands of points; ten million is no day's bill.
const MaxPoints = 10_000_000

// Compute divides a visit's points among the insurer, the city's
// subsidy and the patient, on day on.
func Compute(points int64, p Patient, on time.Time, s Subsidy) (Split, error) {
	if points < 0 || points > MaxPoints {
		return Split{}, fmt.Errorf("%w: %d points", ErrInvalid, points)
	}
	if err := s.Validate(); err != nil {
		return Split{}, err
	}
	tenths, b, err := Rate(p.Birth, on, p.Income)
	if err != nil {
		return Split{}, err
	}
	total := points * YenPerPoint
	// The share in yen is total × tenths / 10 = points × tenths, exact;
	// the rounding is of that figure.
	share := min(Round(points*int64(tenths)), total)
	sp := Split{Points: points, Total: total, Tenths: tenths, Bracket: b, Insurer: total - share, Share: share, Patient: share}
	if s.Covers(p.Birth, on) && share > 0 {
		sp.Patient = min(share, s.PerVisit)
		sp.Subsidy = share - sp.Patient
		sp.SubsidyName = s.Name
	}
	return sp, nil
}
