package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/copay"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/visit"
)

type dayMounted struct{ *receptionDayPage }

func (m *dayMounted) OnPreRender(ctx app.Context) { m.OnMount(ctx) }

// hospitalDesk is the day's endpoints a reception device signs: one
// booking with its answers, and the bill split as the server splits
// it (a child's 2割, all paid by the city's subsidy).
type hospitalDesk struct {
	bills []visit.Bill
}

func (d *hospitalDesk) Call(_ context.Context, path string, by account.Signer, req, resp any) error {
	if by != account.Device {
		return fmt.Errorf("%s signed by %v", path, by)
	}
	var out any
	switch path {
	case visit.DayPath:
		out = []visit.Booked{{ID: "bk-1", Hospital: "kaga-medical", Department: "pediatrics", Start: time.Now().Add(time.Hour), Resident: "son", Status: appointment.Booked,
			Answered: true, Answers: &appointment.Answers{Questionnaire: appointment.Pediatrics.ID, Values: map[string]string{"allergic": "true", "allergies": "卵", "symptoms": "fever"}}}}
	case visit.BillPath:
		b := req.(visit.Bill)
		d.bills = append(d.bills, b)
		share := copay.Round(b.Points * 2)
		out = visit.Receipt{ID: "r1", Split: copay.Split{Points: b.Points, Share: share, Subsidy: share}, Lines: [][2]string{{"窓口負担 ¥0", "You pay ¥0"}}}
	default:
		return fmt.Errorf("no endpoint %s", path)
	}
	raw, _ := json.Marshal(out)
	return json.Unmarshal(raw, resp)
}

// TestReceptionDay: the tablet lists today's booking with the answers
// in words and the patient's number here; points typed wrong are
// refused on the tablet; the bill posts once typed right, and its
// receipt replaces the form.
func TestReceptionDay(t *testing.T) {
	l := liveAs(t, enroll.Enrollment{Device: "rx-1", Facility: "kaga-medical", Role: scope.Reception})
	if _, err := l.sync.Record(t.Context(), hospital.OpLink, hospital.Link{Facility: "kaga-medical", Resident: "son", Patient: "0012345"}); err != nil {
		t.Fatal(err)
	}
	d := &hospitalDesk{}
	p := &receptionDayPage{live: l, api: d}
	e := load(t, &dayMounted{p}, &p.live)
	until(t, e, "the day read", func() bool { return p.read && !p.busy && p.st != nil && len(p.st.Patients["kaga-medical"]) == 1 })
	html := app.HTMLString(p)
	for _, want := range []string{`data-patient="0012345"`, "アレルギーの内容", "卵", "発熱", "小児科"} {
		if !strings.Contains(html, want) {
			t.Errorf("the day lacks %q", want)
		}
	}
	press(e, &p.live, func() { p.points["bk-1"] = "12.5"; p.post(p.day[0], "0012345") })
	shows(t, p, "day-error", "点数は1以上の整数で入力してください。")
	if len(d.bills) != 0 {
		t.Fatalf("a bill of bad points was posted: %+v", d.bills)
	}
	press(e, &p.live, func() { p.points["bk-1"] = "１２３４"; p.post(p.day[0], "0012345") })
	until(t, e, "posted", func() bool { return !p.busy && len(p.receipts) == 1 })
	if b := d.bills[0]; b.Points != 1234 || b.Visit != "bk-1" || b.Patient != "0012345" || b.Resident != "son" {
		t.Fatalf("bill %+v", b)
	}
	if html := app.HTMLString(p); !strings.Contains(html, `data-patient-pays="0"`) || strings.Contains(html, "bill-post") {
		t.Errorf("the receipt does not replace the form")
	}
}
