// Package gtfsjp reads a GTFS-JP feed (標準的なバス情報フォーマット: GTFS
// with Japan's extensions) from its zip file into typed tables, and
// refuses a feed that is malformed or inconsistent with the file and
// the line at fault, so an operator can mend it: "fare_rules.txt line 4:
// zone Z9 is not any stop's zone_id".
//
// GTFS text is UTF-8 by the specification. Japanese operators' tools
// still export Shift_JIS now and then; the reader refuses such a file
// and says so, rather than decode it: a guessed decoding can turn a stop
// name into another valid-looking one, and a fare feed is the operator's
// filed data, which we must not alter. A UTF-8 byte-order mark, which
// Excel writes, is accepted.
//
// Columns are found by their header, so unknown columns (a newer GTFS,
// an operator's own) are ignored; a missing required column is an error.
package gtfsjp

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Feed is one operator's feed, every file read.
type Feed struct {
	Agencies     []Agency
	AgenciesJP   []AgencyJP // agency_jp.txt (optional)
	Offices      []Office   // office_jp.txt (optional)
	Routes       []Route
	Stops        []Stop
	Trips        []Trip
	StopTimes    []StopTime // in file order
	Calendar     []Service
	Fares        []FareAttribute
	FareRules    []FareRule
	Translations []Translation

	// lines holds each file's rows' lines, in the order of its slice.
	lines map[string][]int
	// x indexes the ids, once checked.
	x index
}

// Line returns the line of the i-th row of file (0 when unknown): where
// a caller's own check of the feed points the operator.
func (f *Feed) Line(file string, i int) int {
	if ls := f.lines[file]; i >= 0 && i < len(ls) {
		return ls[i]
	}
	return 0
}

// Agency is a row of agency.txt.
type Agency struct {
	ID, Name, URL, Timezone, Lang, Phone string
}

// AgencyJP is a row of agency_jp.txt: the operator's legal facts.
type AgencyJP struct {
	ID, OfficialName, ZipNumber, Address, PresidentPos, PresidentName string
}

// Office is a row of office_jp.txt: an operator's depot or office.
type Office struct {
	ID, Name, URL, Phone string
}

// Route is a row of routes.txt.
type Route struct {
	ID, Agency, ShortName, LongName string
	Type                            int // 3: bus
	ParentRouteID                   string
}

// Stop is a row of stops.txt: a stop or platform (location_type 0) or a
// station grouping them (1). Zone is the fare zone (zone_id).
type Stop struct {
	ID, Code, Name string
	Lat, Lon       float64
	Zone           string
	LocationType   int
	Parent         string
}

// Trip is a row of trips.txt.
type Trip struct {
	ID, Route, Service, Headsign string
	Direction                    int
	Office                       string // jp_office_id
}

// StopTime is a row of stop_times.txt. Times are seconds after the
// service day's noon minus twelve hours, as GTFS counts (25:10:00 is
// after midnight).
type StopTime struct {
	Trip                string
	Arrival, Departure  int
	Stop                string
	Sequence            int
	PickupType, DropOff int
}

// Service is a row of calendar.txt. Days are Monday first; dates are
// YYYYMMDD as in the file.
type Service struct {
	ID         string
	Days       [7]bool
	Start, End string
}

// FareAttribute is a row of fare_attributes.txt: an adult fare in yen.
type FareAttribute struct {
	ID               string
	Price            int // yen
	Currency         string
	PaymentMethod    int // 0: on board, 1: before boarding
	Transfers        int // -1: unlimited (empty), else 0, 1, 2
	Agency           string
	TransferDuration int // seconds, 0 when not given
}

// FareRule is a row of fare_rules.txt: which fare a ride pays, by route
// and by the zones of its origin and destination.
type FareRule struct {
	Fare, Route, Origin, Destination, Contains string
}

// Translation is a row of translations.txt, either GTFS's (table, field,
// language, record) or GTFS-JP first edition's (trans_id, lang): Table
// is then empty and Value holds trans_id, the text translated.
type Translation struct {
	Table, Field, Language, Translation string
	Record, RecordSub, Value            string
}

// Limits on a feed, so that a zip bomb or a runaway export is refused
// before it fills memory. A city's bus feed is a few megabytes.
const (
	MaxZip      = 64 << 20  // bytes of the zip file
	MaxFile     = 128 << 20 // bytes of one file, decompressed
	MaxTotal    = 256 << 20 // bytes of every file, decompressed
	MaxFiles    = 64        // entries in the zip
	MaxFieldLen = 4096      // bytes of one cell
)

