package commands

import (
	"context"
	"encoding/json"
	"fmt"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/transit/demofeed"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/visits"
	"smartpass.city/smartpass/syncproto"
)

// TransitImport is a transit operator's GTFS-JP feed and configuration
// to publish to its vehicles, in force from From (YYYY-MM-DD; "" for the
// feed's first calendar day).
type TransitImport struct {
	Operator string          `json:"operator"`
	From     string          `json:"from,omitempty"`
	Feed     []byte          `json:"feed"`
	Config   json.RawMessage `json:"config"`
}

// transitImport checks the feed and publishes it as the operator's
// network from its day: a later import from a later day replaces it from
// then on, and the earlier stays in the log for the rides before.
func (a Set) transitImport(req TransitImport) (string, error) {
	all, err := facilities.Current(a.Log)
	if err != nil {
		return "", err
	}
	if f, ok := all[req.Operator]; !ok || f.Kind != facility.Transit {
		return "", fmt.Errorf("transit import: %q is not a facility of kind %s (add it with the facility command first)", req.Operator, facility.Transit)
	}
	feed, err := gtfsjp.Read(req.Feed)
	if err != nil {
		return "", fmt.Errorf("transit import: %w", err)
	}
	c, err := transit.ParseConfig(req.Config)
	if err != nil {
		return "", fmt.Errorf("transit import: %w", err)
	}
	from := req.From
	if from == "" {
		from = feed.Start()
	}
	parts, err := transit.Compile(req.Operator, from, feed, c)
	if err != nil {
		return "", err
	}
	ops, err := publish.Ops(transit.OpNetwork, parts, transit.Part.Validate)
	if err != nil {
		return "", fmt.Errorf("transit import: %w", err)
	}
	if err := a.Writer.Write(context.Background(), ops, nil); err != nil {
		return "", err
	}
	id := parts[0].Import
	return id, a.Note("transit.import", req.Operator, fmt.Sprintf("import %s from %s: %d routes, %d stops, %d trips in %d parts", id, from, len(feed.Routes), len(feed.Stops), len(feed.Trips), len(parts)))
}

// DemoTransit returns the ops that publish the demo operator's feed
// (app/transit/demofeed) to its vehicles from the feed's first day: what
// a demo server writes once, beside the demo facilities, so a vehicle
// tablet set up from the demo codes has trips to drive.
func DemoTransit() ([]syncproto.Op, error) {
	parts, err := demofeed.Import(facility.DemoOperator)
	if err != nil {
		return nil, fmt.Errorf("demo transit: %w", err)
	}
	return publish.Ops(transit.OpNetwork, parts, transit.Part.Validate)
}

// DemoHead is the head of a new demo server's log: the demo facilities,
// the demo JPKI's anchors and the QR pass key (one op each), the demo
// operator's routes (DemoTransit) and the demo hospitals' publications
// and slots (visits.SeedOps). The tests that pin a demo server's log
// count it here, so a new demo op changes one place.
func DemoHead() (uint64, error) {
	transit, err := DemoTransit()
	if err != nil {
		return 0, err
	}
	return uint64(len(facility.Demo()) + 2 + len(transit) + visits.SeedOps()), nil
}
