package visits_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/emergency"
	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/syncproto"
)

// TestRefusals: each bad input of the issue, and each request from
// somebody who may not, is refused with its own code and words.
func TestRefusals(t *testing.T) {
	c := newCity(t)
	mother, ms := c.open(card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19880312", Sex: "2"})
	var son, stranger account.Account
	if err := callAccount(c, ms, account.API.AddMember, account.Member{Facts: card.Facts{Name: "加賀\u3000ゆうと", Address: mother.Facts.Address, BirthDate: "20210605", Sex: "1"}}, &son); err != nil {
		t.Fatal(err)
	}
	other, os := c.open(card.Facts{Name: "山中\u3000一郎", Address: "石川県加賀市山中温泉本町1", BirthDate: "19700101", Sex: "1"})
	stranger = other
	recA := c.device("reception-a", hospitalA, "reception")
	park := c.device("park-1", "kaga-playpark", "playpark")
	today := time.Now().In(appointment.JST)
	at := func(days, h, m int) time.Time {
		y, mo, d := today.AddDate(0, 0, days).Date()
		return time.Date(y, mo, d, h, m, 0, 0, appointment.JST)
	}
	// The 16:00 slot holds one: the son takes it.
	late := must(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(1, 16, 0), Resident: son.ID})
	theirs := must(c, os, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(1, 9, 0), Resident: stranger.ID})
	ped := must(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "pediatrics", Start: at(2, 9, 30), Resident: son.ID})
	ref := "Patient/0012345"
	noProfile := []byte(`{"resourceType":"AllergyIntolerance","patient":{"reference":"` + ref + `"},"code":{"text":"卵"}}`)
	answers := map[string]string{"symptoms": "fever", "since": today.Format(time.DateOnly), "temperature": "45.0", "weight": "18", "convulsion": "false", "allergic": "false", "vaccines": "yes"}

	for _, tc := range []struct {
		name string
		do   func() error
		code string
	}{
		{"a booking in the past", func() error {
			_, err := call(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(-1, 9, 0), Resident: mother.ID})
			return err
		}, visit.CodePast},
		{"a full slot", func() error {
			_, err := call(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(1, 16, 0), Resident: mother.ID})
			return err
		}, visit.CodeFull},
		{"a move into a full slot", func() error {
			_, err := call(c, os, visit.API.Move, visit.Move{Hospital: hospitalA, ID: theirs.ID, Start: at(1, 16, 0)})
			return err
		}, visit.CodeFull},
		{"no slot at that time", func() error {
			_, err := call(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(1, 9, 15), Resident: mother.ID})
			return err
		}, visit.CodeNoSlot},
		{"booked in that slot already", func() error {
			_, err := call(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(1, 16, 0), Resident: son.ID})
			return err
		}, visit.CodeTwice},
		{"a booking for someone outside the household", func() error {
			_, err := call(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(1, 9, 0), Resident: stranger.ID})
			return err
		}, account.CodeNotYours},
		{"a booking at a play park", func() error {
			_, err := call(c, ms, visit.API.Book, visit.Book{Hospital: "kaga-playpark", Department: "internal", Start: at(1, 9, 0), Resident: mother.ID})
			return err
		}, visit.CodeHospital},
		{"cancelling another household's booking", func() error {
			_, err := call(c, ms, visit.API.Cancel, visit.Cancel{Hospital: hospitalA, ID: theirs.ID})
			return err
		}, visit.CodeNoBooking},
		{"answers for another household's booking", func() error {
			_, err := call(c, ms, visit.API.Answer, visit.Answer{Booking: theirs.ID, Values: answers})
			return err
		}, visit.CodeNoBooking},
		{"an answer out of its bounds", func() error {
			_, err := call(c, ms, visit.API.Answer, visit.Answer{Booking: ped.ID, Values: answers})
			return err
		}, visit.CodeAnswer},
		{"an answer to no question", func() error {
			_, err := call(c, ms, visit.API.Answer, visit.Answer{Booking: ped.ID, Values: map[string]string{"shoe-size": "20"}})
			return err
		}, visit.CodeAnswer},
		{"consent for a kind the hospital does not publish", func() error {
			_, err := call(c, ms, visit.API.Consent, visit.Consent{Resident: son.ID, Hospital: hospitalB, Kind: medical.Checkups})
			return err
		}, visit.CodeNotPublished},
		{"consent for longer than a year", func() error {
			_, err := call(c, ms, visit.API.Consent, visit.Consent{Resident: son.ID, Hospital: hospitalB, Kind: medical.Allergies, Days: 400})
			return err
		}, syncproto.CodeInvalid},
		{"a history document for another patient", func() error {
			_, err := call(c, recA, visit.API.Summary, visit.Summary{Resident: son.ID, Patient: "0012345", Visit: today,
				Documents: []json.RawMessage{doc(t, fhirjp.AllergyOf("a", "Patient/7777777", "卵", "food", "high"))}})
			return err
		}, visit.CodeOtherPatient},
		{"a history document for someone who is not the hospital's patient", func() error {
			_, err := call(c, recA, visit.API.Summary, visit.Summary{Resident: mother.ID, Patient: "0012345", Visit: today,
				Documents: []json.RawMessage{doc(t, fhirjp.AllergyOf("a", "Patient/0012345", "卵", "food", "high"))}})
			return err
		}, visit.CodeNoPerson},
		{"an export of someone who is not the hospital's patient", func() error {
			_, err := call(c, recA, visit.API.Export, visit.Export{Resource: visit.ResourcePatient, Resident: mother.ID, Patient: "0012345"})
			return err
		}, visit.CodeNoPerson},
		{"a history document that breaks its profile", func() error {
			_, err := call(c, recA, visit.API.Summary, visit.Summary{Resident: son.ID, Patient: "0012345", Visit: today, Documents: []json.RawMessage{noProfile}})
			return err
		}, visit.CodeDocument},
		{"an emergency lookup with no reason", func() error {
			_, err := call(c, recA, visit.API.Emergency, visit.Emergency{Resident: son.ID, Staff: "医師 田中", Method: "face", Reason: "  "})
			return err
		}, visit.CodeReason},
		{"an emergency confirmed by the same member of staff", func() error {
			_, err := call(c, recA, visit.API.Emergency, visit.Emergency{Resident: son.ID, Staff: "医師 田中", Second: "医師 田中", Method: "second", Reason: "意識不明で搬送"})
			return err
		}, visit.CodeConfirm},
		{"an export failing the profile check", func() error {
			_, err := call(c, recA, visit.API.Export, visit.Export{Resource: visit.ResourcePatient, Resident: son.ID})
			return err
		}, visit.CodeProfile},
		{"an export of no known resource", func() error {
			_, err := call(c, recA, visit.API.Export, visit.Export{Resource: "Observation", Resident: son.ID, Patient: "1"})
			return err
		}, syncproto.CodeInvalid},
		{"a bill of negative points", func() error {
			_, err := call(c, recA, visit.API.Bill, visit.Bill{Visit: late.ID, Resident: son.ID, Patient: "0012345", Date: today, Points: -1})
			return err
		}, visit.CodeBill},
		{"a play park's device asking a hospital's list", func() error {
			_, err := call(c, park, visit.API.Day, visit.Day{Date: today.Format(time.DateOnly)})
			return err
		}, visit.CodeDevice},
		{"a holder's key signing as a device", func() error {
			_, err := call(c, signer{"reception-a", ms.key}, visit.API.Day, visit.Day{Date: today.Format(time.DateOnly)})
			return err
		}, account.CodeSigned},
		{"a day that is not a date", func() error {
			_, err := call(c, recA, visit.API.Day, visit.Day{Date: "tomorrow"})
			return err
		}, syncproto.CodeInvalid},
		{"a damaged notebook", func() error {
			_, err := call(c, ms, visit.API.Notebook, visit.Notebook{Resident: son.ID, Parts: [][]byte{testdata(t, "damaged.csv")}})
			return err
		}, visit.CodeNotebook},
		{"a notebook of an unsupported version", func() error {
			_, err := call(c, ms, visit.API.Notebook, visit.Notebook{Resident: son.ID, Parts: [][]byte{testdata(t, "badversion.csv")}})
			return err
		}, visit.CodeNotebook},
		{"someone else's notebook", func() error {
			_, err := call(c, ms, visit.API.Notebook, visit.Notebook{Resident: mother.ID, Parts: [][]byte{testdata(t, "child.csv")}})
			return err
		}, visit.CodeNotebook},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if got := code(t, err); got != tc.code {
				t.Fatalf("got %v (%s), want %s", err, got, tc.code)
			}
			if e := err.(*syncproto.Error); !strings.Contains(e.Message, " / ") {
				t.Errorf("the refusal has no words in both languages: %q", e.Message)
			}
		})
	}
	// A move takes the new slot and frees the old one.
	must(c, os, visit.API.Move, visit.Move{Hospital: hospitalA, ID: theirs.ID, Start: at(1, 9, 30)})
	if got := must(c, os, visit.API.Bookings, account.None{}); len(got) != 1 || !got[0].Start.Equal(at(1, 9, 30)) {
		t.Fatalf("after the move: %+v", got)
	}
	// A cancellation frees the place it held.
	must(c, ms, visit.API.Cancel, visit.Cancel{Hospital: hospitalA, ID: late.ID})
	must(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: at(1, 16, 0), Resident: mother.ID})
}

