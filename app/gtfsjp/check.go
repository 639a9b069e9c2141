package gtfsjp

import (
	"sort"
)

// Reading is the language tag of the kana readings GTFS-JP requires of
// stop names (よみがな).
const Reading = "ja-Hrkt"

// check finds the references that lead nowhere and the ids repeated:
// the first, with its file and line.
func (f *Feed) check() error {
	for _, c := range []func() error{f.checkIDs, f.checkTrips, f.checkStopTimes, f.checkFares, f.checkTranslations} {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// ids collects the ids of n rows of file, refusing a repeat.
func (f *Feed) ids(file string, n int, id func(i int) string) (map[string]int, error) {
	m := make(map[string]int, n)
	for i := 0; i < n; i++ {
		k := id(i)
		if j, dup := m[k]; dup {
			return nil, at(file, f.Line(file, i), ErrReference, "id %s repeats line %d", k, f.Line(file, j))
		}
		m[k] = i
	}
	return m, nil
}

// index holds the feed's ids, built once by checkIDs.
type index struct {
	agencies, routes, stops, trips, services, fares, offices map[string]int
	zones                                                    map[string]bool
}

func (f *Feed) checkIDs() error {
	var x index
	var err error
	if x.agencies, err = f.ids("agency.txt", len(f.Agencies), func(i int) string { return f.Agencies[i].ID }); err != nil {
		return err
	}
	if len(f.Agencies) == 0 {
		return at("agency.txt", 0, ErrMissing, "no agency is")
	}
	if len(f.Agencies) > 1 {
		for i, a := range f.Agencies {
			if a.ID == "" {
				return at("agency.txt", f.Line("agency.txt", i), ErrMissing, "agency_id is empty: a feed of several agencies names each")
			}
		}
	}
	for i, a := range f.AgenciesJP {
		if _, ok := x.agencies[a.ID]; !ok {
			return at("agency_jp.txt", f.Line("agency_jp.txt", i), ErrReference, "agency %s is not in agency.txt", a.ID)
		}
	}
	steps := []struct {
		file string
		n    int
		id   func(int) string
		into *map[string]int
	}{
		{"routes.txt", len(f.Routes), func(i int) string { return f.Routes[i].ID }, &x.routes},
		{"stops.txt", len(f.Stops), func(i int) string { return f.Stops[i].ID }, &x.stops},
		{"trips.txt", len(f.Trips), func(i int) string { return f.Trips[i].ID }, &x.trips},
		{"calendar.txt", len(f.Calendar), func(i int) string { return f.Calendar[i].ID }, &x.services},
		{"fare_attributes.txt", len(f.Fares), func(i int) string { return f.Fares[i].ID }, &x.fares},
		{"office_jp.txt", len(f.Offices), func(i int) string { return f.Offices[i].ID }, &x.offices},
	}
	for _, s := range steps {
		if *s.into, err = f.ids(s.file, s.n, s.id); err != nil {
			return err
		}
	}
	for i, r := range f.Routes {
		if err := f.agencyRef("routes.txt", i, r.Agency, x.agencies); err != nil {
			return err
		}
	}
	for i, a := range f.Fares {
		if err := f.agencyRef("fare_attributes.txt", i, a.Agency, x.agencies); err != nil {
			return err
		}
	}
	x.zones = make(map[string]bool)
	for i, s := range f.Stops {
		if s.Zone != "" {
			x.zones[s.Zone] = true
		}
		if s.Parent == "" {
			continue
		}
		if j, ok := x.stops[s.Parent]; !ok || f.Stops[j].LocationType != 1 {
			return at("stops.txt", f.Line("stops.txt", i), ErrReference, "parent_station %s is not a station (location_type 1) of stops.txt", s.Parent)
		}
	}
	f.x = x
	return nil
}

// agencyRef checks a row's agency_id: it names an agency, and is given
// when the feed has several.
func (f *Feed) agencyRef(file string, i int, id string, agencies map[string]int) error {
	if id == "" {
		if len(f.Agencies) > 1 {
			return at(file, f.Line(file, i), ErrMissing, "agency_id is empty: the feed has several agencies")
		}
		return nil
	}
	if _, ok := agencies[id]; !ok {
		return at(file, f.Line(file, i), ErrReference, "agency %s is not in agency.txt", id)
	}
	return nil
}

func (f *Feed) checkTrips() error {
	for i, t := range f.Trips {
		line := f.Line("trips.txt", i)
		if _, ok := f.x.routes[t.Route]; !ok {
			return at("trips.txt", line, ErrReference, "route %s is not in routes.txt", t.Route)
		}
		if _, ok := f.x.services[t.Service]; !ok {
			return at("trips.txt", line, ErrReference, "service %s is not in calendar.txt", t.Service)
		}
		if _, ok := f.x.offices[t.Office]; t.Office != "" && !ok {
			return at("trips.txt", line, ErrReference, "office %s is not in office_jp.txt", t.Office)
		}
	}
	return nil
}

func (f *Feed) checkStopTimes() error {
	const file = "stop_times.txt"
	byTrip := make(map[string][]int)
	for i, st := range f.StopTimes {
		line := f.Line(file, i)
		if _, ok := f.x.trips[st.Trip]; !ok {
			return at(file, line, ErrReference, "trip %s is not in trips.txt", st.Trip)
		}
		j, ok := f.x.stops[st.Stop]
		if !ok {
			return at(file, line, ErrReference, "stop %s is not in stops.txt", st.Stop)
		}
		if f.Stops[j].LocationType != 0 {
			return at(file, line, ErrReference, "stop %s is a station, not a stop a bus calls at", st.Stop)
		}
		byTrip[st.Trip] = append(byTrip[st.Trip], i)
	}
	for ti, t := range f.Trips {
		rows := byTrip[t.ID]
		if len(rows) < 2 {
			return at("trips.txt", f.Line("trips.txt", ti), ErrReference, "trip %s calls at %d stops in stop_times.txt, fewer than two", t.ID, len(rows))
		}
		sort.SliceStable(rows, func(a, b int) bool { return f.StopTimes[rows[a]].Sequence < f.StopTimes[rows[b]].Sequence })
		last := -1
		for k, i := range rows {
			st := f.StopTimes[i]
			if k > 0 && st.Sequence == f.StopTimes[rows[k-1]].Sequence {
				return at(file, f.Line(file, i), ErrReference, "stop_sequence %d repeats in trip %s", st.Sequence, t.ID)
			}
			if (k == 0 || k == len(rows)-1) && st.Arrival < 0 {
				return at(file, f.Line(file, i), ErrMissing, "the first and last stops of trip %s need times", t.ID)
			}
			if st.Arrival >= 0 {
				if st.Arrival < last {
					return at(file, f.Line(file, i), ErrReference, "trip %s goes back in time here", t.ID)
				}
				last = st.Departure
			}
		}
	}
	return nil
}

func (f *Feed) checkFares() error {
	const file = "fare_rules.txt"
	for i, r := range f.FareRules {
		line := f.Line(file, i)
		if _, ok := f.x.fares[r.Fare]; !ok {
			return at(file, line, ErrReference, "fare %s is not in fare_attributes.txt", r.Fare)
		}
		if _, ok := f.x.routes[r.Route]; r.Route != "" && !ok {
			return at(file, line, ErrReference, "route %s is not in routes.txt", r.Route)
		}
		for _, z := range []string{r.Origin, r.Destination, r.Contains} {
			if z != "" && !f.x.zones[z] {
				return at(file, line, ErrReference, "zone %s is not any stop's zone_id", z)
			}
		}
	}
	return nil
}

func (f *Feed) checkTranslations() error {
	const file = "translations.txt"
	tables := map[string]map[string]int{"agency": f.x.agencies, "routes": f.x.routes, "stops": f.x.stops, "trips": f.x.trips}
	for i, t := range f.Translations {
		if t.Table == "" || t.Record == "" {
			continue // by value (or the first edition's): nothing to resolve
		}
		ids, known := tables[t.Table]
		if !known {
			continue // a table we do not index: left to the consumer
		}
		if _, ok := ids[t.Record]; !ok && !(t.Table == "agency" && len(f.Agencies) == 1) {
			return at(file, f.Line(file, i), ErrReference, "record %s is not in %s.txt", t.Record, t.Table)
		}
	}
	for i, s := range f.Stops {
		if s.LocationType > 1 {
			continue
		}
		if f.ReadingOf(s) == "" {
			return at("stops.txt", f.Line("stops.txt", i), ErrMissing, "stop %s (%s) has no reading (%s) in translations.txt, which GTFS-JP requires", s.ID, s.Name, Reading)
		}
	}
	return nil
}

// ReadingOf returns the kana reading of a stop's name, "" when the feed
// holds none: a translation to ja-Hrkt of the stop's record, else of its
// name's value (GTFS), else of its name as trans_id (first edition).
func (f *Feed) ReadingOf(s Stop) string {
	return f.Translate("stops", "stop_name", s.ID, s.Name, Reading)
}

// Translate returns the translation to lang of field of the table's
// record id whose text is value, "" when none.
func (f *Feed) Translate(table, field, id, value, lang string) string {
	byValue := ""
	for _, t := range f.Translations {
		if t.Language != lang {
			continue
		}
		switch {
		case t.Table == table && t.Field == field && t.Record == id && id != "":
			return t.Translation
		case t.Table == table && t.Field == field && t.Record == "" && t.Value == value,
			t.Table == "" && t.Value == value:
			byValue = t.Translation
		}
	}
	return byValue
}
