package gtfsjp_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/transit/demofeed"
)

func TestDemoFeedReads(t *testing.T) {
	f, err := gtfsjp.Read(demofeed.Feed())
	if err != nil {
		t.Fatalf("demo feed: %v", err)
	}
	if len(f.Routes) != 2 || len(f.Stops) != 9 || len(f.Trips) != 4 || len(f.FareRules) != 17 || len(f.Offices) != 1 || len(f.AgenciesJP) != 1 {
		t.Fatalf("demo feed: %d routes, %d stops, %d trips, %d fare rules, %d offices, %d agency_jp", len(f.Routes), len(f.Stops), len(f.Trips), len(f.FareRules), len(f.Offices), len(f.AgenciesJP))
	}
	if got := f.ReadingOf(f.Stops[0]); got != "でもおんせんえきまえ" {
		t.Errorf("reading of %s = %q", f.Stops[0].Name, got)
	}
	if got := f.Translate("stops", "stop_name", "D5", "こおろぎ渓谷", "en"); got != "Korogi Gorge" {
		t.Errorf("English of D5 = %q", got)
	}
	if f.StopTimes[1].Arrival != 9*3600+12*60 || f.StopTimes[1].Departure != 9*3600+13*60 {
		t.Errorf("stop time 2: %+v", f.StopTimes[1])
	}
}

// edit returns the demo feed's files with file's text changed by fn.
func edit(file string, fn func(string) string) map[string][]byte {
	files := demofeed.Files()
	files[file] = []byte(fn(string(files[file])))
	return files
}

// sjis is 大聖寺 in Shift_JIS.
var sjis = string([]byte{0x91, 0xe5, 0x90, 0xb9, 0x8e, 0x9b})

func TestRefused(t *testing.T) {
	replace := func(file, old, new string) map[string][]byte {
		return edit(file, func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("%s lacks %q", file, old)
			}
			return strings.Replace(s, old, new, 1)
		})
	}
	drop := func(file string) map[string][]byte {
		files := demofeed.Files()
		delete(files, file)
		return files
	}
	for _, c := range []struct {
		name  string
		files map[string][]byte
		kind  error
		want  string // the error's text, exactly
	}{
		{"fare rule names an unknown zone", replace("fare_rules.txt", "line-2,line,Z1,Z3,", "line-2,line,Z1,Z9,"), gtfsjp.ErrReference,
			"fare_rules.txt line 5: zone Z9 is not any stop's zone_id: inconsistent"},
		{"stop time names a missing stop", replace("stop_times.txt", "line-0800,08:12:00,08:12:00,D3,3", "line-0800,08:12:00,08:12:00,D7,3"), gtfsjp.ErrReference,
			"stop_times.txt line 14: stop D7 is not in stops.txt: inconsistent"},
		{"fare rule names an unknown fare", replace("fare_rules.txt", "loop-flat,loop", "loop-free,loop"), gtfsjp.ErrReference,
			"fare_rules.txt line 2: fare loop-free is not in fare_attributes.txt: inconsistent"},
		{"trip names an unknown route", replace("trips.txt", "line,daily,line-1000", "lien,daily,line-1000"), gtfsjp.ErrReference,
			"trips.txt line 5: route lien is not in routes.txt: inconsistent"},
		{"trip names an unknown service", replace("trips.txt", "line,daily,line-1000", "line,weekday,line-1000"), gtfsjp.ErrReference,
			"trips.txt line 5: service weekday is not in calendar.txt: inconsistent"},
		{"repeated stop id", replace("stops.txt", "D2,D2,", "D1,D2,"), gtfsjp.ErrReference,
			"stops.txt line 7: id D1 repeats line 6: inconsistent"},
		{"trip back in time", replace("stop_times.txt", "line-0800,08:25:00,08:25:00,D4", "line-0800,07:25:00,07:25:00,D4"), gtfsjp.ErrReference,
			"stop_times.txt line 15: trip line-0800 goes back in time here: inconsistent"},
		{"stop without a reading", replace("translations.txt", "stops,stop_name,ja-Hrkt,さくみのつじ,D3,,\n", ""), gtfsjp.ErrMissing,
			"stops.txt line 8: stop D3 (作見の辻) has no reading (ja-Hrkt) in translations.txt, which GTFS-JP requires: missing"},
		{"Shift_JIS text", replace("stops.txt", "大聖寺デモ駅前", sjis), gtfsjp.ErrShiftJIS,
			"stops.txt line 6: the file looks like Shift_JIS; GTFS text must be UTF-8: save the feed as UTF-8 and import it again"},
		{"bytes that are no encoding", replace("routes.txt", "周遊,", "\xff\xfe,"), gtfsjp.ErrEncoding,
			"routes.txt line 2: GTFS text must be UTF-8: this line holds bytes that are not UTF-8"},
		{"price not in yen", replace("fare_attributes.txt", "line-1,230,", "line-1,230.5,"), gtfsjp.ErrSyntax,
			`fare_attributes.txt line 4: price "230.5" is not a whole number: malformed`},
		{"short row", replace("calendar.txt", ",20270331", ""), gtfsjp.ErrSyntax,
			"calendar.txt line 2: 9 fields, the header has 10: malformed"},
		{"bad time", replace("stop_times.txt", "09:12:00,09:13:00", "9:12,09:13:00"), gtfsjp.ErrSyntax,
			`stop_times.txt line 3: arrival_time "9:12" is not HH:MM:SS: malformed`},
		{"bad quote", replace("agency.txt", "加賀デモ交通,", "加賀\"デモ交通,"), gtfsjp.ErrSyntax,
			`agency.txt line 2: bare " in non-quoted-field: malformed`},
		{"missing column", replace("stops.txt", "stop_lon", "stop_lng"), gtfsjp.ErrMissing,
			"stops.txt line 1: column stop_lon is: missing"},
		{"missing file", drop("fare_rules.txt"), gtfsjp.ErrMissing,
			"fare_rules.txt: the file is missing (GTFS-JP requires it)"},
		{"office unknown", replace("trips.txt", "line-1000,大聖寺デモ駅前,1,depot-daishoji", "line-1000,大聖寺デモ駅前,1,depot-x"), gtfsjp.ErrReference,
			"trips.txt line 5: office depot-x is not in office_jp.txt: inconsistent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := gtfsjp.Read(demofeed.Zip(c.files))
			if !errors.Is(err, c.kind) {
				t.Fatalf("err = %v, want %v", err, c.kind)
			}
			var le *gtfsjp.LineError
			if !errors.As(err, &le) {
				t.Fatalf("err %v is no *LineError", err)
			}
			if err.Error() != c.want {
				t.Errorf("err = %q\nwant  %q", err, c.want)
			}
		})
	}
}