// Errors a caller translates. A *LineError wraps one of the last four
// with the file and line.
var (
	// ErrZip: the bytes are not a zip file, or one beyond the limits.
	ErrZip = errors.New("not a readable GTFS zip")
	// ErrMissing: a required file or column is absent.
	ErrMissing = errors.New("missing")
	// ErrEncoding: a file is not UTF-8 (ErrShiftJIS when it looks like
	// Shift_JIS).
	ErrEncoding = errors.New("GTFS text must be UTF-8")
	// ErrShiftJIS is wrapped beside ErrEncoding.
	ErrShiftJIS = errors.New("the file looks like Shift_JIS")
	// ErrSyntax: a row that CSV or a field's type cannot read.
	ErrSyntax = errors.New("malformed")
	// ErrReference: a row names something the feed does not hold, or
	// repeats an id.
	ErrReference = errors.New("inconsistent")
)

// LineError says where in the feed a fault is: the file and its line (1
// is the header; 0 when the fault is the whole file's).
type LineError struct {
	File string
	Line int
	Err  error
}

// Error says file, line and fault as an operator reads them.
func (e *LineError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s line %d: %v", e.File, e.Line, e.Err)
}

// Unwrap gives the fault, whose kind (ErrReference, ...) callers test.
func (e *LineError) Unwrap() error { return e.Err }

// at makes a *LineError of a fault of kind at file:line.
func at(file string, line int, kind error, format string, args ...any) error {
	return &LineError{File: file, Line: line, Err: fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), kind)}
}

// required are the files every GTFS-JP feed holds (fares and readings
// became required in its second edition).
var required = []string{"agency.txt", "routes.txt", "stops.txt", "trips.txt", "stop_times.txt", "calendar.txt", "fare_attributes.txt", "fare_rules.txt", "translations.txt"}

// Read reads and checks a feed from its zip file.
func Read(zipped []byte) (*Feed, error) {
	files, err := Unzip(zipped)
	if err != nil {
		return nil, err
	}
	return ReadFiles(files)
}

// Unzip returns the files of a feed's zip by name (the base name: some
// exporters put the files in a folder), within the limits.
func Unzip(zipped []byte) (map[string][]byte, error) {
	if len(zipped) > MaxZip {
		return nil, fmt.Errorf("gtfsjp: %w: %d bytes, more than %d", ErrZip, len(zipped), MaxZip)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, fmt.Errorf("gtfsjp: %w: %w", ErrZip, err)
	}
	if len(zr.File) > MaxFiles {
		return nil, fmt.Errorf("gtfsjp: %w: %d entries, more than %d", ErrZip, len(zr.File), MaxFiles)
	}
	files := make(map[string][]byte)
	total := 0
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		name := path.Base(f.Name)
		if !strings.HasSuffix(name, ".txt") {
			continue // shapes as geojson, a readme: not ours
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("gtfsjp: %w: %s twice", ErrZip, name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("gtfsjp: %w: %s: %w", ErrZip, name, err)
		}
		// Read one byte past the limit to know it was passed, whatever
		// the header claims.
		b, err := io.ReadAll(io.LimitReader(rc, MaxFile+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("gtfsjp: %w: %s: %w", ErrZip, name, err)
		}
		if total += len(b); len(b) > MaxFile || total > MaxTotal {
			return nil, fmt.Errorf("gtfsjp: %w: %s decompresses past the limits", ErrZip, name)
		}
		files[name] = b
	}
	return files, nil
}

// ReadFiles reads and checks a feed from its files by name.
func ReadFiles(files map[string][]byte) (*Feed, error) {
	for _, name := range required {
		if _, ok := files[name]; !ok {
			return nil, &LineError{File: name, Err: fmt.Errorf("the file is %w (GTFS-JP requires it)", ErrMissing)}
		}
	}
	f := &Feed{lines: make(map[string][]int)}
	for _, r := range readers {
		b, ok := files[r.file]
		if !ok {
			continue
		}
		t, err := parse(r.file, b)
		if err != nil {
			return nil, err
		}
		if err := r.read(f, t); err != nil {
			return nil, err
		}
		f.lines[r.file] = t.lines
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// Start returns the feed's first service day (the earliest calendar
// start_date) as YYYY-MM-DD: the day an import takes effect unless told.
func (f *Feed) Start() string {
	first := ""
	for _, s := range f.Calendar {
		if first == "" || s.Start < first {
			first = s.Start
		}
	}
	if len(first) != 8 {
		return ""
	}
	return first[:4] + "-" + first[4:6] + "-" + first[6:]
}
