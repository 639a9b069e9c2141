package ui

import (
	"bytes"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/access"
	"smartpass.city/smartpass/app/shelter"
)

// rosterFile is the last roster export of a page, as a blob: URL the
// browser saves; the page shows it as a link for a second try.
type rosterFile struct {
	url, name string
}

// exportRoster writes people as the roster CSV and hands it to the
// browser to save; it works offline. The export is recorded for the
// audit (access.Export) before the file leaves the device. name is the
// file's name without the date.
func (l *live) exportRoster(f *rosterFile, name, shelterID string, people []shelter.Evacuee) error {
	var b bytes.Buffer
	if err := shelter.WriteRoster(&b, people, l.facilityName, l.lang); err != nil {
		return err
	}
	l.recordRead(access.Export, shelterID, people)
	f.name = fmt.Sprintf("%s-%s.csv", name, time.Now().Format("20060102-1504"))
	// Saved at once; the link stays for a second try.
	url, err := l.browser.Save(f.name, "text/csv;charset=utf-8", b.Bytes(), f.url)
	f.url = url
	return err
}

// printRoster records the print for the audit, then opens the browser's
// print dialog (the print stylesheet keeps the list only).
func (l *live) printRoster(shelterID string, people []shelter.Evacuee) {
	l.recordRead(access.Print, shelterID, people)
	l.browser.Print()
}

// recordRead keeps a read of people's records in the device's log, for
// the server's audit log; a failure shows in the status bar.
func (l *live) recordRead(what, shelterID string, people []shelter.Evacuee) {
	ids := make([]string, len(people))
	for i, e := range people {
		ids[i] = e.ID
	}
	l.keep(access.OpRead, []any{access.Of(l.enr.Facility, what, shelterID, ids)}, nil)
}
