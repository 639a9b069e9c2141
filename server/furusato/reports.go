package furusato

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	rules "smartpass.city/smartpass/app/furusato"
)

// tally is donations and the costs of the gifts handed over for them.
type tally struct {
	count int
	gifts int
	rules.Ratio
}

func (t *tally) add(d rules.Donation, cost int64, handed bool) {
	t.count++
	if handed {
		t.gifts++
	} else {
		cost = 0
	}
	t.Add(d.Amount, cost)
}

// percent formats the ratio to one decimal place.
func (t tally) percent() string { return strconv.FormatFloat(t.Percent(), 'f', 1, 64) }

// reportRows returns the rows of the named report: donations by shop, by
// item or by month (Japan time), the city's gift-cost ratio against the
// 50% rule, or the one-stop applications by municipality of residence
// and their export state. No report names a donor.
func (s *Service) reportRows(name string) ([][]string, error) {
	if name == "onestop" {
		return s.oneStopRows()
	}
	b, err := s.book()
	if err != nil {
		return nil, err
	}
	var key func(rules.Donation) string
	var head []string
	switch name {
	case "shops":
		key, head = func(d rules.Donation) string { return d.Shop }, []string{"店舗 shop"}
	case "items":
		key, head = func(d rules.Donation) string { return d.Shop + "\x00" + d.Item }, []string{"店舗 shop", "返礼品 item", "品名 name"}
	case "months":
		key, head = func(d rules.Donation) string { return d.At.In(jst).Format("2006-01") }, []string{"月 month"}
	case "ratio":
		key, head = func(rules.Donation) string { return "" }, nil
	default:
		return nil, fmt.Errorf("%w: %q", errReport, name)
	}
	groups := make(map[string]*tally)
	for id, d := range b.Donations {
		k := key(d)
		if groups[k] == nil {
			groups[k] = &tally{}
		}
		groups[k].add(d, b.Items[rules.ItemKey(d.Shop, d.Item)].Cost, b.Given[id] != "")
	}
	head = append(head, "寄附件数 donations", "寄附額 amount", "返礼品数 gifts", "調達費 cost", "経費率% cost ratio", "5割以内 within 50%")
	rows := [][]string{head}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		t := groups[k]
		var row []string
		switch name {
		case "items":
			shop, item, _ := strings.Cut(k, "\x00")
			row = []string{shop, item, b.Items[rules.ItemKey(shop, item)].NameJA}
		case "ratio":
		default:
			row = []string{k}
		}
		rows = append(rows, append(row, strconv.Itoa(t.count), strconv.FormatInt(t.Donations, 10), strconv.Itoa(t.gifts),
			strconv.FormatInt(t.Costs, 10), t.percent(), strconv.FormatBool(t.Within50())))
	}
	return rows, nil
}

// oneStopRows counts the applications by municipality of residence:
// exported and waiting.
func (s *Service) oneStopRows() ([][]string, error) {
	apps, err := s.applications(func(application) bool { return true })
	if err != nil {
		return nil, err
	}
	type state struct{ exported, waiting int }
	by := make(map[string]*state)
	for _, a := range apps {
		if by[a.Municipality] == nil {
			by[a.Municipality] = &state{}
		}
		if a.Exported.IsZero() {
			by[a.Municipality].waiting++
		} else {
			by[a.Municipality].exported++
		}
	}
	rows := [][]string{{"住所地市区町村 municipality", "申請 applications", "送付済 exported", "未送付 waiting"}}
	for _, m := range slices.Sorted(maps.Keys(by)) {
		st := by[m]
		rows = append(rows, []string{m, strconv.Itoa(st.exported + st.waiting), strconv.Itoa(st.exported), strconv.Itoa(st.waiting)})
	}
	return rows, nil
}
