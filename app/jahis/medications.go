package jahis

import (
	"strconv"
	"strings"

	"smartpass.city/smartpass/app/fhirjp"
)

// Medications are the notebook's drugs as medication statements say
// them (fhirjp.MedicationStatementOf): each drug of each RP, its amount
// and usage, its YJ code when the code has that form, and its days (from
// the dispensing date, for an RP counted in 日分).
func (nb Notebook) Medications() []fhirjp.Medication {
	var out []fhirjp.Medication
	for _, d := range nb.Dispensings {
		for _, rp := range d.RPs {
			usage := rp.Usage
			if rp.Quantity > 0 {
				usage = strings.TrimSpace(usage + " " + strconv.Itoa(rp.Quantity) + rp.Unit)
			}
			for _, dr := range rp.Drugs {
				m := fhirjp.Medication{Name: dr.Name, Usage: strings.TrimSpace(dr.Amount + dr.Unit + " " + usage), Start: d.Date, Source: d.Pharmacy}
				if fhirjp.IsYJ(dr.Code) {
					m.YJ = dr.Code
				}
				if rp.Unit == "日分" && rp.Quantity > 0 {
					m.End = d.Date.AddDate(0, 0, rp.Quantity-1)
				}
				out = append(out, m)
			}
		}
	}
	return out
}
