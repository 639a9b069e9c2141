package shelter

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeKana(t *testing.T) {
	tests := []struct{ in, want string }{
		{"やまだ たろう", "ヤマダ\u3000タロウ"},
		{"  ﾔﾏﾀﾞ   ﾀﾛｳ ", "ヤマダ\u3000タロウ"},
		{"ﾊﾟﾝ", "パン"},
		{"ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"},
		{"カトウ", "カトウ"},
		{"ﾗｰﾒﾝ", "ラーメン"},
	}
	for _, tt := range tests {
		if got := NormalizeKana(tt.in); got != tt.want {
			t.Errorf("NormalizeKana(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A voicing mark on a vowel has no composed form: it stays a separate
// half-width rune, and validation must reject the reading rather than
// silently drop the mark.
func TestNormalizeKanaStrayMark(t *testing.T) {
	if got := NormalizeKana("ｱﾞ"); isKana(got) {
		t.Fatalf("NormalizeKana(%q) = %q, accepted as kana", "ｱﾞ", got)
	}
}

func TestValidate(t *testing.T) {
	ok := Evacuee{Shelter: "s1", Name: "山田 太郎", Kana: "やまだ たろう", BirthYear: 1950}.Normalize()
	if err := ok.Validate(2026); err != nil {
		t.Fatalf("valid record: %v", err)
	}
	tests := []struct {
		name  string
		e     Evacuee
		field string
		want  error
	}{
		{"no shelter", Evacuee{Kana: "ア", BirthYear: 2000}, "shelter", ErrRequired},
		{"no kana", Evacuee{Shelter: "s", Name: "山田", BirthYear: 2000}, "kana", ErrRequired},
		{"kanji in kana", Evacuee{Shelter: "s", Kana: "山田", BirthYear: 2000}, "kana", ErrNotKana},
		{"latin in kana", Evacuee{Shelter: "s", Kana: "yamada", BirthYear: 2000}, "kana", ErrNotKana},
		{"future birth", Evacuee{Shelter: "s", Kana: "ア", BirthYear: 2027}, "birth_year", ErrBirthYear},
		{"missing birth", Evacuee{Shelter: "s", Kana: "ア"}, "birth_year", ErrBirthYear},
		{"long name", Evacuee{Shelter: "s", Name: string(make([]rune, 41)), Kana: "ア", BirthYear: 2000}, "name", ErrTooLong},
		{"markup in kana", Evacuee{Shelter: "s", Kana: "<script>alert(1)</script>", BirthYear: 2000}, "kana", ErrNotKana},
		{"newline in name", Evacuee{Shelter: "s", Name: "山田\n管理者", Kana: "ア", BirthYear: 2000}, "name", ErrControl},
		{"tab in allergies", Evacuee{Shelter: "s", Kana: "ア", BirthYear: 2000, Allergies: "卵\tそば"}, "allergies", ErrControl},
		{"escape in household", Evacuee{Shelter: "s", Kana: "ア", BirthYear: 2000, Household: "h\x1b[2J"}, "household", ErrControl},
		{"long shelter id", Evacuee{Shelter: string(make([]byte, 65)), Kana: "ア", BirthYear: 2000}, "shelter", ErrTooLong},
		{"unknown need", Evacuee{Shelter: "s", Kana: "ア", BirthYear: 2000, Needs: []string{"root"}}, "needs", ErrChoice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Normalize().Validate(2026)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want field %s error %v", err, tt.field, tt.want)
			}
		})
	}
}

func TestParseBirthYear(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"1950", 1950},
		{" １９５０ ", 1950},
		{"1950年", 1950},
		{"昭和25", 1950},
		{"昭和２５年", 1950},
		{"s25", 1950},
		{"H3", 1991},
		{"令和元年", 2019},
		{"令和2", 2020},
		{"大正15", 1926},
	}
	for _, tt := range tests {
		got, err := ParseBirthYear(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseBirthYear(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "abc", "昭和", "19x0", "S0", "99999999999"} {
		if _, err := ParseBirthYear(bad); !errors.Is(err, ErrYear) {
			t.Errorf("ParseBirthYear(%q) err = %v, want ErrYear", bad, err)
		}
	}
}

func TestEditFields(t *testing.T) {
	base := Evacuee{Shelter: "s", Kana: "カガ", BirthYear: 1950}
	tests := []struct {
		field, value string
		check        func(Evacuee) bool
		err          error
	}{
		{FieldStatus, StatusOut, func(e Evacuee) bool { return e.Status == StatusOut && !e.Present() }, nil},
		{FieldStatus, "gone", nil, ErrChoice},
		{FieldStay, StayCar, func(e Evacuee) bool { return e.Stay == StayCar && !e.Present() }, nil},
		{FieldNeeds, "oxygen,dialysis,oxygen", func(e Evacuee) bool { return strings.Join(e.Needs, ",") == "dialysis,oxygen" }, nil},
		{FieldNeeds, "", func(e Evacuee) bool { return e.Needs == nil }, nil},
		{FieldNeeds, "dialysis,flying", nil, ErrChoice},
		{FieldDisclose, "yes", func(e Evacuee) bool { return e.Disclose }, nil},
		{FieldDisclose, "maybe", nil, ErrChoice},
		{FieldLocation, "  体育館 A-12 ", func(e Evacuee) bool { return e.Location == "体育館 A-12" }, nil},
		{FieldLocation, strings.Repeat("あ", MaxNameRunes+1), nil, ErrTooLong},
		{FieldAllergies, "そば・卵", func(e Evacuee) bool { return e.Allergies == "そば・卵" }, nil},
		{FieldPets, strings.Repeat("犬", MaxNoteRunes+1), nil, ErrTooLong},
		{FieldSex, "2", func(e Evacuee) bool { return e.Sex == "2" }, nil},
		{FieldSex, "F", nil, ErrChoice},
		{FieldSex, "3", func(e Evacuee) bool { return e.Sex == "3" }, nil}, // 不明, as real signature certificates say
		{"shoe_size", "26", nil, ErrRequired},
	}
	for _, tt := range tests {
		t.Run(tt.field+"="+tt.value, func(t *testing.T) {
			e, err := Edit{Shelter: "s", Record: "r", Field: tt.field, Value: tt.value}.Apply(base, 2026)
			var fe *FieldError
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.As(err, &fe) || fe.Field != tt.field {
					t.Fatalf("Apply = %v, want %v on %s", err, tt.err, tt.field)
				}
				return
			}
			if err != nil || !tt.check(e) {
				t.Fatalf("Apply = %+v, %v", e, err)
			}
			if got := Value(e, tt.field); tt.field != FieldNeeds && tt.field != FieldLocation && got != tt.value {
				t.Fatalf("Value = %q, want %q", got, tt.value)
			}
		})
	}
	if !base.Present() || base.Needs != nil {
		t.Fatal("an edit changed the record it was applied to")
	}
}

func TestCongestion(t *testing.T) {
	for _, tt := range []struct{ present, capacity, want int }{
		{0, 100, 0}, {29, 100, 0}, {30, 100, 1}, {59, 100, 1}, {60, 100, 2}, {79, 100, 2}, {80, 100, 3}, {250, 100, 3}, {5, 0, 0},
	} {
		if got := Congestion(tt.present, tt.capacity); got != tt.want {
			t.Errorf("Congestion(%d, %d) = %d, want %d", tt.present, tt.capacity, got, tt.want)
		}
	}
}

// TestEditValidate: an edit is checked on its own, as the server checks
// it without the record, by the same rules as the record.
func TestEditValidate(t *testing.T) {
	tests := []struct {
		name string
		ed   Edit
		want error // nil: valid
	}{
		{"a correction of the reading", Edit{Shelter: "s", Record: "d.1", Field: FieldKana, Value: "やまだ"}, nil},
		{"a birth year", Edit{Shelter: "s", Record: "d.1", Field: FieldBirthYear, Value: "1950"}, nil},
		{"moving out", Edit{Shelter: "s", Record: "d.1", Field: FieldStatus, Value: StatusOut, Prev: "d.2"}, nil},
		{"clearing the reading of an identified person", Edit{Shelter: "s", Record: "d.1", Field: FieldKana, Value: ""}, nil},
		{"markup as the reading", Edit{Shelter: "s", Record: "d.1", Field: FieldKana, Value: "<script>"}, ErrNotKana},
		{"a birth year to come", Edit{Shelter: "s", Record: "d.1", Field: FieldBirthYear, Value: "3000"}, ErrBirthYear},
		{"a status of its own", Edit{Shelter: "s", Record: "d.1", Field: FieldStatus, Value: "admin"}, ErrChoice},
		{"a field that is not one", Edit{Shelter: "s", Record: "d.1", Field: "shelter", Value: "x"}, ErrRequired},
		{"a newline in the name", Edit{Shelter: "s", Record: "d.1", Field: FieldName, Value: "a\nb"}, ErrControl},
		{"no record", Edit{Shelter: "s", Field: FieldName, Value: "a"}, ErrRequired},
		{"no shelter", Edit{Record: "d.1", Field: FieldName, Value: "a"}, ErrRequired},
		{"a record id of a kilobyte", Edit{Shelter: "s", Record: string(make([]byte, 1024)), Field: FieldName, Value: "a"}, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ed.Validate(2026)
			if tt.want == nil && err != nil {
				t.Fatalf("Validate = %v, want valid", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}
