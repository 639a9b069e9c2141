package copay

import (
	"errors"
	"testing"
	"time"
)

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRate(t *testing.T) {
	cases := []struct {
		name      string
		birth, on string
		income    Income
		tenths    int
		bracket   Bracket
	}{
		// Born 2 April 2020: reaches 6 on 1 April 2026, so pre-school
		// until 31 March 2027.
		{"pre-school, last day", "2020-04-02", "2027-03-31", General, 2, Preschool},
		{"school from April", "2020-04-02", "2027-04-01", General, 3, Working},
		// Born 1 April 2020: reaches 6 on 31 March 2026, school a year
		// earlier.
		{"born 1 April: school a year earlier", "2020-04-01", "2026-04-01", General, 3, Working},
		{"born 1 April: pre-school until 31 March", "2020-04-01", "2026-03-31", General, 2, Preschool},
		{"newborn", "2026-11-30", "2026-12-01", Active, 2, Preschool},
		{"69", "1957-06-15", "2026-12-01", General, 3, Working},
		// Born 15 June 1956: reaches 70 on 14 June 2026; 2割 from 1 July.
		{"70 in the month reached: still 3割", "1956-06-15", "2026-06-30", General, 3, Working},
		{"70, next month: 2割", "1956-06-15", "2026-07-01", General, 2, Senior},
		// Born 1 July 1956: reaches 70 on 30 June 2026, so 2割 from 1 July.
		{"born on the 1st: from their birth month", "1956-07-01", "2026-07-01", General, 2, Senior},
		{"70–74 current-level income", "1954-01-10", "2026-12-01", Active, 3, Senior},
		{"70–74 upper counts as general", "1954-01-10", "2026-12-01", Upper, 2, Senior},
		{"day before 75", "1951-12-02", "2026-12-01", General, 2, Senior},
		{"75th birthday: 1割", "1951-12-02", "2026-12-02", General, 1, Elder},
		{"75+ upper", "1940-05-05", "2026-12-01", Upper, 2, Elder},
		{"75+ current-level", "1940-05-05", "2026-12-01", Active, 3, Elder},
		// 29 February: reaches 6 on 28 February 2026 (no 29th).
		{"29 February", "2020-02-29", "2026-03-31", General, 2, Preschool},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tenths, b, err := Rate(d(c.birth), d(c.on), c.income)
			if err != nil || tenths != c.tenths || b != c.bracket {
				t.Errorf("Rate = %d %s %v, want %d %s", tenths, b, err, c.tenths, c.bracket)
			}
		})
	}
	for _, bad := range []struct {
		birth, on string
		income    Income
	}{{"2026-12-02", "2026-12-01", General}, {"1980-01-01", "2026-12-01", Income(7)}} {
		if _, _, err := Rate(d(bad.birth), d(bad.on), bad.income); !errors.Is(err, ErrInvalid) {
			t.Errorf("Rate(%v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestRound(t *testing.T) {
	for in, want := range map[int64]int64{0: 0, 3700: 3700, 3702: 3700, 3704: 3700, 3705: 3710, 3709: 3710, 9995: 10000} {
		if got := Round(in); got != want {
			t.Errorf("Round(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestCompute(t *testing.T) {
	kaga := Subsidy{Name: "加賀市子ども医療費助成", UntilAge: 18}
	partial := Subsidy{Name: "部分助成", UntilAge: 15, PerVisit: 500}
	son := Patient{Birth: d("2019-05-10")}  // 7: school, 3割
	baby := Patient{Birth: d("2024-08-01")} // pre-school, 2割
	cases := []struct {
		name   string
		points int64
		p      Patient
		on     string
		s      Subsidy
		want   Split
	}{
		{"adult 3割, rounded down", 1234, Patient{Birth: d("1980-01-01")}, "2026-12-01", Subsidy{}, Split{Points: 1234, Total: 12340, Tenths: 3, Bracket: Working, Insurer: 8640, Share: 3700, Patient: 3700}},
		{"adult 3割, rounded up", 1235, Patient{Birth: d("1980-01-01")}, "2026-12-01", Subsidy{}, Split{Points: 1235, Total: 12350, Tenths: 3, Bracket: Working, Insurer: 8640, Share: 3710, Patient: 3710}},
		{"son with the city's subsidy: ¥0", 853, son, "2026-12-01", kaga, Split{Points: 853, Total: 8530, Tenths: 3, Bracket: Working, Insurer: 5970, Share: 2560, Subsidy: 2560, Patient: 0, SubsidyName: "加賀市子ども医療費助成"}},
		{"son without it: his class's share", 853, son, "2026-12-01", Subsidy{}, Split{Points: 853, Total: 8530, Tenths: 3, Bracket: Working, Insurer: 5970, Share: 2560, Patient: 2560}},
		{"baby 2割 with a partial subsidy", 853, baby, "2026-12-01", partial, Split{Points: 853, Total: 8530, Tenths: 2, Bracket: Preschool, Insurer: 6820, Share: 1710, Subsidy: 1210, Patient: 500, SubsidyName: "部分助成"}},
		{"partial subsidy above the share", 100, baby, "2026-12-01", partial, Split{Points: 100, Total: 1000, Tenths: 2, Bracket: Preschool, Insurer: 800, Share: 200, Subsidy: 0, Patient: 200, SubsidyName: "部分助成"}},
		// Born 2008-05-10: reaches 18 on 2026-05-09, covered until
		// 2027-03-31 by a subsidy until 18.
		{"last school year covered", 1000, Patient{Birth: d("2008-05-10")}, "2027-03-31", kaga, Split{Points: 1000, Total: 10000, Tenths: 3, Bracket: Working, Insurer: 7000, Share: 3000, Subsidy: 3000, SubsidyName: "加賀市子ども医療費助成"}},
		{"then not", 1000, Patient{Birth: d("2008-05-10")}, "2027-04-01", kaga, Split{Points: 1000, Total: 10000, Tenths: 3, Bracket: Working, Insurer: 7000, Share: 3000, Patient: 3000}},
		{"75+ 1割", 4567, Patient{Birth: d("1945-03-03")}, "2026-12-01", Subsidy{}, Split{Points: 4567, Total: 45670, Tenths: 1, Bracket: Elder, Insurer: 41100, Share: 4570, Patient: 4570}},
		{"zero points", 0, son, "2026-12-01", kaga, Split{Tenths: 3, Bracket: Working}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Compute(c.points, c.p, d(c.on), c.s)
			if err != nil || got != c.want {
				t.Errorf("Compute = %+v %v\nwant      %+v", got, err, c.want)
			}
			if got.Insurer+got.Subsidy+got.Patient != got.Total {
				t.Errorf("payers do not add up to the total: %+v", got)
			}
		})
	}
	for _, bad := range []struct {
		name   string
		points int64
		s      Subsidy
	}{{"negative points", -1, Subsidy{}}, {"absurd points", MaxPoints + 1, Subsidy{}}, {"odd per-visit", 10, Subsidy{Name: "x", UntilAge: 15, PerVisit: 505}}, {"nameless subsidy", 10, Subsidy{UntilAge: 15}}} {
		if _, err := Compute(bad.points, son, d("2026-12-01"), bad.s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", bad.name, err)
		}
	}
}
