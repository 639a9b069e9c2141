package ui

import "fmt"

// Languages the UI speaks. Japanese is the default: the pass is for the
// residents of a Japanese city; English is for visitors and staff who ask.
const (
	langJA = "ja"
	langEN = "en"
)

// text holds every string the UI shows, in both languages, so a missing
// translation is a compile-time-visible gap in one table, not a stray
// literal in a component.
var text = map[string][2]string{
	"app.name":         {"スマートパス", "Smart Pass"},
	"lang.switch":      {"English", "日本語"},
	"status.online":    {"オンライン・同期済み", "Online, all sent"},
	"status.sending":   {"送信中 %d件", "Sending %d"},
	"status.offline":   {"オフライン", "Offline"},
	"status.offline.n": {"オフライン・未送信 %d件", "Offline, %d not sent"},
	"home.title":       {"使う場面を選んでください", "Choose where you are"},
	"home.lead":        {"この端末の使い方を選びます。ネットワークが切れても使えます。", "Choose how this device is used. It keeps working without a network."},
	"mode.enroll":      {"登録", "Enroll"},
	"mode.enroll.d":    {"住民の本人確認と顔の登録", "Identity check and face registration"},
	"mode.hospital":    {"病院受付", "Hospital reception"},
	"mode.hospital.d":  {"顔またはカードで受付", "Check in by face or card"},
	"mode.playpark":    {"遊び場", "Play park"},
	"mode.playpark.d":  {"市内の子どもの入場", "Entry for resident children"},
	"mode.shelter":     {"避難所", "Evacuation shelter"},
	"mode.shelter.d":   {"避難者の受付と名簿", "Check-in and roster"},
	"mode.hq":          {"災害対策本部", "Disaster HQ"},
	"mode.hq.d":        {"全避難所の状況", "All shelters at a glance"},
	"mode.soon":        {"準備中", "Coming soon"},
	"shelter.title":    {"避難所の受付", "Shelter check-in"},
	"shelter.pick":     {"避難所", "Shelter"},
	"shelter.none":     {"避難所の一覧がまだありません。一度ネットワークにつないでください。", "No shelter list yet. Connect to the network once."},
	"shelter.add":      {"手入力で受付", "Check in by hand"},
	"field.name":       {"氏名（漢字）", "Name (as written)"},
	"field.name.h":     {"分からなければ空のままで構いません", "Leave empty if unknown"},
	"field.kana":       {"ふりがな", "Name reading (kana)"},
	"field.kana.h":     {"例：やまだ たろう", "e.g. やまだ たろう"},
	"field.birth":      {"生まれた年（西暦）", "Year of birth"},
	"field.birth.h":    {"例：1950（昭和25年）", "e.g. 1950"},
	"action.add":       {"受付する", "Check in"},
	"added":            {"%s さんを受付しました。", "%s is checked in."},
	"added.offline":    {"%s さんを受付しました。ネットワークが戻ると自動で送ります。", "%s is checked in. It will be sent when the network is back."},
	"err.required":     {"入力してください", "Please fill this in"},
	"err.kana":         {"ひらがなかカタカナで入力してください", "Please use hiragana or katakana"},
	"err.toolong":      {"長すぎます", "Too long"},
	"err.birth":        {"正しい年を入力してください（例：1950）", "Enter a valid year (e.g. 1950)"},
	"err.save":         {"保存できませんでした。もう一度押してください。入力は残っています。", "Could not save. Press again; your entries are kept."},
	"list.title":       {"受付済み %d人", "Checked in: %d"},
	"list.capacity":    {"受付済み %d人 ／ 定員 %d人", "Checked in: %d of %d"},
	"list.empty":       {"まだ誰も受付していません。", "Nobody checked in yet."},
	"col.kana":         {"ふりがな", "Reading"},
	"col.name":         {"氏名", "Name"},
	"col.birth":        {"生年", "Born"},
	"col.sync":         {"送信", "Sent"},
	"sync.done":        {"送信済み", "Sent"},
	"sync.pending":     {"未送信", "Not yet"},
	"hq.title":         {"災害対策本部：避難所の状況", "HQ: shelters"},
	"hq.total":         {"全避難所の合計 %d人", "All shelters: %d people"},
	"hq.rejected":      {"反映できなかった記録 %d件（担当者が確認してください）", "%d records could not be applied (staff: please check)"},
	"back":             {"← 戻る", "← Back"},
}

// tr returns the text for key in lang, formatted with args.
func tr(lang, key string, args ...any) string {
	pair, ok := text[key]
	if !ok {
		return key
	}
	s := pair[0]
	if lang == langEN {
		s = pair[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
