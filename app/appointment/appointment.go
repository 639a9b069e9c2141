// Package appointment is booking a hospital visit: each hospital's desk
// publishes its departments' slots for a day, a resident books, moves or
// cancels a visit for themselves or a family member from their account
// page, the desk sees the day's list and records no-shows, and the
// patient answers the department's questionnaire (問診票) before the
// visit. Appointments and answers export as FHIR (package fhirjp).
//
// The rules that need the state (a slot that exists, is not full and
// has not begun) are the fold's, so a booking two account pages made at
// once for the last place is refused for the second wherever it is
// folded; Book.Check runs the same rules before the page records one.
package appointment

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"smartpass.city/smartpass/app/hospital"
)

// Op kinds.
const (
	// OpSlots publishes a department's slots for one day; body Day. A
	// later one for the same hospital, department and day replaces it
	// (bookings stay; a slot removed with bookings is kept as it was).
	OpSlots = "appointment.slots"
	// OpBook books a slot; body Booking.
	OpBook = "appointment.book"
	// OpMove moves a booking to another slot; body Move.
	OpMove = "appointment.move"
	// OpCancel cancels a booking; body Cancel.
	OpCancel = "appointment.cancel"
	// OpNoShow records that the patient did not come; body NoShow.
	OpNoShow = "appointment.noshow"
	// OpAnswers is a questionnaire answered for a booking; body Answers.
	OpAnswers = "appointment.answers"
)

// JST is the time zone of every slot.
var JST = time.FixedZone("JST", 9*60*60)

// Errors, each wrapped with what it concerns.
var (
	ErrInvalid  = errors.New("appointment: invalid record")
	ErrNoSlot   = errors.New("appointment: no such slot")
	ErrFull     = errors.New("appointment: the slot is full")
	ErrPast     = errors.New("appointment: the slot has begun")
	ErrTwice    = errors.New("appointment: booked in this slot already")
	ErrNoBook   = errors.New("appointment: no such booking")
	ErrInactive = errors.New("appointment: the booking is cancelled")
	ErrAnswer   = errors.New("appointment: an answer breaks its question's rule")
)

// Slot is a time a department sees Capacity patients.
type Slot struct {
	Start    time.Time `json:"start"`
	Minutes  int       `json:"minutes"`
	Capacity int       `json:"capacity"`
}

// End is when the slot ends.
func (s Slot) End() time.Time { return s.Start.Add(time.Duration(s.Minutes) * time.Minute) }

// Day is a department's slots on one day.
type Day struct {
	Hospital   string `json:"hospital"`
	Department string `json:"department"`
	Date       string `json:"date"` // YYYY-MM-DD, JST
	Slots      []Slot `json:"slots"`
}

// MaxSlots bounds a day's slots.
const MaxSlots = 96

// Validate reports whether d can be stored: slots on its date, in
// order, not overlapping, each 5 minutes to 4 hours with 1 to 50 places.
func (d Day) Validate() error {
	_, err := time.ParseInLocation(time.DateOnly, d.Date, JST)
	switch {
	case d.Hospital == "":
		return fmt.Errorf("%w: slots of no hospital", ErrInvalid)
	case !slices.Contains(hospital.Departments, d.Department):
		return fmt.Errorf("%w: department %q", ErrInvalid, d.Department)
	case err != nil:
		return fmt.Errorf("%w: date %q", ErrInvalid, d.Date)
	case len(d.Slots) == 0 || len(d.Slots) > MaxSlots:
		return fmt.Errorf("%w: %d slots (1 to %d)", ErrInvalid, len(d.Slots), MaxSlots)
	}
	for i, s := range d.Slots {
		switch {
		case s.Start.In(JST).Format(time.DateOnly) != d.Date:
			return fmt.Errorf("%w: slot %d starts on another day than %s", ErrInvalid, i, d.Date)
		case s.Minutes < 5 || s.Minutes > 240 || s.Capacity < 1 || s.Capacity > 50:
			return fmt.Errorf("%w: slot %d of %d minutes for %d", ErrInvalid, i, s.Minutes, s.Capacity)
		case i > 0 && s.Start.Before(d.Slots[i-1].End()):
			return fmt.Errorf("%w: slot %d overlaps the one before", ErrInvalid, i)
		}
	}
	return nil
}

// Booking is a visit booked: Resident is the patient, By the account
// holder who booked (the patient, or their guardian).
type Booking struct {
	Hospital   string    `json:"hospital"`
	Department string    `json:"department"`
	Start      time.Time `json:"start"`
	Resident   string    `json:"resident"`
	By         string    `json:"by"`
}

// Validate reports whether b can be stored.
func (b Booking) Validate() error {
	switch {
	case b.Hospital == "" || b.Resident == "" || b.By == "" || len(b.Resident) > 64 || len(b.By) > 64:
		return fmt.Errorf("%w: booking of %q by %q at %q", ErrInvalid, b.Resident, b.By, b.Hospital)
	case !slices.Contains(hospital.Departments, b.Department):
		return fmt.Errorf("%w: department %q", ErrInvalid, b.Department)
	case b.Start.IsZero():
		return fmt.Errorf("%w: a booking of no time", ErrInvalid)
	}
	return nil
}

// Move moves booking ID to the slot starting at Start.
type Move struct {
	Hospital string    `json:"hospital"`
	ID       string    `json:"id"`
	Start    time.Time `json:"start"`
	By       string    `json:"by"`
}

// Validate reports whether m can be stored.
func (m Move) Validate() error {
	if m.Hospital == "" || m.ID == "" || m.By == "" || m.Start.IsZero() {
		return fmt.Errorf("%w: move of %q at %q by %q", ErrInvalid, m.ID, m.Hospital, m.By)
	}
	return nil
}

// Cancel cancels booking ID.
type Cancel struct {
	Hospital string `json:"hospital"`
	ID       string `json:"id"`
	By       string `json:"by"`
}

// Validate reports whether c can be stored.
func (c Cancel) Validate() error {
	if c.Hospital == "" || c.ID == "" || c.By == "" {
		return fmt.Errorf("%w: cancellation of %q at %q by %q", ErrInvalid, c.ID, c.Hospital, c.By)
	}
	return nil
}

// NoShow records that booking ID's patient did not come.
type NoShow struct {
	Hospital string `json:"hospital"`
	ID       string `json:"id"`
}

// Validate reports whether n can be stored.
func (n NoShow) Validate() error {
	if n.Hospital == "" || n.ID == "" {
		return fmt.Errorf("%w: no-show of %q at %q", ErrInvalid, n.ID, n.Hospital)
	}
	return nil
}
