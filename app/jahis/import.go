package jahis

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"smartpass.city/smartpass/app/fhirjp"
	"smartpass.city/smartpass/app/medical"
)

// MaxImportBytes bounds an import's documents, under the sync
// protocol's op body limit with room for the rest of the body.
const MaxImportBytes = 12 << 10

// ErrNotTheResident: the notebook's patient is not the resident
// importing it (another birth date).
var ErrNotTheResident = errors.New("jahis: the notebook is someone else's")

// Import is the notebook as the medication a resident born on birth
// imports into their record (medical.OpNotebook), by the account holder
// by, at now: refused when the notebook's patient has another birth date
// (a family member's receipt scanned on the wrong page). When the
// documents would not fit one record, the newest are kept.
func (nb Notebook) Import(resident, by string, birth, now time.Time) (medical.Notebook, error) {
	if !sameDay(nb.Patient.Birth, birth) {
		return medical.Notebook{}, fmt.Errorf("%w: born %s, the resident %s", ErrNotTheResident, nb.Patient.Birth.Format(time.DateOnly), birth.Format(time.DateOnly))
	}
	ms := nb.Medications()
	slices.SortStableFunc(ms, func(a, b fhirjp.Medication) int { return b.Start.Compare(a.Start) })
	out := medical.Notebook{Resident: resident, By: by, Imported: now}
	size := 0
	for i, m := range ms {
		b, err := fhirjp.Marshal(fhirjp.MedicationStatementOf("jahis-"+strconv.Itoa(i+1), "Patient/"+resident, m, now))
		if err != nil {
			return medical.Notebook{}, fmt.Errorf("jahis: %w", err)
		}
		if size += len(b); size > MaxImportBytes || len(out.Documents) == medical.MaxDocuments {
			break
		}
		out.Documents = append(out.Documents, json.RawMessage(b))
	}
	return out, out.Validate()
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
