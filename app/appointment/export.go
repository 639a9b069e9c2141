package appointment

import (
	"time"

	"smartpass.city/smartpass/app/fhirjp"
)

// FHIR is booking e as a FHIR Appointment: its status, its department
// as the service, its slot's start and end, and the patient (patient:
// "Patient/…", the hospital's number) as the one participant who
// accepted.
func (b *Book) FHIR(e Entry, patient string) fhirjp.Appointment {
	status := map[string]string{Booked: "booked", Cancelled: "cancelled", Missed: "noshow"}[e.Status]
	a := fhirjp.Appointment{ResourceType: "Appointment", ID: e.ID, Status: status,
		ServiceType: []fhirjp.Concept{{Text: e.Department}}, Created: e.Made.In(JST).Format(time.RFC3339),
		Participant: []fhirjp.Participant{{Actor: &fhirjp.Reference{Reference: patient}, Status: "accepted"}}}
	s, ok := b.slot(e.Hospital, e.Department, e.Start)
	if !ok {
		s = Slot{Start: e.Start, Minutes: 15}
	}
	a.Start, a.End = s.Start.In(JST).Format(time.RFC3339), s.End().In(JST).Format(time.RFC3339)
	return a
}
