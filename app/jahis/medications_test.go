package jahis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/fhirjp"
)

func TestMedications(t *testing.T) {
	nb, err := Parse(fixture(t, "notebook.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ms := nb.Medications()
	if len(ms) != 4 {
		t.Fatalf("%d medications, want 4", len(ms))
	}
	a := ms[0]
	if a.Name != "アムロジピン錠５ｍｇ" || a.YJ != "2171022F1093" || !a.End.Equal(day("2026-12-17")) || a.Usage != "1錠 １日１回朝食後 28日分" || a.Source != "かが中央薬局" {
		t.Errorf("first medication %+v", a)
	}
	if !ms[2].End.IsZero() {
		t.Errorf("an RP counted in 回分 has no end: %+v", ms[2])
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i, m := range ms {
		if _, err := fhirjp.Marshal(fhirjp.MedicationStatementOf("m", "Patient/1", m, now)); err != nil {
			t.Errorf("medication %d: %v", i, err)
		}
	}
}

func TestImport(t *testing.T) {
	nb, err := Parse(fixture(t, "notebook.csv"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	n, err := nb.Import("taro", "taro", day("1980-04-15"), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Documents) != 4 || n.Validate() != nil {
		t.Errorf("imported %d documents: %v", len(n.Documents), n.Validate())
	}
	// The newest dispensing first.
	if !strings.Contains(string(n.Documents[0]), "カロナール") {
		t.Errorf("first document %s", n.Documents[0])
	}
	if _, err := nb.Import("son", "mother", day("2019-05-10"), now); !errors.Is(err, ErrNotTheResident) {
		t.Errorf("another's notebook: %v", err)
	}
}