func TestBOMAndFolder(t *testing.T) {
	files := demofeed.Files()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, b := range files {
		w, _ := zw.Create("export/" + n)
		w.Write(append([]byte{0xEF, 0xBB, 0xBF}, b...))
	}
	zw.Close()
	if _, err := gtfsjp.Read(buf.Bytes()); err != nil {
		t.Fatalf("feed in a folder with BOMs: %v", err)
	}
}

func TestNotAZip(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("agency_id,agency_name\n"), bytes.Repeat([]byte{'P', 'K', 3, 4}, 10)} {
		if _, err := gtfsjp.Read(b); !errors.Is(err, gtfsjp.ErrZip) {
			t.Errorf("Read(%q) = %v, want ErrZip", b, err)
		}
	}
}

func TestZipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("stops.txt")
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for i := 0; i <= gtfsjp.MaxFile>>20; i++ {
		w.Write(chunk)
	}
	zw.Close()
	if _, err := gtfsjp.Read(buf.Bytes()); !errors.Is(err, gtfsjp.ErrZip) {
		t.Fatalf("a file decompressing past %d bytes: %v, want ErrZip", gtfsjp.MaxFile, err)
	}
}

// FuzzRead feeds the reader arbitrary zips: it must refuse or accept,
// never panic, and an accepted feed must hold what a trip needs.
func FuzzRead(f *testing.F) {
	f.Add(demofeed.Feed())
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add(demofeed.Zip(edit("stops.txt", func(s string) string { return strings.ReplaceAll(s, ",", "\",") })))
	f.Fuzz(func(t *testing.T, b []byte) {
		feed, err := gtfsjp.Read(b)
		if err != nil {
			return
		}
		if len(feed.Agencies) == 0 || len(feed.Trips) > 0 && len(feed.StopTimes) < 2 {
			t.Fatalf("accepted a feed without what it needs: %+v", feed)
		}
	})
}

// FuzzFile feeds one file's bytes, in place of the demo's stops.txt, to
// the CSV and field decoding.
func FuzzFile(f *testing.F) {
	files := demofeed.Files()
	f.Add(files["stops.txt"])
	f.Add([]byte("stop_id,stop_name,stop_lat,stop_lon\n\"a\"\"b\",x,1,2\n"))
	f.Add([]byte("\xEF\xBB\xBFstop_id\n" + sjis + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files := demofeed.Files()
		files["stops.txt"] = b
		feed, err := gtfsjp.ReadFiles(files)
		if err == nil && len(feed.Stops) == 0 {
			t.Fatal("accepted stop times naming stops of an empty stops.txt")
		}
		var le *gtfsjp.LineError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error %v does not say where", err)
		}
	})
}
