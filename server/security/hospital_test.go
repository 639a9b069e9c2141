package security

import (
	"net/http"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/visits"
)

// TestHospitalAttacks (issue 19's review, findings V1–V6; none worked
// on the code as it stood): the hospital visit's endpoints on the real
// server. The medical centre's reception publishes tomorrow's slots and
// Hanako books one; then, refused each in its own code: Taro booking,
// answering, cancelling or consenting for her (another household), a
// play park's tablet asking the hospital's day list and her history,
// another hospital's reception reading her history with no consent,
// and her own booking posted from another site. Her booking stands,
// unanswered.
func TestHospitalAttacks(t *testing.T) {
	s := householdStart(t)
	taro, hanako := s.households(t)
	reception := s.Enroll(t, "reception-1", "kaga-medical", "reception")
	tomorrow := time.Now().In(appointment.JST).AddDate(0, 0, 1)
	slots := visits.DemoSlots(tomorrow)
	desk := domainDevice{t: t, p: s.Proc, id: "reception-1", key: reception}
	if refused, _ := desk.push(domainOp(t, 1, appointment.OpSlots, appointment.Day{Hospital: "kaga-medical", Department: "internal", Date: tomorrow.Format(time.DateOnly), Slots: slots})); len(refused) != 0 {
		t.Fatalf("the reception's slots: %v", refused[0])
	}
	book := visit.Book{Hospital: "kaga-medical", Department: "internal", Start: slots[0].Start, Resident: hanako.id}
	var hers visit.Booked
	if status, code := s.asHolder(t, hanako, visit.BookPath, book, &hers); status != http.StatusOK {
		t.Fatalf("Hanako books: %d %s", status, code)
	}
	park := s.Enroll(t, "park-1", "kaga-playpark", "playpark")
	other := s.Enroll(t, "reception-2", "yamanaka-medical", "reception")
	later := book
	later.Start = slots[1].Start

	for _, a := range []struct {
		finding, name string
		body          []byte
		path          string
		origin, site  string
		status        int
		code          string
	}{
		{"V1", "Taro books for Hanako", s.envelope(t, taro.id, taro.key, visit.BookPath, later), visit.BookPath, "", "", http.StatusForbidden, account.CodeNotYours},
		{"V2", "Taro answers Hanako's questionnaire", s.envelope(t, taro.id, taro.key, visit.AnswerPath, visit.Answer{Booking: hers.ID, Values: map[string]string{}}), visit.AnswerPath, "", "", http.StatusNotFound, visit.CodeNoBooking},
		{"V2", "Taro cancels Hanako's booking", s.envelope(t, taro.id, taro.key, visit.CancelPath, visit.Cancel{Hospital: "kaga-medical", ID: hers.ID}), visit.CancelPath, "", "", http.StatusNotFound, visit.CodeNoBooking},
		{"V3", "Taro consents for Hanako", s.envelope(t, taro.id, taro.key, visit.ConsentPath, visit.Consent{Resident: hanako.id, Hospital: "yamanaka-medical", Kind: medical.Allergies}), visit.ConsentPath, "", "", http.StatusForbidden, account.CodeNotYours},
		{"V4", "a play park's tablet reads the hospital's day list", s.envelope(t, "park-1", park.Key, visit.DayPath, visit.Day{Date: tomorrow.Format(time.DateOnly)}), visit.DayPath, "", "", http.StatusForbidden, visit.CodeDevice},
		{"V4", "a play park's tablet reads Hanako's history", s.envelope(t, "park-1", park.Key, visit.HistoryPath, visit.Lookup{Resident: hanako.id, Staff: "受付 山田"}), visit.HistoryPath, "", "", http.StatusForbidden, visit.CodeDevice},
		{"V5", "another hospital reads Hanako's history with no consent", s.envelope(t, "reception-2", other.Key, visit.HistoryPath, visit.Lookup{Resident: hanako.id, Staff: "受付 山中"}), visit.HistoryPath, "", "", http.StatusForbidden, visit.CodeNoConsent},
		{"V6", "Hanako's booking posted from another site", s.envelope(t, hanako.id, hanako.key, visit.BookPath, later), visit.BookPath, "https://evil.example", "cross-site", http.StatusForbidden, httpguard.CodeCrossOrigin},
	} {
		status, code := s.attack(t, a.path, "application/json", a.origin, a.site, a.body)
		if status != a.status || code != a.code {
			t.Errorf("%s %s: %d %q; want %d %q", a.finding, a.name, status, code, a.status, a.code)
		}
	}
	var list []visit.Booked
	if status, code := s.asHolder(t, hanako, visit.BookingsPath, struct{}{}, &list); status != http.StatusOK || len(list) != 1 || list[0].ID != hers.ID || list[0].Status != hers.Status || list[0].Answered {
		t.Errorf("Hanako's bookings after the attacks: %d %s %+v; want her one booking, as booked, unanswered", status, code, list)
	}
	s.auditIntact(t)
}
