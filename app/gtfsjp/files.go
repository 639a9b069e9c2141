package gtfsjp

import (
	"fmt"
	"time"
)

// reader reads one file's table into the feed.
type reader struct {
	file string
	read func(f *Feed, t *table) error
}

// readers in the order the files are read (references are checked after
// every file is in, so the order is only the order of the messages).
var readers = []reader{
	{"agency.txt", func(f *Feed, t *table) error {
		if err := t.need("agency_name", "agency_url", "agency_timezone"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			a := Agency{ID: r.str("agency_id"), Name: r.id("agency_name"), URL: r.str("agency_url"), Timezone: r.id("agency_timezone"), Lang: r.str("agency_lang"), Phone: r.str("agency_phone")}
			f.Agencies = append(f.Agencies, a)
			return nil
		})
	}},
	{"agency_jp.txt", func(f *Feed, t *table) error {
		if err := t.need("agency_id"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			f.AgenciesJP = append(f.AgenciesJP, AgencyJP{ID: r.id("agency_id"), OfficialName: r.str("agency_official_name"), ZipNumber: r.str("agency_zip_number"), Address: r.str("agency_address"), PresidentPos: r.str("agency_president_pos"), PresidentName: r.str("agency_president_name")})
			return nil
		})
	}},
	{"office_jp.txt", func(f *Feed, t *table) error {
		if err := t.need("office_id", "office_name"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			f.Offices = append(f.Offices, Office{ID: r.id("office_id"), Name: r.id("office_name"), URL: r.str("office_url"), Phone: r.str("office_phone")})
			return nil
		})
	}},
	{"routes.txt", func(f *Feed, t *table) error {
		if err := t.need("route_id", "route_type"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			rt := Route{ID: r.id("route_id"), Agency: r.str("agency_id"), ShortName: r.str("route_short_name"), LongName: r.str("route_long_name"), Type: r.integer("route_type", -1), ParentRouteID: r.str("jp_parent_route_id")}
			if rt.ShortName == "" && rt.LongName == "" {
				r.fail(ErrMissing, "route %s has neither route_short_name nor route_long_name", rt.ID)
			}
			f.Routes = append(f.Routes, rt)
			return nil
		})
	}},
	{"stops.txt", func(f *Feed, t *table) error {
		if err := t.need("stop_id", "stop_name", "stop_lat", "stop_lon"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			s := Stop{ID: r.id("stop_id"), Code: r.str("stop_code"), Name: r.id("stop_name"), Lat: r.float("stop_lat", -90, 90), Lon: r.float("stop_lon", -180, 180), Zone: r.str("zone_id"), LocationType: r.integer("location_type", 0), Parent: r.str("parent_station")}
			if s.LocationType < 0 || s.LocationType > 4 {
				r.fail(ErrSyntax, "location_type %d", s.LocationType)
			}
			f.Stops = append(f.Stops, s)
			return nil
		})
	}},
	{"trips.txt", func(f *Feed, t *table) error {
		if err := t.need("route_id", "service_id", "trip_id"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			f.Trips = append(f.Trips, Trip{ID: r.id("trip_id"), Route: r.id("route_id"), Service: r.id("service_id"), Headsign: r.str("trip_headsign"), Direction: r.integer("direction_id", 0), Office: r.str("jp_office_id")})
			return nil
		})
	}},
	{"stop_times.txt", func(f *Feed, t *table) error {
		if err := t.need("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			st := StopTime{Trip: r.id("trip_id"), Arrival: r.clock("arrival_time", false), Departure: r.clock("departure_time", false), Stop: r.id("stop_id"), Sequence: r.integer("stop_sequence", -1), PickupType: r.integer("pickup_type", 0), DropOff: r.integer("drop_off_type", 0)}
			if st.Sequence < 0 {
				r.fail(ErrSyntax, "stop_sequence must be a whole number from 0")
			}
			if (st.Arrival < 0) != (st.Departure < 0) {
				r.fail(ErrSyntax, "arrival_time and departure_time are given together or not at all")
			}
			if st.Arrival >= 0 && st.Departure < st.Arrival {
				r.fail(ErrSyntax, "departure_time is before arrival_time")
			}
			f.StopTimes = append(f.StopTimes, st)
			return nil
		})
	}},
	{"calendar.txt", func(f *Feed, t *table) error {
		days := []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
		if err := t.need(append([]string{"service_id", "start_date", "end_date"}, days...)...); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			s := Service{ID: r.id("service_id"), Start: r.date("start_date"), End: r.date("end_date")}
			for i, d := range days {
				switch r.str(d) {
				case "1":
					s.Days[i] = true
				case "0":
				default:
					r.fail(ErrSyntax, "%s %q is not 0 or 1", d, r.str(d))
				}
			}
			if r.errs == nil && s.End < s.Start {
				r.fail(ErrSyntax, "end_date %s is before start_date %s", s.End, s.Start)
			}
			f.Calendar = append(f.Calendar, s)
			return nil
		})
	}},
	{"fare_attributes.txt", func(f *Feed, t *table) error {
		if err := t.need("fare_id", "price", "currency_type", "payment_method", "transfers"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			a := FareAttribute{ID: r.id("fare_id"), Price: r.integer("price", -1), Currency: r.id("currency_type"), PaymentMethod: r.integer("payment_method", -1), Transfers: r.integer("transfers", -1), Agency: r.str("agency_id"), TransferDuration: r.integer("transfer_duration", 0)}
			switch {
			case a.Price < 0:
				r.fail(ErrSyntax, "price %q is not whole yen", r.str("price"))
			case a.Currency != "JPY":
				r.fail(ErrSyntax, "currency_type %q: fares here are in JPY", a.Currency)
			case a.PaymentMethod != 0 && a.PaymentMethod != 1:
				r.fail(ErrSyntax, "payment_method %q is not 0 or 1", r.str("payment_method"))
			case a.Transfers < -1 || a.Transfers > 2:
				r.fail(ErrSyntax, "transfers %q is not empty, 0, 1 or 2", r.str("transfers"))
			case a.TransferDuration < 0:
				r.fail(ErrSyntax, "transfer_duration is negative")
			}
			f.Fares = append(f.Fares, a)
			return nil
		})
	}},
	{"fare_rules.txt", func(f *Feed, t *table) error {
		if err := t.need("fare_id"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			f.FareRules = append(f.FareRules, FareRule{Fare: r.id("fare_id"), Route: r.str("route_id"), Origin: r.str("origin_id"), Destination: r.str("destination_id"), Contains: r.str("contains_id")})
			return nil
		})
	}},
	{"translations.txt", func(f *Feed, t *table) error {
		if _, old := t.cols["trans_id"]; old {
			// GTFS-JP's first edition: trans_id, lang, translation.
			if err := t.need("lang", "translation"); err != nil {
				return err
			}
			return t.each(func(r *row) error {
				f.Translations = append(f.Translations, Translation{Value: r.id("trans_id"), Language: r.id("lang"), Translation: r.id("translation")})
				return nil
			})
		}
		if err := t.need("table_name", "field_name", "language", "translation"); err != nil {
			return err
		}
		return t.each(func(r *row) error {
			tr := Translation{Table: r.id("table_name"), Field: r.id("field_name"), Language: r.id("language"), Translation: r.id("translation"), Record: r.str("record_id"), RecordSub: r.str("record_sub_id"), Value: r.str("field_value")}
			if r.errs == nil && (tr.Record == "") == (tr.Value == "") {
				r.fail(ErrMissing, "a translation names either record_id or field_value")
			}
			f.Translations = append(f.Translations, tr)
			return nil
		})
	}},
}

// ParseDate reads a GTFS date (YYYYMMDD) as midnight in Japan.
func ParseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation("20060102", s, JST)
	if err != nil {
		return time.Time{}, fmt.Errorf("gtfsjp: date %q: %w", s, ErrSyntax)
	}
	return t, nil
}

// JST is Japan's time, in which GTFS-JP's dates and times are kept.
var JST = time.FixedZone("JST", 9*60*60)
