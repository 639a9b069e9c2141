package appointment

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Status of a booking.
const (
	Booked    = "booked"
	Cancelled = "cancelled"
	Missed    = "noshow"
)

// Entry is a booking as folded: its id (the booking op's record id),
// its current slot and status, and its answers when given.
type Entry struct {
	Booking
	ID      string
	Status  string
	Made    time.Time
	Answers *Answers
}

// Book is the folded state: each hospital's published days and every
// booking.
type Book struct {
	// Days: hospital → department → date → the day.
	Days     map[string]map[string]map[string]Day
	Bookings map[string]*Entry
}

func newBook() Book {
	return Book{Days: map[string]map[string]map[string]Day{}, Bookings: map[string]*Entry{}}
}

// slot finds the slot of hospital's department starting at start.
func (b *Book) slot(hospital, dept string, start time.Time) (Slot, bool) {
	day := b.Days[hospital][dept][start.In(JST).Format(time.DateOnly)]
	for _, s := range day.Slots {
		if s.Start.Equal(start) {
			return s, true
		}
	}
	return Slot{}, false
}

// taken counts the active bookings of a slot, but the one skip.
func (b *Book) taken(hospital, dept string, start time.Time, skip string) (n int, resident map[string]bool) {
	resident = map[string]bool{}
	for id, e := range b.Bookings {
		if id != skip && e.Status == Booked && e.Hospital == hospital && e.Department == dept && e.Start.Equal(start) {
			n++
			resident[e.Resident] = true
		}
	}
	return n, resident
}

// Check runs the state's rules for booking bk at time now: the slot
// exists, has not begun, has a place, and the patient is not in it
// already. skip names a booking being moved (its own place is free).
func (b *Book) Check(bk Booking, now time.Time, skip string) error {
	if err := bk.Validate(); err != nil {
		return err
	}
	s, ok := b.slot(bk.Hospital, bk.Department, bk.Start)
	if !ok {
		return fmt.Errorf("%w: %s %s at %s", ErrNoSlot, bk.Hospital, bk.Department, bk.Start.In(JST).Format("2006-01-02 15:04"))
	}
	if !now.Before(s.Start) {
		return fmt.Errorf("%w: %s", ErrPast, s.Start.In(JST).Format("2006-01-02 15:04"))
	}
	n, in := b.taken(bk.Hospital, bk.Department, bk.Start, skip)
	if in[bk.Resident] {
		return fmt.Errorf("%w: %s", ErrTwice, bk.Resident)
	}
	if n >= s.Capacity {
		return fmt.Errorf("%w: %d of %d", ErrFull, n, s.Capacity)
	}
	return nil
}

// active returns booking id at hospital if it is booked.
func (b *Book) active(hospital, id string) (*Entry, error) {
	e, ok := b.Bookings[id]
	if !ok || e.Hospital != hospital {
		return nil, fmt.Errorf("%w: %q at %s", ErrNoBook, id, hospital)
	}
	if e.Status != Booked {
		return nil, fmt.Errorf("%w: %q is %s", ErrInactive, id, e.Status)
	}
	return e, nil
}

func (b *Book) book(bk Booking, id string, at time.Time) error {
	if err := b.Check(bk, at, ""); err != nil {
		return err
	}
	b.Bookings[id] = &Entry{Booking: bk, ID: id, Status: Booked, Made: at}
	return nil
}

func (b *Book) move(m Move, at time.Time) error {
	e, err := b.active(m.Hospital, m.ID)
	if err != nil {
		return err
	}
	if !at.Before(e.Start) {
		return fmt.Errorf("%w: the visit has begun", ErrPast)
	}
	moved := e.Booking
	moved.Start, moved.By = m.Start, m.By
	if err := b.Check(moved, at, e.ID); err != nil {
		return err
	}
	e.Booking = moved
	return nil
}

func (b *Book) cancel(c Cancel, at time.Time) error {
	e, err := b.active(c.Hospital, c.ID)
	if err != nil {
		return err
	}
	if !at.Before(e.Start) {
		return fmt.Errorf("%w: a visit that has begun is not cancelled but missed", ErrPast)
	}
	e.Status = Cancelled
	return nil
}

func (b *Book) noShow(n NoShow, at time.Time) error {
	e, err := b.active(n.Hospital, n.ID)
	if err != nil {
		return err
	}
	s, _ := b.slot(e.Hospital, e.Department, e.Start)
	if end := cmp.Or(s.End(), e.Start); at.Before(end) {
		return fmt.Errorf("%w: no-show recorded before the slot ends (%s)", ErrInvalid, end.In(JST).Format("15:04"))
	}
	e.Status = Missed
	return nil
}

// DayList is the desk's list: hospital's bookings on date (JST), by
// time then department, cancelled ones left out.
func (b *Book) DayList(hospital, date string) []Entry {
	var out []Entry
	for _, e := range b.Bookings {
		if e.Hospital == hospital && e.Status != Cancelled && e.Start.In(JST).Format(time.DateOnly) == date {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Department, b.Department), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Due is resident's booking at hospital that reception on day now
// checks in: today's earliest still booked, whose slot has not ended
// more than late ago. ok is false for none (a walk-in).
func (b *Book) Due(hospital, resident string, now time.Time, late time.Duration) (Entry, bool) {
	var best *Entry
	for _, e := range b.Bookings {
		if e.Hospital != hospital || e.Resident != resident || e.Status != Booked ||
			e.Start.In(JST).Format(time.DateOnly) != now.In(JST).Format(time.DateOnly) {
			continue
		}
		s, _ := b.slot(e.Hospital, e.Department, e.Start)
		if now.After(s.End().Add(late)) {
			continue
		}
		if best == nil || e.Start.Before(best.Start) {
			best = e
		}
	}
	if best == nil {
		return Entry{}, false
	}
	return *best, true
}

// Of lists the bookings a family's account page shows: those of the
// residents named, not cancelled, soonest first.
func (b *Book) Of(residents ...string) []Entry {
	var out []Entry
	for _, e := range b.Bookings {
		if slices.Contains(residents, e.Resident) && e.Status != Cancelled {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Reminders are the bookings a reminder is due for at now: booked, and
// starting within the next lead.
func (b *Book) Reminders(now time.Time, lead time.Duration) []Entry {
	var out []Entry
	for _, e := range b.Bookings {
		if e.Status == Booked && e.Start.After(now) && !e.Start.After(now.Add(lead)) {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID)) })
	return out
}
