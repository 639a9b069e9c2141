package jahis

import (
	"fmt"
	"strconv"
)

// MaxParts bounds a split code's parts.
const MaxParts = 32

// ParseParts reads a code split over several QR codes, in any order:
// each part is a whole data with the version record first and the
// split record (911) last, all of one data id, each sequence number once
// from 1 to the count. The records between are read as one data.
func ParseParts(parts ...[]byte) (Notebook, error) {
	if len(parts) == 1 {
		return Parse(parts[0])
	}
	if len(parts) == 0 || len(parts) > MaxParts {
		return Notebook{}, &Error{Kind: ErrIncomplete, Detail: fmt.Sprintf("%d parts (1 to %d)", len(parts), MaxParts)}
	}
	size := 0
	ordered := make([][][]string, len(parts))
	var id, version string
	for i, b := range parts {
		if size += len(b); size > MaxSize {
			return Notebook{}, &Error{Kind: ErrTooLarge, Detail: fmt.Sprintf("over %d bytes", MaxSize)}
		}
		lines, err := decode(b)
		if err != nil {
			return Notebook{}, err
		}
		if len(lines) < 2 {
			return Notebook{}, damaged(0, "part %d holds no records", i+1)
		}
		v, _, err := versionRecord(lines[0])
		if err != nil {
			return Notebook{}, err
		}
		last := lines[len(lines)-1]
		p := parser{nb: Notebook{Version: v}}
		if last[0] != "911" || len(last) != records[911].min {
			return Notebook{}, damaged(len(lines), "part %d does not end with its split record (911)", i+1)
		}
		if err := p.splitRecord(len(lines), last); err != nil {
			return Notebook{}, err
		}
		s := p.split
		switch {
		case i == 0:
			id, version = s.id, v
		case s.id != id || v != version:
			return Notebook{}, damaged(0, "part %d is of another data (%s %s, not %s %s)", i+1, v, s.id, version, id)
		}
		if s.total != len(parts) {
			return Notebook{}, &Error{Kind: ErrIncomplete, Detail: fmt.Sprintf("%d parts of %d", len(parts), s.total)}
		}
		if ordered[s.part-1] != nil {
			return Notebook{}, damaged(0, "part %s twice", strconv.Itoa(s.part))
		}
		ordered[s.part-1] = lines
	}
	joined := [][]string{ordered[0][0]}
	for _, lines := range ordered {
		joined = append(joined, lines[1:len(lines)-1]...)
	}
	return parseLines(joined, true)
}
