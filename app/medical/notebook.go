package medical

import (
	"encoding/json"
	"fmt"
	"time"
)

// OpNotebook is a medication notebook the patient imported (the JAHIS
// QR code on a pharmacy receipt, read by package jahis); body Notebook.
const OpNotebook = "medical.notebook"

// NotebookAuthor is the Hospital of an imported notebook's summary: the
// patient's own word, not a hospital's.
const NotebookAuthor = "notebook"

// Notebook is a patient's imported medication: JP Core medication
// statements whose subject is "Patient/" + Resident (the pass's own
// reference to them; no hospital number is involved).
type Notebook struct {
	Resident  string            `json:"resident"`
	By        string            `json:"by"`
	Imported  time.Time         `json:"imported"`
	Documents []json.RawMessage `json:"documents"`
}

// Validate reports whether n can be stored: medication statements only,
// each meeting its profile and about the resident.
func (n Notebook) Validate() error {
	if n.Resident == "" || n.By == "" || n.Imported.IsZero() || len(n.Documents) == 0 || len(n.Documents) > MaxDocuments {
		return fmt.Errorf("%w: notebook of %q by %q with %d documents", ErrInvalid, n.Resident, n.By, len(n.Documents))
	}
	for i, d := range n.Documents {
		k, err := documentKind(d, n.Resident)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		if k != Medication {
			return fmt.Errorf("%w: a notebook holds medication, not %s", ErrInvalid, k)
		}
	}
	return nil
}

// summary is the notebook as a summary of the patient's own.
func (n Notebook) summary() Summary {
	return Summary{Hospital: NotebookAuthor, Resident: n.Resident, Patient: n.Resident, Visit: n.Imported, Documents: n.Documents}
}
