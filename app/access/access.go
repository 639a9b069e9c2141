// Package access is the record a device keeps of each time staff read
// personal data in bulk or by search: HQ looking a person up, answering
// an inquirer, exporting or printing a roster. The law wants every read
// of personal data accounted for; like identifications, these records
// belong to no device's feed, and the server copies each into its
// hash-chained audit log.
package access

import (
	"errors"
	"fmt"
	"slices"
)

// OpRead records one read; its body is a Read.
const OpRead = "data.read"

// What was read.
const (
	Search  = "search"  // staff searched people by name
	Inquiry = "inquiry" // an inquirer was answered (安否確認)
	Export  = "export"  // a roster left the device as a file
	Print   = "print"   // a roster was printed
)

// MaxRecords bounds the records one Read names; a larger read (a whole
// roster exported) is recorded by its Count.
const MaxRecords = 100

// Read is the body of an OpRead.
type Read struct {
	Facility string `json:"facility"` // the reading device's facility
	What     string `json:"what"`
	// Shelter is whose roster was read, when one was.
	Shelter string `json:"shelter,omitempty"`
	// Records are the records shown (evacuee record ids), at most
	// MaxRecords; Count is how many were read in all.
	Records []string `json:"records,omitempty"`
	Count   int      `json:"count"`
}

// ErrInvalid is wrapped by Validate.
var ErrInvalid = errors.New("invalid read record")

// Validate reports whether r can be stored.
func (r Read) Validate() error {
	switch {
	case r.Facility == "":
		return fmt.Errorf("%w: no facility", ErrInvalid)
	case !slices.Contains([]string{Search, Inquiry, Export, Print}, r.What):
		return fmt.Errorf("%w: what %q", ErrInvalid, r.What)
	case len(r.Records) > MaxRecords:
		return fmt.Errorf("%w: %d records named (limit %d)", ErrInvalid, len(r.Records), MaxRecords)
	case r.Count < len(r.Records):
		return fmt.Errorf("%w: count %d below the %d records named", ErrInvalid, r.Count, len(r.Records))
	}
	return nil
}

// Of returns the record of reading records (ids), naming the first
// MaxRecords.
func Of(facility, what, shelter string, records []string) Read {
	return Read{Facility: facility, What: what, Shelter: shelter, Records: records[:min(len(records), MaxRecords)], Count: len(records)}
}
