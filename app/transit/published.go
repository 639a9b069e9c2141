package transit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"smartpass.city/smartpass/app/fare"
	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/syncproto"
)

// OpNetwork is one part of an imported feed, as the server publishes it
// to the operator's vehicles; its body is a Part. An import is in force
// from its From day once all its parts are in; a later import from a
// later day replaces it from that day on, and rides before keep the
// network and fares they were made under.
const OpNetwork = "transit.network"

// Part is one op's share of an import: the first part carries the
// configuration and fare rules, the others stops or trips, each part
// under the op size limit.
type Part struct {
	Operator string `json:"operator"`
	// Import names the import: the hash of its feed and configuration.
	Import string    `json:"import"`
	From   string    `json:"from"`
	Part   int       `json:"part"`
	Of     int       `json:"of"`
	Config *Config   `json:"config,omitempty"`
	Stops  []StopRec `json:"stops,omitempty"`
	Trips  []TripRec `json:"trips,omitempty"`
}

// ErrImport is wrapped by Compile and Part.Validate.
var ErrImport = errors.New("transit import")

// Validate reports whether p can be stored.
func (p Part) Validate() error {
	if _, err := fare.ParseDay(p.From); err != nil || p.Operator == "" || p.Import == "" || p.Part < 0 || p.Part >= p.Of {
		return fmt.Errorf("%w: part %d of %d of %q for %q from %q", ErrImport, p.Part, p.Of, p.Import, p.Operator, p.From)
	}
	if (p.Part == 0) != (p.Config != nil) {
		return fmt.Errorf("%w: the configuration is the first part's, and only its", ErrImport)
	}
	return nil
}

// partBudget keeps a part's body well under syncproto.MaxOpBody.
const partBudget = syncproto.MaxOpBody * 3 / 4

// Compile turns a checked feed and the operator's configuration into the
// parts of one import in force from the day from (YYYY-MM-DD).
func Compile(operator, from string, feed *gtfsjp.Feed, c Config) ([]Part, error) {
	if _, err := fare.ParseDay(from); err != nil {
		return nil, fmt.Errorf("%w: from %q is not a day YYYY-MM-DD", ErrImport, from)
	}
	c.Fares.Operator, c.Fares.From = operator, from
	rules, err := RulesFromFeed(feed, c.Fares)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImport, err)
	}
	c.Fares = rules
	stops, trips := records(feed)
	head := Part{Operator: operator, From: from, Config: &c}
	if size(head) > partBudget {
		return nil, fmt.Errorf("%w: the fare rules alone pass the op size limit", ErrImport)
	}
	parts := []Part{head}
	cur := Part{Operator: operator, From: from}
	flush := func() {
		if len(cur.Stops) > 0 || len(cur.Trips) > 0 {
			parts = append(parts, cur)
		}
		cur = Part{Operator: operator, From: from}
	}
	for _, s := range stops {
		cur.Stops = append(cur.Stops, s)
		if size(cur) > partBudget {
			cur.Stops = cur.Stops[:len(cur.Stops)-1]
			flush()
			cur.Stops = []StopRec{s}
		}
	}
	flush()
	for _, t := range trips {
		cur.Trips = append(cur.Trips, t)
		if size(cur) > partBudget {
			if len(cur.Trips) == 1 {
				return nil, fmt.Errorf("%w: trip %s alone passes the op size limit", ErrImport, t.ID)
			}
			cur.Trips = cur.Trips[:len(cur.Trips)-1]
			flush()
			cur.Trips = []TripRec{t}
		}
	}
	flush()
	h := sha256.New()
	for i := range parts {
		parts[i].Of = len(parts)
		parts[i].Part = i
		b, _ := json.Marshal(parts[i])
		h.Write(b)
	}
	id := hex.EncodeToString(h.Sum(nil))[:16]
	for i := range parts {
		parts[i].Import = id
	}
	return parts, nil
}

// size is p's body size on the wire.
func size(p Part) int {
	b, _ := json.Marshal(p)
	return len(b) + 64 // the import id and counts, filled in later
}

