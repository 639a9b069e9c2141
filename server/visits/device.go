package visits

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/bill"
	"smartpass.city/smartpass/app/emergency"
	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/visit"
	"smartpass.city/smartpass/server/routes"
)

// deviceRoutes are a hospital reception device's endpoints.
func (d *Door) deviceRoutes(mux routes.Mux) {
	api := visit.API
	byDevice(mux, d, api.Day, "visit.day.read", d.day)
	byDevice(mux, d, api.History, "visit.history.read", d.history)
	byDevice(mux, d, api.Summary, "visit.summary", d.summary)
	byDevice(mux, d, api.Bill, "visit.bill", d.postBill)
	byDevice(mux, d, api.Emergency, "visit.emergency", d.emergency)
	byDevice(mux, d, api.Export, "visit.export", d.export)
}

// staffOf names who asked: the device, and the member of staff when
// given.
func staffOf(dev scope.Device, staff string) string {
	if s := strings.TrimSpace(staff); s != "" {
		return dev.ID + " " + s
	}
	return dev.ID
}

// patientAt checks that resident is hospital's patient: linked to a
// patient number there, received there, or booked there. A hospital
// writes into, bills and exports the record of its own patients only;
// anyone else is answered as unknown, so a tablet cannot probe who is
// registered. (The emergency lookup is the exception: its patient is
// nobody's yet, and its reason is its gate.)
func patientAt(st *state.State, hospital, resident string) error {
	if st.Patients[hospital][resident] != "" {
		return nil
	}
	for _, r := range st.Receptions {
		if r.Facility == hospital && r.Resident == resident {
			return nil
		}
	}
	for _, e := range appointment.Books.In(st.Parts()).Bookings {
		if e.Hospital == hospital && e.Resident == resident {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not a patient of %s", errNoPerson, resident, hospital)
}

// day is the hospital's bookings on a date, with the answers sent to it.
func (d *Door) day(ctx context.Context, st *state.State, dev scope.Device, q visit.Day) ([]visit.Booked, string, error) {
	if _, err := time.ParseInLocation(time.DateOnly, q.Date, appointment.JST); err != nil {
		return nil, "", fmt.Errorf("%w: date %q", errInvalid, q.Date)
	}
	out := []visit.Booked{}
	for _, e := range appointment.Books.In(st.Parts()).DayList(dev.Facility.ID, q.Date) {
		out = append(out, booked(e, true))
	}
	return out, q.Date, nil
}

// history shows the hospital what the patient consented to, nothing
// else; the access is recorded before anything is shown, as an op the
// patient's account page lists.
func (d *Door) history(ctx context.Context, st *state.State, dev scope.Device, l visit.Lookup) (visit.History, string, error) {
	shown, err := medical.Records.In(st.Parts()).View(dev.Facility.ID, l.Resident, staffOf(dev, l.Staff), d.d.Now())
	if err != nil {
		return visit.History{}, l.Resident, err
	}
	if _, err := d.write(ctx, op{medical.OpAccess, shown.Access}); err != nil {
		return visit.History{}, l.Resident, err
	}
	out := visit.History{Kinds: shown.Access.Kinds, Documents: map[string][]visit.Document{}}
	for k, docs := range shown.Documents {
		for _, doc := range docs {
			out.Documents[k] = append(out.Documents[k], visit.Document{Summary: doc.Summary, Hospital: doc.Hospital, Visit: doc.Visit, Document: json.RawMessage(doc.JSON)})
		}
	}
	return out, l.Resident, nil
}

// summary publishes a visit summary into the patient's record: every
// document meets its profile and is about the patient.
func (d *Door) summary(ctx context.Context, st *state.State, dev scope.Device, s visit.Summary) (visit.Posted, string, error) {
	if err := patientAt(st, dev.Facility.ID, s.Resident); err != nil {
		return visit.Posted{}, s.Resident, err
	}
	ms := medical.Summary{Hospital: dev.Facility.ID, Resident: s.Resident, Patient: s.Patient, Visit: s.Visit, Documents: s.Documents}
	if err := ms.Validate(); err != nil {
		return visit.Posted{}, s.Resident, err
	}
	id, err := d.write(ctx, op{medical.OpSummary, ms})
	return visit.Posted{ID: id}, s.Resident, err
}

// postBill posts a visit's total: the patient's birth date is their
// record's (the card's), so the share and the city's subsidy follow the
// proven age; one bill per visit.
func (d *Door) postBill(ctx context.Context, st *state.State, dev scope.Device, b visit.Bill) (visit.Receipt, string, error) {
	if err := patientAt(st, dev.Facility.ID, b.Resident); err != nil {
		return visit.Receipt{}, b.Resident, err
	}
	person, err := d.person(b.Resident)
	if err != nil {
		return visit.Receipt{}, b.Resident, err
	}
	birth, err := time.ParseInLocation("20060102", person.Facts.BirthDate, appointment.JST)
	if err != nil {
		return visit.Receipt{}, b.Resident, fmt.Errorf("visits: %s's birth date: %w", b.Resident, err)
	}
	bl := bill.Bill{Hospital: dev.Facility.ID, Visit: b.Visit, Resident: b.Resident, Patient: b.Patient, Date: b.Date, Points: b.Points, Birth: birth, Income: b.Income}
	if err := bl.Validate(); err != nil {
		return visit.Receipt{}, b.Resident, err
	}
	for _, x := range *bill.Bills.In(st.Parts()) {
		if x.Hospital == bl.Hospital && x.Visit == bl.Visit {
			return visit.Receipt{}, b.Resident, fmt.Errorf("%w: %s", errBillTwice, x.ID)
		}
	}
	id, err := d.write(ctx, op{bill.OpPost, bl})
	if err != nil {
		return visit.Receipt{}, b.Resident, err
	}
	return receipt(*(*bill.Bills.In(d.st.Parts()))[id]), b.Resident, nil
}

// emergency shows the fixed emergency summary of a patient the
// emergency tablet identified, for a reason: the use and the access are
// recorded together, the guardian sees the use in their account page,
// the patient the access.
func (d *Door) emergency(ctx context.Context, st *state.State, dev scope.Device, e visit.Emergency) (visit.EmergencySummary, string, error) {
	reason, err := emergency.Reason(e.Reason)
	if err != nil {
		return visit.EmergencySummary{}, e.Resident, err
	}
	if strings.TrimSpace(e.Resident) == "" {
		// Nobody identified (a face with no registration, or no clear
		// match): the use is recorded for review, and nothing is shown.
		use := emergency.UseOf(emergency.Decision{Outcome: emergency.NotIdentified, Score: e.Score}, dev.Facility.ID, staffOf(dev, e.Staff), "", cmp.Or(e.Method, "face"), reason)
		if err := use.Validate(); err != nil {
			return visit.EmergencySummary{}, "", err
		}
		if _, err := d.write(ctx, op{emergency.OpUse, use}); err != nil {
			return visit.EmergencySummary{}, "", err
		}
		return visit.EmergencySummary{}, "", errNotIdentified
	}
	person, err := d.person(e.Resident)
	if err != nil {
		return visit.EmergencySummary{}, e.Resident, err
	}
	dec := emergency.Decision{Outcome: emergency.Identified, Resident: e.Resident, Score: e.Score}
	// Both members of staff are named as the tablet's: a second who is
	// the first is no confirmation.
	staff, second := staffOf(dev, e.Staff), ""
	if strings.TrimSpace(e.Second) != "" {
		second = staffOf(dev, e.Second)
	}
	use := emergency.UseOf(dec, dev.Facility.ID, staff, second, e.Method, reason)
	if err := use.Validate(); err != nil {
		return visit.EmergencySummary{}, e.Resident, err
	}
	var contact emergency.Contact
	if person.Guardian != "" {
		if g, err := d.d.Registry.Person(person.Guardian); err == nil {
			contact.Name = g.Facts.Name
		}
	}
	s, err := emergency.SummaryOf(dec, medical.Records.In(st.Parts()), dev.Facility.ID, staff, reason, contact, d.d.Now())
	if err != nil {
		return visit.EmergencySummary{}, e.Resident, err
	}
	if _, err := d.write(ctx, op{emergency.OpUse, use}, op{medical.OpAccess, s.Access}); err != nil {
		return visit.EmergencySummary{}, e.Resident, err
	}
	return visit.EmergencySummary{Allergies: s.Allergies, Medication: s.Medication, Conditions: s.Conditions, Contact: s.Contact, Until: s.Until}, e.Resident, nil
}

// export writes a resource as FHIR JSON and checks each document
// against its profile before it leaves: one that fails is refused
// (fhirjp.ErrProfile), never sent.
func (d *Door) export(ctx context.Context, st *state.State, dev scope.Device, x visit.Export) ([]json.RawMessage, string, error) {
	if err := patientAt(st, dev.Facility.ID, x.Resident); err != nil {
		return nil, x.Resident, err
	}
	docs, err := d.resources(ctx, st, dev, x)
	if err != nil {
		return nil, x.Resident, err
	}
	for _, doc := range docs {
		if err := fhirjp.Check(doc); err != nil {
			return nil, x.Resident, fmt.Errorf("visits: export of %s: %w", x.Resource, err)
		}
	}
	return docs, x.Resident, nil
}

// resources makes the documents of an export.
func (d *Door) resources(ctx context.Context, st *state.State, dev scope.Device, x visit.Export) ([]json.RawMessage, error) {
	hosp, patient := dev.Facility.ID, "Patient/"+x.Patient
	book := appointment.Books.In(st.Parts())
	entry := func() (*appointment.Entry, error) {
		e, ok := book.Bookings[x.Booking]
		if !ok || e.Hospital != hosp || e.Resident != x.Resident {
			return nil, fmt.Errorf("%w: %q", errNoBooking, x.Booking)
		}
		return e, nil
	}
	one := func(v any) ([]json.RawMessage, error) {
		b, err := fhirjp.Marshal(v)
		return []json.RawMessage{b}, err
	}
	switch x.Resource {
	case visit.ResourcePatient:
		p, err := d.person(x.Resident)
		if err != nil {
			return nil, err
		}
		birth, _ := time.ParseInLocation("20060102", p.Facts.BirthDate, appointment.JST)
		return one(fhirjp.PatientOf(Code(hosp), x.Patient, p.Facts.Name, "", gender(p.Facts.Sex), birth))
	case visit.ResourceAppointment:
		e, err := entry()
		if err != nil {
			return nil, err
		}
		return one(book.FHIR(*e, patient))
	case visit.ResourceResponse:
		e, err := entry()
		if err != nil {
			return nil, err
		}
		if e.Answers == nil {
			return nil, fmt.Errorf("%w: %q has no answers", errNoBooking, x.Booking)
		}
		q, _ := appointment.Lookup(e.Answers.Questionnaire)
		return one(q.Response(*e.Answers, patient))
	case visit.ResourceMedication:
		// The medication the patient consented to show this hospital:
		// an access like any view, recorded before it is sent.
		shown, err := medical.Records.In(st.Parts()).View(hosp, x.Resident, dev.ID, d.d.Now())
		if err == nil && !slices.Contains(shown.Access.Kinds, medical.Medication) {
			err = fmt.Errorf("%w: medication of %s for %s", medical.ErrNoConsent, x.Resident, hosp)
		}
		if err != nil {
			return nil, err
		}
		access := shown.Access
		access.Kinds, access.Summaries = []string{medical.Medication}, nil
		var out []json.RawMessage
		for _, doc := range shown.Documents[medical.Medication] {
			out = append(out, json.RawMessage(doc.JSON))
			if !slices.Contains(access.Summaries, doc.Summary) {
				access.Summaries = append(access.Summaries, doc.Summary)
			}
		}
		if _, err := d.write(ctx, op{medical.OpAccess, access}); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: resource %q", errInvalid, x.Resource)
}

// gender is a card's sex code as FHIR's administrative gender.
func gender(sex string) string {
	switch sex {
	case "1":
		return "male"
	case "2":
		return "female"
	}
	return "unknown"
}