// demoSlot is the start of a demo slot days from today at h:m, JST.
func demoSlot(days, h, m int) time.Time {
	y, mo, d := time.Now().In(appointment.JST).AddDate(0, 0, days).Date()
	return time.Date(y, mo, d, h, m, 0, 0, appointment.JST)
}

// TestEmergency: her father, an adult of her household, is identified
// at the emergency tablet with a reason; the summary shows his allergy
// and her as the contact, nothing else; she is notified; the access is
// listed for her with the reason; the audit has it by the device.
func TestEmergency(t *testing.T) {
	c := newCity(t)
	mother, ms := c.open(card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19880312", Sex: "2"})
	var father account.Account
	if err := callAccount(c, ms, account.API.AddMember, account.Member{Facts: card.Facts{Name: "加賀\u3000一郎", Address: mother.Facts.Address, BirthDate: "19480101", Sex: "1"}}, &father); err != nil {
		t.Fatal(err)
	}
	recA := c.device("reception-a", hospitalA, "reception")
	er := c.device("er-b", hospitalB, "reception")
	// He was A's patient: a visit booked, and its summary.
	must(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "internal", Start: demoSlot(1, 11, 0), Resident: father.ID})
	ref := "Patient/A-1"
	must(c, recA, visit.API.Summary, visit.Summary{Resident: father.ID, Patient: "A-1", Visit: time.Now(), Documents: []json.RawMessage{
		doc(t, fhirjp.AllergyOf("a", ref, "ペニシリン", "medication", "high")),
		doc(t, fhirjp.ConditionOf("c", ref, "高血圧症", true, time.Now().AddDate(-3, 0, 0))),
	}})
	if n := must(c, ms, visit.API.Notices, account.None{}); len(n) != 0 {
		t.Fatalf("notices before any use: %+v", n)
	}
	reason := "意識不明で救急搬送、本人確認のため"
	s := must(c, er, visit.API.Emergency, visit.Emergency{Resident: father.ID, Staff: "医師 田中", Method: "face", Reason: reason, Score: 0.9})
	if len(s.Allergies) != 1 || !strings.Contains(s.Allergies[0], "ペニシリン") || len(s.Conditions) != 1 || len(s.Medication) != 0 ||
		s.Contact.Name != mother.Facts.Name || !s.Until.After(time.Now()) {
		t.Fatalf("summary %+v", s)
	}
	n := must(c, ms, visit.API.Notices, account.None{})
	if len(n) != 1 || n[0].Resident != father.ID || n[0].Hospital != hospitalB || n[0].Reason != reason {
		t.Fatalf("her notices: %+v", n)
	}
	acc := must(c, ms, visit.API.Accesses, account.None{})
	if len(acc) != 1 || acc[0].Purpose != medical.PurposeEmergency || acc[0].Reason != reason || acc[0].Hospital != hospitalB {
		t.Fatalf("her accesses: %+v", acc)
	}
	// A face with no registration: "not identified" and nothing else,
	// the use kept for review; nobody is notified.
	refused(c, er, visit.API.Emergency, visit.Emergency{Staff: "医師 田中", Method: "face", Reason: reason, Score: 0.2}, visit.CodeNotIdentified)
	if n := must(c, ms, visit.API.Notices, account.None{}); len(n) != 1 {
		t.Errorf("notices after a lookup that named nobody: %+v", n)
	}
	var uses []string
	ops, err := c.log.Since(scope.FeedAll, 0, 10000, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.Kind == emergency.OpUse {
			u, _ := opkind.Decode[emergency.Use](op)
			uses = append(uses, u.Outcome)
		}
	}
	if !slices.Equal(uses, []string{emergency.Identified, emergency.NotIdentified}) {
		t.Errorf("uses kept for review: %v", uses)
	}
	found := false
	c.audit.About(father.ID, func(e audit.Entry) { found = found || e.Actor == "er-b" && e.Action == "visit.emergency" })
	if !found {
		t.Error("the audit lacks the emergency use")
	}
}

