package fhirjp

import (
	"strconv"
	"strings"

	"smartpass.city/smartpass/app/jahis"
)

// MedicationsOf are the drugs of a medication notebook as medication
// statements say them: each drug of each RP, its usage, and its days
// (from the dispensing date, for an RP counted in 日分).
func MedicationsOf(nb jahis.Notebook) []Medication {
	var out []Medication
	for _, d := range nb.Dispensings {
		for _, rp := range d.RPs {
			usage := rp.Usage
			if rp.Quantity > 0 {
				usage = strings.TrimSpace(usage + " " + strconv.Itoa(rp.Quantity) + rp.Unit)
			}
			for _, dr := range rp.Drugs {
				m := Medication{Name: dr.Name, Usage: usage, Start: d.Date, Source: d.Pharmacy}
				if dr.Amount != "" {
					m.Usage = strings.TrimSpace(dr.Amount + dr.Unit + " " + usage)
				}
				if yjPattern.MatchString(dr.Code) {
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
