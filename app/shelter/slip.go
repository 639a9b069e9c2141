package shelter

import (
	"strings"
)

// slipPrefix starts the text of a spare QR slip.
const slipPrefix = "SPSLIP1:"

// SlipText is the QR code of a spare slip printed for a person with no
// card and no phone: it names their record at the shelter, so the next
// time staff scan the slip instead of searching by hand. It carries no
// name and no signature: it points at a record only this shelter's
// tablets hold, with staff beside them.
func SlipText(shelterID, record string) string {
	return slipPrefix + shelterID + "/" + record
}

// ParseSlip reads a slip's QR code; ok is false for any other text.
func ParseSlip(text string) (shelterID, record string, ok bool) {
	rest, found := strings.CutPrefix(text, slipPrefix)
	if !found {
		return "", "", false
	}
	shelterID, record, found = strings.Cut(rest, "/")
	if !found || shelterID == "" || record == "" || len(rest) > 200 || strings.Contains(record, "/") {
		return "", "", false
	}
	return shelterID, record, true
}
