package jahis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Where the layout was confirmed (the specification itself is sold by
// JAHIS; its public pages confirm the document and its versions):
//   - version identifiers JAHISTC01 … JAHISTC08 and the specification
//     versions that use them (08: Ver.2.5 and 2.6, whose change was a
//     note on drug codes; 07: Ver.2.4; … 01: Ver.1.0), and Shift_JIS
//     with CRLF: an open-source implementation's table of the
//     specification's revision history and a public summary of the
//     format;
//   - the record numbers and field positions of Ver.2.6 (表3-9 to 3-32:
//     1 患者情報 name, sex, birth date, …; 5 調剤等年月日 date; 11 調剤－医療
//     機関等 name, prefecture, 点数表, code, …; 51 処方－医療機関; 55 処方－
//     医師 name, department; 201 薬品 RP, name, 用量, 単位名, コード種別,
//     コード, creator, …; 301 用法 RP, name, 調剤数量, 調剤単位, 剤形,
//     コード種別, コード, creator; 911 分割制御 data id, parts, sequence)
//     and the order rules (1 first; 11 after 5; 201 and 301 inside a
//     dispensing): open-source readers that cite those tables.
//
// Only JAHISTC08's layout was checked field by field, so only it is
// read; an earlier identifier is known but refused with ErrVersion, so
// a field that moved between versions is never read as another.

// versions are the identifiers known, with the specification versions
// that use them.
var versions = map[string]string{
	"JAHISTC01": "Ver.1.0",
	"JAHISTC02": "Ver.1.1",
	"JAHISTC03": "Ver.2.0",
	"JAHISTC04": "Ver.2.1",
	"JAHISTC05": "Ver.2.2",
	"JAHISTC06": "Ver.2.3",
	"JAHISTC07": "Ver.2.4",
	"JAHISTC08": "Ver.2.5/2.6",
}

// supported are the versions whose layout this reader was checked
// against.
var supported = []string{"JAHISTC08"}

// Supported reports whether the reader reads version v.
func Supported(v string) bool { return slices.Contains(supported, v) }

func versionNote(v string) string {
	if spec, ok := versions[v]; ok {
		return fmt.Sprintf("%s (仕様書%s) is known but its layout was not checked; this reader reads %s", v, spec, strings.Join(supported, ", "))
	}
	return fmt.Sprintf("%s is not a published version; this reader reads %s", v, strings.Join(supported, ", "))
}

// record is a record number's rules: its least and most fields (the
// record number counted) and whether it belongs to a dispensing.
type record struct {
	min, max int
	inVisit  bool // only after a record 5
}

// records are the record numbers of JAHISTC08. The least count is up to
// the last field the layout requires in both directions of data (most
// records end with the required レコード作成者, so every position is
// there, empty or not); the most is the layout's.
var records = map[int]record{
	1:   {4, 11, false}, // 患者情報: name, sex, birth date required
	2:   {4, 4, false},  // 患者特記
	3:   {5, 7, false},  // 要指導医薬品・一般用医薬品服用
	31:  {6, 6, false},  // 同 成分
	4:   {4, 4, false},  // 手帳メモ
	5:   {3, 3, false},  // 調剤等年月日: opens a dispensing
	11:  {9, 9, true},   // 調剤－医療機関等
	15:  {4, 4, true},   // 調剤－医師・薬剤師
	51:  {6, 6, true},   // 処方－医療機関
	55:  {4, 4, true},   // 処方－医師
	201: {8, 11, true},  // 薬品: 一般名 fields 8 to 10 optional at the end
	281: {4, 4, true},   // 薬品補足
	291: {4, 4, true},   // 薬品服用注意
	301: {9, 9, true},   // 用法
	311: {4, 4, true},   // 用法補足
	391: {4, 4, true},   // 処方服用注意
	401: {3, 3, true},   // 服用注意
	411: {4, 4, true},   // 医療機関等提供情報
	421: {3, 3, true},   // 残薬確認
	501: {3, 3, true},   // 備考
	601: {2, 3, true},   // 患者等記入
	701: {7, 7, false},  // かかりつけ薬剤師
	911: {4, 4, false},  // 分割制御: last
}

// Field bounds, in characters: the layout's bytes (a full-width
// character is two), so a longer field is damaged whatever it holds.
const (
	maxName     = 40
	maxDrugName = 120
	maxInst     = 120
	maxUsage    = 100
	maxShort    = 13
)

// split is a record 911: which part of which data this is.
type split struct {
	id          string
	total, part int
}

// parser reads records in order.
type parser struct {
	nb      Notebook
	visit   *Dispensing
	rp      *RP
	seenRP  map[int]bool
	patient bool
	split   *split
	prev    int // the previous record number
}

func damaged(line int, format string, args ...any) error {
	return &Error{Kind: ErrDamaged, Line: line, Detail: fmt.Sprintf(format, args...)}
}

// parseLines reads decoded lines; joined says they are the parts of a
// split code put together (their 911 records already removed).
func parseLines(lines [][]string, joined bool) (Notebook, error) {
	if len(lines) == 0 || len(lines[0]) == 0 {
		return Notebook{}, &Error{Kind: ErrNotJAHIS, Detail: "empty"}
	}
	v, out, err := versionRecord(lines[0])
	if err != nil {
		return Notebook{}, err
	}
	p := parser{nb: Notebook{Version: v, Output: out}}
	for i, f := range lines[1:] {
		if err := p.record(i+2, f, i+2 == len(lines)); err != nil {
			return Notebook{}, err
		}
	}
	if p.split != nil && p.split.total > 1 && !joined {
		return Notebook{}, &Error{Kind: ErrIncomplete, Detail: fmt.Sprintf("part %d of %d", p.split.part, p.split.total)}
	}
	if !p.patient {
		return Notebook{}, damaged(0, "no patient record (1)")
	}
	if err := p.closeVisit(len(lines)); err != nil {
		return Notebook{}, err
	}
	if len(p.nb.Dispensings) == 0 {
		return Notebook{}, damaged(0, "no dispensing record (5)")
	}
	return p.nb, nil
}

func (p *parser) record(line int, f []string, last bool) error {
	no, err := strconv.Atoi(f[0])
	if err != nil || f[0] != strconv.Itoa(no) {
		return damaged(line, "record number %q", clip(f[0]))
	}
	r, ok := records[no]
	if !ok {
		return damaged(line, "record number %d is not in %s", no, p.nb.Version)
	}
	if len(f) < r.min || len(f) > r.max {
		return damaged(line, "record %d has %d fields (%d to %d)", no, len(f), r.min, r.max)
	}
	if r.inVisit && p.visit == nil {
		return damaged(line, "record %d before any dispensing (5)", no)
	}
	if p.split != nil {
		return damaged(line, "record %d after the split record (911), which is last", no)
	}
	defer func() { p.prev = no }()
	switch no {
	case 1:
		return p.patientRecord(line, f)
	case 2, 3, 31, 4:
		if p.visit != nil {
			return damaged(line, "record %d belongs before the first dispensing", no)
		}
	case 5:
		if err := p.closeVisit(line); err != nil {
			return err
		}
		d, err := date(f[1])
		if err != nil {
			return damaged(line, "調剤等年月日 %q: %v", clip(f[1]), err)
		}
		p.visit, p.rp, p.seenRP = &Dispensing{Date: d}, nil, map[int]bool{}
	case 11:
		if p.prev != 5 {
			return damaged(line, "record 11 must follow record 5")
		}
		name, err := text(f[1], maxInst, true)
		if err != nil {
			return damaged(line, "医療機関等名称: %v", err)
		}
		p.visit.Pharmacy = name
	case 51:
		name, err := text(f[1], maxInst, true)
		if err != nil {
			return damaged(line, "医療機関名称: %v", err)
		}
		p.visit.Prescriber = name
	case 55:
		name, err := text(f[1], maxName, true)
		if err != nil {
			return damaged(line, "医師氏名: %v", err)
		}
		p.visit.Doctor = name
		if len(f) > 2 {
			p.visit.Department, err = text(f[2], 80, false)
			if err != nil {
				return damaged(line, "診療科名: %v", err)
			}
		}
	case 201:
		return p.drug(line, f)
	case 301:
		return p.usage(line, f)
	case 281, 291, 311, 391:
		n, err := rpNumber(f[1])
		if err != nil || p.rp == nil || p.rp.Number != n {
			return damaged(line, "record %d for RP %q, not the RP being read", no, clip(f[1]))
		}
	case 911:
		if !last {
			return damaged(line, "the split record (911) must be last")
		}
		return p.splitRecord(line, f)
	}
	return nil
}

func (p *parser) patientRecord(line int, f []string) error {
	if p.patient || p.prev != 0 {
		return damaged(line, "the patient record (1) must come once, first")
	}
	name, err := text(f[1], maxName, true)
	if err != nil {
		return damaged(line, "患者氏名: %v", err)
	}
	var sex string
	switch f[2] {
	case "1":
		sex = "male"
	case "2":
		sex = "female"
	default:
		return damaged(line, "患者性別 %q (1 or 2)", clip(f[2]))
	}
	birth, err := date(f[3])
	if err != nil {
		return damaged(line, "患者生年月日 %q: %v", clip(f[3]), err)
	}
	p.nb.Patient = Patient{Name: name, Sex: sex, Birth: birth}
	if len(f) > 10 {
		if p.nb.Patient.Kana, err = text(f[10], maxName, false); err != nil {
			return damaged(line, "患者氏名カナ: %v", err)
		}
	}
	p.patient = true
	return nil
}

func (p *parser) drug(line int, f []string) error {
	n, err := rpNumber(f[1])
	if err != nil {
		return damaged(line, "RP番号 %q: %v", clip(f[1]), err)
	}
	if p.rp == nil || p.rp.Number != n || p.rp.Usage != "" || p.rp.Quantity != 0 {
		// A new RP: each number once per dispensing.
		if p.seenRP[n] {
			return damaged(line, "RP %d again after its usage or another RP", n)
		}
		p.seenRP[n] = true
		p.visit.RPs = append(p.visit.RPs, RP{Number: n})
		p.rp = &p.visit.RPs[len(p.visit.RPs)-1]
	}
	d := Drug{}
	if d.Name, err = text(f[2], maxDrugName, true); err != nil {
		return damaged(line, "薬品名称: %v", err)
	}
	get := func(i, max int) (string, error) {
		if i >= len(f) {
			return "", nil
		}
		return text(f[i], max, false)
	}
	for _, x := range []struct {
		to  *string
		i   int
		max int
	}{{&d.Amount, 3, 12}, {&d.Unit, 4, 12}, {&d.CodeType, 5, 1}, {&d.Code, 6, maxShort}} {
		if *x.to, err = get(x.i, x.max); err != nil {
			return damaged(line, "薬品 field %d: %v", x.i, err)
		}
	}
	if d.CodeType != "" && !digits(d.CodeType) {
		return damaged(line, "薬品コード種別 %q", d.CodeType)
	}
	if d.CodeType == "1" && d.Code != "" {
		return damaged(line, "a drug code with コード種別 1 (no code)")
	}
	p.rp.Drugs = append(p.rp.Drugs, d)
	return nil
}

func (p *parser) usage(line int, f []string) error {
	n, err := rpNumber(f[1])
	if err != nil {
		return damaged(line, "RP番号 %q: %v", clip(f[1]), err)
	}
	if p.rp == nil || p.rp.Number != n || p.rp.Usage != "" || p.rp.Quantity != 0 {
		return damaged(line, "usage (301) for RP %d, which has no drugs before it or has its usage", n)
	}
	if len(f) > 2 {
		if p.rp.Usage, err = text(f[2], maxUsage, false); err != nil {
			return damaged(line, "用法名称: %v", err)
		}
	}
	if len(f) > 3 && f[3] != "" {
		q, err := strconv.Atoi(f[3])
		if err != nil || q < 1 || q > 999 {
			return damaged(line, "調剤数量 %q (1 to 999)", clip(f[3]))
		}
		p.rp.Quantity = q
	}
	if len(f) > 4 {
		if p.rp.Unit, err = text(f[4], maxUsage, false); err != nil {
			return damaged(line, "調剤単位: %v", err)
		}
	}
	if len(f) > 5 {
		if p.rp.Form, err = text(f[5], 2, false); err != nil {
			return damaged(line, "剤形コード: %v", err)
		}
	}
	return nil
}

func (p *parser) splitRecord(line int, f []string) error {
	total, err1 := strconv.Atoi(f[2])
	part, err2 := strconv.Atoi(f[3])
	if !digits(f[1]) || len(f[1]) > 14 || err1 != nil || err2 != nil || total < 1 || total > 999 || part < 1 || part > total {
		return damaged(line, "分割制御 %q", clip(strings.Join(f[1:], ",")))
	}
	p.split = &split{id: f[1], total: total, part: part}
	return nil
}

// closeVisit checks the dispensing being read before the next begins.
func (p *parser) closeVisit(line int) error {
	if p.visit == nil {
		return nil
	}
	if p.visit.Pharmacy == "" {
		return damaged(line, "a dispensing without its pharmacy or hospital (11)")
	}
	if len(p.visit.RPs) == 0 {
		return damaged(line, "a dispensing without drugs (201)")
	}
	p.nb.Dispensings = append(p.nb.Dispensings, *p.visit)
	p.visit, p.rp = nil, nil
	return nil
}

func rpNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 999 || s != strconv.Itoa(n) {
		return 0, fmt.Errorf("not 1 to 999")
	}
	return n, nil
}