// assembly is an import as its parts arrive.
type assembly struct {
	From  string
	Order int // when its first part folded: a later import of the same day wins
	Parts map[int]Part
	Of    int
}

// Imports is the folded part that holds every import, by operator and
// import id: the history the replacement keeps.
var Imports = opkind.NewSlot("transit.imports", func() map[string]map[string]*assembly {
	return make(map[string]map[string]*assembly)
})

func init() {
	opkind.Register(opkind.Kind{
		Name:       OpNetwork,
		Body:       opkind.Over(Part.Validate, func(p Part) string { return p.Operator }),
		ServerOnly: true,
		Feeds:      opkind.Feeds{Facility: true},
		Fold: func(ps *opkind.Parts, op syncproto.Op) error {
			p, err := opkind.DecodeValid[Part](op)
			if err != nil {
				return err
			}
			all := *Imports.In(ps)
			if all[p.Operator] == nil {
				all[p.Operator] = make(map[string]*assembly)
			}
			a := all[p.Operator][p.Import]
			if a == nil {
				a = &assembly{From: p.From, Of: p.Of, Parts: make(map[int]Part), Order: len(all[p.Operator])}
				all[p.Operator][p.Import] = a
			}
			if a.From != p.From || a.Of != p.Of {
				return fmt.Errorf("%w: part %d of import %s disagrees with its first", ErrImport, p.Part, p.Import)
			}
			a.Parts[p.Part] = p
			return nil
		},
	})
}

// version is a complete import.
type version struct {
	from  string
	order int
	parts []Part
}

// versions returns an operator's complete imports, in force order: by
// From, and of one day the later import last.
func versions(imports map[string]map[string]*assembly, operator string) []version {
	var vs []version
	for _, a := range imports[operator] {
		if len(a.Parts) != a.Of {
			continue // parts still on their way
		}
		v := version{from: a.From, order: a.Order}
		for i := 0; i < a.Of; i++ {
			v.parts = append(v.parts, a.Parts[i])
		}
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].from != vs[j].from {
			return vs[i].from < vs[j].from
		}
		return vs[i].order < vs[j].order
	})
	return vs
}

// ErrNoNetwork is returned when no complete import is in force.
var ErrNoNetwork = errors.New("no transit network imported for that day")

// SettlementOn returns the settlement of an operator's rides of day (price
// each service day with its own settlement) from
// the folded imports: the network of the import in force that day, and
// the fare tables of every import (each from its day), so a fare
// revision is applied by date.
func SettlementOn(ps *opkind.Parts, operator string, day time.Time) (Settlement, error) {
	vs := versions(*Imports.In(ps), operator)
	d := day.In(fare.JST).Format(time.DateOnly)
	var in *version
	var tables fare.Tables
	for i := range vs {
		if vs[i].from <= d {
			in = &vs[i]
		}
		if i+1 < len(vs) && vs[i+1].from == vs[i].from {
			continue // a same-day import replaced this one's fares
		}
		tables = append(tables, vs[i].parts[0].Config.Fares)
	}
	if in == nil {
		return Settlement{}, fmt.Errorf("%w: %s on %s", ErrNoNetwork, operator, d)
	}
	var stops []StopRec
	var trips []TripRec
	for _, p := range in.parts {
		stops = append(stops, p.Stops...)
		trips = append(trips, p.Trips...)
	}
	return Settlement{Tables: tables, Network: networkOf(stops, trips, *in.parts[0].Config)}, nil
}

// Imported is an operator's imports folded on the server, which reads
// the transit.network ops from the log and folds nothing else (the
// fares it posts are priced by them).
type Imported struct{ parts opkind.Parts }

// Fold adds op when it is part of an import.
func (im *Imported) Fold(op syncproto.Op) {
	if op.Kind == OpNetwork {
		opkind.Fold(&im.parts, op)
	}
}

// SettlementOn is SettlementOn of the imports folded so far.
func (im *Imported) SettlementOn(operator string, day time.Time) (Settlement, error) {
	return SettlementOn(&im.parts, operator, day)
}