// TestNotebook: a JAHIS notebook imported for the son is his record's
// medication, which a hospital he consents to sees.
func TestNotebook(t *testing.T) {
	c := newCity(t)
	mother, ms := c.open(card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19880312", Sex: "2"})
	var son account.Account
	if err := callAccount(c, ms, account.API.AddMember, account.Member{Facts: card.Facts{Name: "加賀\u3000ゆうと", Address: mother.Facts.Address, BirthDate: "20210605", Sex: "1"}}, &son); err != nil {
		t.Fatal(err)
	}
	got := must(c, ms, visit.API.Notebook, visit.Notebook{Resident: son.ID, Parts: [][]byte{testdata(t, "child.csv")}})
	if got.Medications < 2 {
		t.Fatalf("imported %+v", got)
	}
	must(c, ms, visit.API.Consent, visit.Consent{Resident: son.ID, Hospital: hospitalB, Kind: medical.Medication})
	recB := c.device("reception-b", hospitalB, "reception")
	h := must(c, recB, visit.API.History, visit.Lookup{Resident: son.ID})
	docs := h.Documents[medical.Medication]
	if len(docs) != got.Medications || docs[0].Hospital != medical.NotebookAuthor || !strings.Contains(string(docs[0].Document), "MedicationStatement") {
		t.Fatalf("B sees %+v", h)
	}
}

// FuzzRequests: whatever bytes reach an endpoint, the answer is a
// refusal with its code, never a failure of the server.
func FuzzRequests(f *testing.F) {
	for _, s := range []string{``, `{}`, `null`, `{"signer":"x","nonce":"AAAA","body":{"resident":1},"sig":"AAAA"}`, `{"signer":"","body":"x"}`, `[1,2]`} {
		f.Add(s, 0)
	}
	c := newCity(f)
	paths := []string{visit.BookPath, visit.MovePath, visit.CancelPath, visit.BookingsPath, visit.FormPath, visit.AnswerPath, visit.ConsentPath,
		visit.WithdrawPath, visit.NotebookPath, visit.AccessesPath, visit.ReceiptsPath, visit.NoticesPath, visit.DayPath, visit.HistoryPath,
		visit.SummaryPath, visit.BillPath, visit.EmergencyPath, visit.ExportPath}
	f.Fuzz(func(t *testing.T, body string, path int) {
		p := paths[(path%len(paths)+len(paths))%len(paths)]
		resp, err := http.Post(c.url+p, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e syncproto.Error
		if resp.StatusCode == 200 || resp.StatusCode >= 500 || json.NewDecoder(resp.Body).Decode(&e) != nil || e.Code == "" {
			t.Fatalf("%s %q: %d %+v", p, body, resp.StatusCode, e)
		}
	})
}
