package appointment

// The demo's two questionnaires, as a hospital's departments ask them.
var (
	// Internal is internal medicine's (内科) 問診票.
	Internal = Questionnaire{ID: "internal-v1", Title: "内科 問診票", Department: "internal", Questions: []Question{
		{ID: "symptoms", Text: "今日はどのような症状がありますか（あてはまるものすべて）", Type: TypeMulti, Required: true, Options: []Option{
			{"fever", "発熱"}, {"cough", "せき"}, {"throat", "のどの痛み"}, {"headache", "頭痛"}, {"stomach", "腹痛"}, {"diarrhea", "下痢"}, {"fatigue", "だるさ"}, {"other", "その他"}}},
		{ID: "since", Text: "いつからですか", Type: TypeDate, Required: true},
		{ID: "temperature", Text: "今朝の体温（℃）", Type: TypeDecimal, Min: 34.0, Max: 42.0},
		{ID: "medicating", Text: "現在飲んでいる薬はありますか", Type: TypeBoolean, Required: true},
		{ID: "medicines", Text: "飲んでいる薬の名前", Type: TypeText, Required: true, When: "medicating", MaxLen: 200},
		{ID: "allergic", Text: "薬や食べ物のアレルギーはありますか", Type: TypeBoolean, Required: true},
		{ID: "allergies", Text: "アレルギーの内容", Type: TypeText, Required: true, When: "allergic", MaxLen: 200},
		{ID: "pregnant", Text: "妊娠中、または妊娠の可能性はありますか", Type: TypeChoice, Options: []Option{{"no", "いいえ"}, {"yes", "はい"}, {"unknown", "わからない"}}},
		{ID: "smoking", Text: "たばこを吸いますか", Type: TypeChoice, Options: []Option{{"never", "吸わない"}, {"past", "以前吸っていた"}, {"current", "吸う"}}},
		{ID: "note", Text: "その他、伝えたいこと", Type: TypeText, MaxLen: 400},
	}}
	// Pediatrics is paediatrics' (小児科) 問診票, answered by a guardian.
	Pediatrics = Questionnaire{ID: "pediatrics-v1", Title: "小児科 問診票", Department: "pediatrics", Questions: []Question{
		{ID: "symptoms", Text: "お子さんの今日の症状（あてはまるものすべて）", Type: TypeMulti, Required: true, Options: []Option{
			{"fever", "発熱"}, {"cough", "せき"}, {"runny", "鼻水"}, {"vomit", "嘔吐"}, {"diarrhea", "下痢"}, {"rash", "発しん"}, {"appetite", "食欲がない"}, {"other", "その他"}}},
		{ID: "since", Text: "いつからですか", Type: TypeDate, Required: true},
		{ID: "temperature", Text: "いちばん高かった体温（℃）", Type: TypeDecimal, Min: 34.0, Max: 42.0},
		{ID: "weight", Text: "体重（kg）", Type: TypeDecimal, Required: true, Min: 1.0, Max: 100.0},
		{ID: "convulsion", Text: "けいれんを起こしたことはありますか", Type: TypeBoolean, Required: true},
		{ID: "allergic", Text: "薬や食べ物のアレルギーはありますか", Type: TypeBoolean, Required: true},
		{ID: "allergies", Text: "アレルギーの内容", Type: TypeText, Required: true, When: "allergic", MaxLen: 200},
		{ID: "vaccines", Text: "予防接種は年齢どおり受けていますか", Type: TypeChoice, Required: true, Options: []Option{{"yes", "はい"}, {"partly", "一部まだ"}, {"unknown", "わからない"}}},
		{ID: "nursery", Text: "保育園・幼稚園・学校で流行している病気", Type: TypeText, MaxLen: 200},
	}}
)

// questionnaires are those a department asks, by id.
var questionnaires = map[string]Questionnaire{Internal.ID: Internal, Pediatrics.ID: Pediatrics}

// Lookup returns the questionnaire of id.
func Lookup(id string) (Questionnaire, bool) {
	q, ok := questionnaires[id]
	return q, ok
}

// For returns the questionnaire department asks; ok is false for one
// without.
func For(department string) (Questionnaire, bool) {
	for _, q := range questionnaires {
		if q.Department == department {
			return q, true
		}
	}
	return Questionnaire{}, false
}
