// Package demofeed is the GTFS-JP feed made for the project's demo: a
// made-up operator in Kaga, Ishikawa, with one flat-fare tourist loop
// (paid on boarding) and one distance-fare line of four zones (a
// numbered ticket on boarding, paid on alighting). Its stops are
// invented, each with a kana reading and an English name in
// translations.txt. The files are kept as text, so a change shows in a
// diff; Zip packs them as an operator would upload them. Config is the
// made-up operator's configuration beside the feed (its fare rules and
// tolerances), which the demo server imports with the feed.
package demofeed

import (
	"archive/zip"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"smartpass.city/smartpass/app/gtfsjp"
	"smartpass.city/smartpass/app/transit"
)

//go:embed feed/*.txt
var feed embed.FS

//go:embed config.json
var config []byte

// Config returns the demo operator's configuration (transit.ParseConfig
// reads it), a copy the caller may keep.
func Config() []byte { return append([]byte(nil), config...) }

// Files returns the feed's files by name.
func Files() map[string][]byte {
	out := make(map[string][]byte)
	names, _ := fs.Glob(feed, "feed/*.txt")
	for _, n := range names {
		b, err := feed.ReadFile(n)
		if err != nil {
			panic(fmt.Errorf("demofeed: embedded %s: %w", n, err)) // the build embedded it
		}
		out[n[len("feed/"):]] = b
	}
	return out
}

// Zip returns files packed as a feed's zip, in name order (so the same
// files give the same bytes).
func Zip(files map[string][]byte) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err == nil {
			_, err = w.Write(files[n])
		}
		if err != nil {
			panic(fmt.Errorf("demofeed: zip %s: %w", n, err)) // a bytes.Buffer does not fail
		}
	}
	if err := zw.Close(); err != nil {
		panic(fmt.Errorf("demofeed: zip: %w", err))
	}
	return buf.Bytes()
}

// Feed returns the demo feed's zip.
func Feed() []byte { return Zip(Files()) }

// Import returns the parts that publish the demo feed with its
// configuration as operator's network from the feed's first day, its
// fares paid to the ledger account "operator:" + operator: what the demo
// server writes at its first start, and the network the tests fold.
func Import(operator string) ([]transit.Part, error) {
	feed, err := gtfsjp.Read(Feed())
	if err != nil {
		return nil, fmt.Errorf("demofeed: %w", err)
	}
	c, err := transit.ParseConfig(Config())
	if err != nil {
		return nil, fmt.Errorf("demofeed: %w", err)
	}
	c.Fares.Account = "operator:" + operator
	return transit.Compile(operator, feed.Start(), feed, c)
}
