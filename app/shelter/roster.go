package shelter

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// utf8BOM makes Excel open the file as UTF-8; without it Japanese names
// come out garbled on a Japanese Windows.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// rosterHeader is the roster's first row, in Japanese and English.
var rosterHeader = map[string][]string{
	"ja": {"ふりがな", "氏名", "生年", "避難所", "記録ID"},
	"en": {"Reading", "Name", "Born", "Shelter", "Record ID"},
}

// WriteRoster writes evacuees as a CSV roster that opens correctly in
// Excel: UTF-8 with a byte-order mark, CRLF line ends, a header row in
// lang ("ja" or "en"). shelterName names the shelter in each row.
func WriteRoster(w io.Writer, evacuees []Evacuee, shelterName, lang string) error {
	header, ok := rosterHeader[lang]
	if !ok {
		header = rosterHeader["ja"]
	}
	if _, err := w.Write(utf8BOM); err != nil {
		return fmt.Errorf("shelter: write roster: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	rows := [][]string{header}
	for _, e := range evacuees {
		rows = append(rows, []string{e.Kana, e.Name, strconv.Itoa(e.BirthYear), shelterName, e.ID})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("shelter: write roster: %w", err)
	}
	return nil
}
