package visits_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/copay"
	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/terminal"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/visits"
	"smartpass.city/smartpass/syncproto"
)

// city is the API in the test's process over a real Badger store in a
// temporary directory, with the demo facilities and the demo hospitals'
// publications and slots.
type city struct {
	t     testing.TB
	url   string
	proc  *serverproc.Proc
	audit *audit.Log
	log   *oplog.Log
}

func newCity(t testing.TB) *city {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	logger := slog.New(slog.DiscardHandler)
	log, err := oplog.Open(t.TempDir(), api.LogOptions(key, logger))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pub, err := publish.New(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	anchors := cardtest.Anchors(t, cardtest.PKI(t))
	fac := commands.FacilitiesOf(log)
	au := audit.New(log)
	devs := devices.New(log, fac)
	a, err := api.New(ctx, api.Deps{Log: log, Writer: pub, Devices: devs, Facilities: fac, Audit: au,
		Anchors: &anchors, City: "加賀市", Version: "test", Dev: true, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	// The demo's publications and slots, written as a demo server would.
	if err := visits.New(visits.Deps{Log: log, Writer: pub}).SeedDemo(ctx, time.Now(), 3); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a)
	t.Cleanup(func() {
		ts.Close()
		a.Close()
		log.Close()
	})
	proc := serverproc.Attach(strings.TrimPrefix(ts.URL, "http://"), func(line string) ([]byte, error) {
		f := strings.Fields(line)
		reply, err := a.Commands().Do(f[0], f[1:])
		if err != nil {
			reply.Error = err.Error()
		}
		return json.Marshal(reply)
	})
	return &city{t: t, url: ts.URL, proc: proc, audit: au, log: log}
}

func (c *city) nonce() []byte {
	c.t.Helper()
	n, err := syncproto.CardNonceAnswer(serverproc.Post(c.t, c.url+syncproto.CardNoncePath, nil))
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// signer is an account's holder or an enrolled device: who signs.
type signer struct {
	id  string
	key ed25519.PrivateKey
}

// call sends req to ep signed by s and decodes the answer into a Resp,
// or returns the refusal.
func call[Req, Resp any](c *city, s signer, ep account.Endpoint[Req, Resp], req Req) (Resp, error) {
	c.t.Helper()
	var out Resp
	body, _ := json.Marshal(req)
	n := c.nonce()
	signed, _ := json.Marshal(account.Signed{Signer: s.id, Nonce: n, Body: body, Sig: ed25519.Sign(s.key, account.Message(ep.Path, n, body))})
	status, resp := serverproc.Post(c.t, c.url+ep.Path, signed)
	if status != 200 {
		var e syncproto.Error
		if err := json.Unmarshal(resp, &e); err != nil {
			c.t.Fatalf("%s: %d %s", ep.Path, status, resp)
		}
		return out, &e
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		c.t.Fatalf("%s: %v: %s", ep.Path, err, resp)
	}
	return out, nil
}

// must is call that fails the test on a refusal.
func must[Req, Resp any](c *city, s signer, ep account.Endpoint[Req, Resp], req Req) Resp {
	c.t.Helper()
	out, err := call(c, s, ep, req)
	if err != nil {
		c.t.Fatalf("%s: %v", ep.Path, err)
	}
	return out
}

// refused is call that must be refused with code.
func refused[Req, Resp any](c *city, s signer, ep account.Endpoint[Req, Resp], req Req, code string) {
	c.t.Helper()
	_, err := call(c, s, ep, req)
	var e *syncproto.Error
	if !errors.As(err, &e) || e.Code != code {
		c.t.Errorf("%s: got %v, want %s", ep.Path, err, code)
	} else if !strings.Contains(e.Message, " / ") {
		c.t.Errorf("%s: %s has no words in both languages: %q", ep.Path, code, e.Message)
	}
}

// open opens the account of a card holder with facts.
func (c *city) open(facts card.Facts) (account.Account, signer) {
	c.t.Helper()
	p := cardtest.Taro
	p.Facts = facts
	key, priv, _ := ed25519.GenerateKey(nil)
	n := c.nonce()
	cert, sig := cardtest.Prove(c.t, p, card.SignKey, p.SignPassword, account.Challenge(n, key))
	b, _ := json.Marshal(account.Request{Nonce: n, Cert: cert, Sig: sig, Key: key})
	status, body := serverproc.Post(c.t, c.url+account.CreatePath, b)
	var a account.Account
	if status != 200 || json.Unmarshal(body, &a) != nil {
		c.t.Fatalf("open: %d %s", status, body)
	}
	return a, signer{a.ID, priv}
}

// device enrolls a device of facility as role.
func (c *city) device(id, facility, role string) signer {
	c.t.Helper()
	return signer{id, c.proc.Enroll(c.t, id, facility, role).Key}
}

// feed folds what a device of facility pulls: the public feed and the
// facility's.
func (c *city) feed(facility string) *state.State {
	c.t.Helper()
	var ops []syncproto.Op
	for _, f := range []string{scope.FeedPublic, scope.FacilityFeed(facility)} {
		for after := uint64(0); ; {
			b, err := c.log.Since(f, after, 1000, 8<<20)
			if err != nil {
				c.t.Fatal(err)
			}
			if len(b) == 0 {
				break
			}
			ops, after = append(ops, b...), b[len(b)-1].Global
		}
	}
	return state.Fold(ops)
}

func code(t *testing.T, err error) string {
	t.Helper()
	var e *syncproto.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func doc(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := fhirjp.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "app", "jahis", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	hospitalA = "kaga-medical"
	hospitalB = "yamanaka-medical"
)

// TestHospitalVisit is the story at the API: a mother books her
// son's paediatrics visit and answers the questionnaire; reception finds
// the booking and the answers; the bill posts and his co-payment is ¥0
// with the city's child subsidy, his class's share without it; she
// consents to hospital B seeing his allergies only; B sees the allergy
// and nothing else; she withdraws; B sees nothing; every access is
// listed for her. Then an emergency identification of her father, with
// its notice to her, and the exports.
func TestHospitalVisit(t *testing.T) {
	c := newCity(t)
	mother, ms := c.open(card.Facts{Name: "加賀\u3000花子", Address: "石川県加賀市大聖寺南町ニ41", BirthDate: "19880312", Sex: "2"})
	sonFacts := card.Facts{Name: "加賀\u3000ゆうと", Address: mother.Facts.Address, BirthDate: "20210605", Sex: "1"} // child.csv's patient
	var son account.Account
	if err := callAccount(c, ms, account.API.AddMember, account.Member{Facts: sonFacts}, &son); err != nil {
		t.Fatal(err)
	}
	recA := c.device("reception-a", hospitalA, "reception")
	recB := c.device("reception-b", hospitalB, "reception")

	// She books tomorrow's 10:00 paediatrics slot for him.
	tomorrow := time.Now().In(appointment.JST).AddDate(0, 0, 1)
	slot := func(day time.Time, h int) time.Time {
		y, m, d := day.Date()
		return time.Date(y, m, d, h, 0, 0, 0, appointment.JST)
	}
	bk := must(c, ms, visit.API.Book, visit.Book{Hospital: hospitalA, Department: "pediatrics", Start: slot(tomorrow, 10), Resident: son.ID})
	if bk.ID == "" || bk.Resident != son.ID || bk.Status != appointment.Booked {
		t.Fatalf("booked %+v", bk)
	}
	if got := must(c, ms, visit.API.Bookings, account.None{}); len(got) != 1 || got[0].ID != bk.ID || got[0].Answers != nil {
		t.Fatalf("her bookings: %+v", got)
	}

	// The questionnaire: the paediatrics one, with the consent notice.
	form := must(c, ms, visit.API.Form, visit.Form{Booking: bk.ID})
	if form.Questionnaire.ID != appointment.Pediatrics.ID || form.Notice != appointment.ConsentNotice {
		t.Fatalf("form %+v", form)
	}
	answers := map[string]string{"symptoms": "fever,cough", "since": time.Now().In(appointment.JST).Format(time.DateOnly),
		"temperature": "38.5", "weight": "18.2", "convulsion": "false", "allergic": "true", "allergies": "卵", "vaccines": "yes"}
	bad := map[string]string{}
	for k, v := range answers {
		bad[k] = v
	}
	delete(bad, "allergies") // required when allergic is yes
	refused(c, ms, visit.API.Answer, visit.Answer{Booking: bk.ID, Values: bad}, visit.CodeAnswer)
	must(c, ms, visit.API.Answer, visit.Answer{Booking: bk.ID, Values: answers})

	// Reception finds the booking and the answers on the day's list; B
	// does not see A's bookings.
	day := must(c, recA, visit.API.Day, visit.Day{Date: tomorrow.Format(time.DateOnly)})
	i := slices.IndexFunc(day, func(b visit.Booked) bool { return b.ID == bk.ID })
	if i < 0 || day[i].Answers == nil || day[i].Answers.Values["allergies"] != "卵" || day[i].Answers.By != mother.ID {
		t.Fatalf("A's day list: %+v", day)
	}
	if got := must(c, recB, visit.API.Day, visit.Day{Date: tomorrow.Format(time.DateOnly)}); len(got) != 0 {
		t.Fatalf("B sees A's bookings: %+v", got)
	}
	// On the day, A's tablet, from what its own feed carries, finds the
	// booking and the answers when it recognises him (no typing: the
	// department is the booking's); B's feed carries neither.
	v := terminal.OpenVisit(c.feed(hospitalA), hospitalA, son.ID, slot(tomorrow, 10))
	if v.Booking == nil || v.Booking.ID != bk.ID || v.Department != "pediatrics" || v.Answers == nil || v.Questionnaire.ID != appointment.Pediatrics.ID {
		t.Fatalf("A's tablet opens %+v", v)
	}
	if v := terminal.OpenVisit(c.feed(hospitalB), hospitalB, son.ID, slot(tomorrow, 10)); v.Booking != nil {
		t.Fatalf("B's tablet opens %+v", v)
	}

	// A publishes the visit's summary: an allergy, a condition, a
	// medication.
	const patientA = "0012345"
	ref := "Patient/" + patientA
	med := fhirjp.Medication{Name: "カルボシステインＤＳ５０％", Start: tomorrow, End: tomorrow.AddDate(0, 0, 7)}
	sum := visit.Summary{Resident: son.ID, Patient: patientA, Visit: slot(tomorrow, 10), Documents: []json.RawMessage{
		doc(t, fhirjp.AllergyOf("a1", ref, "卵", "food", "high")),
		doc(t, fhirjp.ConditionOf("c1", ref, "気管支喘息", true, tomorrow.AddDate(-1, 0, 0))),
		doc(t, fhirjp.MedicationStatementOf("m1", ref, med, time.Now())),
	}}
	if p := must(c, recA, visit.API.Summary, sum); p.ID == "" {
		t.Fatal("no summary id")
	}
	// Her next questionnaire starts from his record: the allergy A
	// published, hers to change.
	if pre := must(c, ms, visit.API.Form, visit.Form{Booking: bk.ID}).Prefill; pre["allergic"] != "true" || !strings.Contains(pre["allergies"], "卵") {
		t.Errorf("prefill %v", pre)
	}
	other := sum
	other.Documents = []json.RawMessage{doc(t, fhirjp.AllergyOf("a2", "Patient/9999999", "そば", "food", "high"))}
	refused(c, recA, visit.API.Summary, other, visit.CodeOtherPatient)

	// The bill: ¥0 with the city's child subsidy, which pays his class's
	// share (under school age: 2割).
	const points = 1234
	rc := must(c, recA, visit.API.Bill, visit.Bill{Visit: bk.ID, Resident: son.ID, Patient: patientA, Date: slot(tomorrow, 10), Points: points, Income: copay.General})
	birth, _ := time.Parse("20060102", sonFacts.BirthDate)
	tenths, _, err := copay.Rate(birth, slot(tomorrow, 10), copay.General)
	if err != nil || tenths != 2 {
		t.Fatalf("a five-year-old's rate: %d割, %v", tenths, err)
	}
	if sp := rc.Split; sp.Patient != 0 || sp.Share != copay.Round(points*int64(tenths)) || sp.Subsidy != sp.Share || sp.SubsidyName == "" || sp.Insurer+sp.Share != points*copay.YenPerPoint {
		t.Fatalf("split %+v", rc.Split)
	}
	refused(c, recA, visit.API.Bill, visit.Bill{Visit: bk.ID, Resident: son.ID, Patient: patientA, Date: slot(tomorrow, 10), Points: points}, visit.CodeBill)
	if got := must(c, ms, visit.API.Receipts, account.None{}); len(got) != 1 || got[0].Split != rc.Split || !got[0].Paid || len(got[0].Lines) == 0 {
		t.Fatalf("her receipts: %+v", got)
	}

	// B sees nothing before she consents; she consents to allergies only
	// (check-ups B does not exchange).
	refused(c, recB, visit.API.History, visit.Lookup{Resident: son.ID, Staff: "看護師 山田"}, visit.CodeNoConsent)
	refused(c, ms, visit.API.Consent, visit.Consent{Resident: son.ID, Hospital: hospitalB, Kind: medical.Checkups}, visit.CodeNotPublished)
	must(c, ms, visit.API.Consent, visit.Consent{Resident: son.ID, Hospital: hospitalB, Kind: medical.Allergies, Days: 30})
	h := must(c, recB, visit.API.History, visit.Lookup{Resident: son.ID, Staff: "看護師 山田"})
	if !slices.Equal(h.Kinds, []string{medical.Allergies}) || len(h.Documents) != 1 || len(h.Documents[medical.Allergies]) != 1 ||
		!strings.Contains(string(h.Documents[medical.Allergies][0].Document), "卵") || h.Documents[medical.Allergies][0].Hospital != hospitalA {
		t.Fatalf("B sees %+v", h)
	}
	// She withdraws: B sees nothing; a second withdrawal has nothing to
	// withdraw.
	must(c, ms, visit.API.Withdraw, visit.Withdraw{Resident: son.ID, Hospital: hospitalB})
	refused(c, recB, visit.API.History, visit.Lookup{Resident: son.ID}, visit.CodeNoConsent)
	refused(c, ms, visit.API.Withdraw, visit.Withdraw{Resident: son.ID, Hospital: hospitalB}, visit.CodeNoConsent)

	// Every access is hers to see: B's one view, allergies only, by whom.
	acc := must(c, ms, visit.API.Accesses, account.None{})
	if len(acc) != 1 || acc[0].Hospital != hospitalB || acc[0].Resident != son.ID || !slices.Equal(acc[0].Kinds, []string{medical.Allergies}) ||
		acc[0].Purpose != medical.PurposeReception || !strings.Contains(acc[0].Staff, "reception-b") {
		t.Fatalf("her accesses: %+v", acc)
	}
	// The audit lists the view and the refused ones, by device.
	var actions []string
	if err := c.audit.About(son.ID, func(e audit.Entry) { actions = append(actions, e.Actor+" "+e.Action) }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reception-b visit.history.read", "reception-b visit.history.read.refused", "reception-a visit.summary", mother.ID + " visit.consent"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the audit lacks %q: %v", want, actions)
		}
	}

	// The exports pass the profile check; a patient with no number
	// fails it and is refused.
	for _, x := range []visit.Export{
		{Resource: visit.ResourcePatient, Resident: son.ID, Patient: patientA},
		{Resource: visit.ResourceAppointment, Resident: son.ID, Patient: patientA, Booking: bk.ID},
		{Resource: visit.ResourceResponse, Resident: son.ID, Patient: patientA, Booking: bk.ID},
	} {
		docs := must(c, recA, visit.API.Export, x)
		if len(docs) != 1 || fhirjp.Check(docs[0]) != nil || !strings.Contains(string(docs[0]), `"resourceType":"`+x.Resource+`"`) {
			t.Errorf("export %s: %s", x.Resource, docs)
		}
	}
	refused(c, recA, visit.API.Export, visit.Export{Resource: visit.ResourcePatient, Resident: son.ID}, visit.CodeProfile)
	refused(c, recB, visit.API.Export, visit.Export{Resource: visit.ResourceAppointment, Resident: son.ID, Patient: "1", Booking: bk.ID}, visit.CodeNoPerson) // not B's patient
	// Medication only with consent; once given, exported and recorded.
	refused(c, recA, visit.API.Export, visit.Export{Resource: visit.ResourceMedication, Resident: son.ID, Patient: patientA}, visit.CodeNoConsent)
	must(c, ms, visit.API.Consent, visit.Consent{Resident: son.ID, Hospital: hospitalA, Kind: medical.Medication})
	if docs := must(c, recA, visit.API.Export, visit.Export{Resource: visit.ResourceMedication, Resident: son.ID, Patient: patientA}); len(docs) != 1 || !strings.Contains(string(docs[0]), "MedicationStatement") {
		t.Errorf("medication export: %s", docs)
	}
	if acc := must(c, ms, visit.API.Accesses, account.None{}); len(acc) != 2 || acc[0].Hospital != hospitalA || !slices.Equal(acc[0].Kinds, []string{medical.Medication}) {
		t.Errorf("her accesses after the export: %+v", acc)
	}
}

// callAccount calls an account API endpoint.
func callAccount[Req, Resp any](c *city, s signer, ep account.Endpoint[Req, Resp], req Req, out *Resp) error {
	c.t.Helper()
	v, err := call(c, s, ep, req)
	*out = v
	return err
}
