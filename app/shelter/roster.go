package shelter

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"smartpass.city/smartpass/app/excelcsv"
)

// rosterHeader is the roster's first row, in Japanese and English.
var rosterHeader = map[string][]string{
	"ja": {"ふりがな", "氏名", "生年", "性別", "地区", "世帯", "状態", "滞在場所", "避難所内の場所", "要配慮", "アレルギー", "服薬", "ペット", "安否情報の開示", "避難所", "記録ID"},
	"en": {"Reading", "Name", "Born", "Sex", "Area", "Household", "Status", "Staying", "Place in the shelter", "Special needs", "Allergies", "Medication", "Pets", "Safety disclosure", "Shelter", "Record ID"},
}

// labels are the words for the coded values, in Japanese and English:
// the roster and the screens say them the same way.
var labels = map[string]map[string][2]string{
	FieldSex:      {"1": {"男", "male"}, "2": {"女", "female"}, "3": {"不明", "unknown"}, "9": {"回答なし", "not given"}},
	FieldStatus:   {"": {"在所", "in"}, StatusIn: {"在所", "in"}, StatusOut: {"一時外出", "out for now"}, StatusLeft: {"退所", "left"}},
	FieldStay:     {"": {"避難所", "shelter"}, StayShelter: {"避難所", "shelter"}, StayHome: {"在宅", "at home"}, StayCar: {"車中", "in a car"}, StayTent: {"テント", "in a tent"}},
	FieldDisclose: {"yes": {"同意", "agreed"}, "no": {"不同意", "not agreed"}},
	FieldNeeds: {
		"dialysis": {"透析", "dialysis"}, "oxygen": {"酸素", "oxygen"}, "medication": {"服薬", "medication"},
		"allergy": {"アレルギー", "allergy"}, "pregnancy": {"妊娠", "pregnancy"}, "disability": {"障がい", "disability"},
		"mobility": {"移動の介助", "mobility help"}, "interpreter": {"通訳", "interpreter"},
	},
}

// Label returns the word for a coded value of field in lang ("ja" or
// "en"); a value with no word (free text) is returned as it is.
func Label(lang, field, value string) string {
	l, ok := labels[field][value]
	if !ok {
		return value
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// NeedsLabel returns e's special needs as words, joined.
func NeedsLabel(lang string, needs []string) string {
	words := make([]string, len(needs))
	for i, n := range needs {
		words[i] = Label(lang, FieldNeeds, n)
	}
	sep := "・"
	if lang == "en" {
		sep = ", "
	}
	return strings.Join(words, sep)
}

// WriteRoster writes evacuees as a CSV roster that opens correctly in
// Excel (package excelcsv: UTF-8 with a byte-order mark, CRLF line ends,
// no cell that runs as a formula), a header row in lang ("ja" or "en"),
// coded values in words. shelterName gives the name
// of each row's shelter (HQ exports every shelter in one file).
func WriteRoster(w io.Writer, evacuees []Evacuee, shelterName func(id string) string, lang string) error {
	header, ok := rosterHeader[lang]
	if !ok {
		lang, header = "ja", rosterHeader["ja"]
	}
	rows := [][]string{header}
	for _, e := range evacuees {
		rows = append(rows, []string{
			e.Kana, e.Name, strconv.Itoa(e.BirthYear), Label(lang, FieldSex, e.Sex), e.Area, e.Household,
			Label(lang, FieldStatus, e.Status), Label(lang, FieldStay, e.Stay), e.Location, NeedsLabel(lang, e.Needs),
			e.Allergies, e.Medication, e.Pets, Label(lang, FieldDisclose, Value(e, FieldDisclose)), shelterName(e.Shelter), e.ID,
		})
	}
	if err := excelcsv.Write(w, rows); err != nil {
		return fmt.Errorf("shelter: write roster: %w", err)
	}
	return nil
}