// text checks a text field: present when required, within max
// characters, without the ASCII quote the format never uses.
func text(s string, max int, required bool) (string, error) {
	switch {
	case required && s == "":
		return "", fmt.Errorf("empty")
	case utf8.RuneCountInString(s) > max:
		return "", fmt.Errorf("longer than %d characters", max)
	case strings.ContainsRune(s, '"'):
		return "", fmt.Errorf("a quote, which the format does not use")
	}
	return s, nil
}

// eras are the Japanese era codes of a 7-digit date (GYYMMDD) with the
// year before each era's first: the codes of the national receipt data
// (1 明治 … 5 令和), which JAHIS dates share.
var eras = map[byte]int{'1': 1867, '2': 1911, '3': 1925, '4': 1988, '5': 2018}

// date reads YYYYMMDD, or GYYMMDD in a Japanese era.
func date(s string) (time.Time, error) {
	if !digits(s) {
		return time.Time{}, fmt.Errorf("not digits")
	}
	switch len(s) {
	case 8:
	case 7:
		base, ok := eras[s[0]]
		yy, _ := strconv.Atoi(s[1:3])
		if !ok || yy < 1 {
			return time.Time{}, fmt.Errorf("era %q", s[:1])
		}
		s = strconv.Itoa(base+yy) + s[3:]
	default:
		return time.Time{}, fmt.Errorf("8 digits (YYYYMMDD) or 7 (GYYMMDD)")
	}
	t, err := time.Parse("20060102", s)
	if err != nil || t.Format("20060102") != s || t.Year() < 1868 {
		return time.Time{}, fmt.Errorf("no such date")
	}
	return t, nil
}
