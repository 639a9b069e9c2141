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
	"app.name":                    {"スマートパス", "Smart Pass"},
	"lang.switch":                 {"English", "日本語"},
	"status.online":               {"オンライン・同期済み", "Online, all sent"},
	"status.sending":              {"送信中 %d件", "Sending %d"},
	"status.offline":              {"オフライン", "Offline"},
	"status.offline.n":            {"オフライン・未送信 %d件", "Offline, %d not sent"},
	"home.title":                  {"使う場面を選んでください", "Choose where you are"},
	"home.lead":                   {"この端末の使い方を選びます。ネットワークが切れても使えます。", "Choose how this device is used. It keeps working without a network."},
	"mode.enroll":                 {"登録", "Enroll"},
	"mode.enroll.d":               {"住民の本人確認と顔の登録", "Identity check and face registration"},
	"mode.hospital":               {"病院受付", "Hospital reception"},
	"mode.hospital.d":             {"顔またはカードで受付", "Check in by face or card"},
	"mode.playpark":               {"遊び場", "Play park"},
	"mode.playpark.d":             {"市内の子どもの入場", "Entry for resident children"},
	"mode.shelter":                {"避難所", "Evacuation shelter"},
	"mode.shelter.d":              {"避難者の受付と名簿", "Check-in and roster"},
	"mode.hq":                     {"災害対策本部", "Disaster HQ"},
	"mode.hq.d":                   {"全避難所の状況", "All shelters at a glance"},
	"mode.soon":                   {"準備中", "Coming soon"},
	"shelter.title":               {"避難所の受付", "Shelter check-in"},
	"shelter.pick":                {"避難所", "Shelter"},
	"shelter.none":                {"避難所の一覧がまだありません。一度ネットワークにつないでください。", "No shelter list yet. Connect to the network once."},
	"shelter.add":                 {"手入力で受付", "Check in by hand"},
	"field.name":                  {"氏名（漢字）", "Name (as written)"},
	"field.name.h":                {"分からなければ空のままで構いません", "Leave empty if unknown"},
	"field.kana":                  {"ふりがな", "Name reading (kana)"},
	"field.kana.h":                {"例：やまだ たろう", "e.g. やまだ たろう"},
	"field.birth":                 {"生まれた年（西暦）", "Year of birth"},
	"field.birth.h":               {"例：1950（昭和25年）", "e.g. 1950"},
	"action.add":                  {"受付する", "Check in"},
	"added":                       {"%s さんを受付しました。", "%s is checked in."},
	"added.offline":               {"%s さんを受付しました。ネットワークが戻ると自動で送ります。", "%s is checked in. It will be sent when the network is back."},
	"err.required":                {"入力してください", "Please fill this in"},
	"err.kana":                    {"ひらがなかカタカナで入力してください", "Please use hiragana or katakana"},
	"err.toolong":                 {"長すぎます", "Too long"},
	"err.birth":                   {"正しい年を入力してください（例：1950）", "Enter a valid year (e.g. 1950)"},
	"err.save":                    {"保存できませんでした。もう一度押してください。入力は残っています。", "Could not save. Press again; your entries are kept."},
	"list.title":                  {"受付済み %d人", "Checked in: %d"},
	"list.capacity":               {"受付済み %d人 ／ 定員 %d人", "Checked in: %d of %d"},
	"list.empty":                  {"まだ誰も受付していません。", "Nobody checked in yet."},
	"col.kana":                    {"ふりがな", "Reading"},
	"col.name":                    {"氏名", "Name"},
	"col.birth":                   {"生年", "Born"},
	"col.sync":                    {"送信", "Sent"},
	"sync.done":                   {"送信済み", "Sent"},
	"sync.pending":                {"未送信", "Not yet"},
	"hq.title":                    {"災害対策本部：避難所の状況", "HQ: shelters"},
	"hq.total":                    {"全避難所の合計 %d人", "All shelters: %d people"},
	"hq.rejected":                 {"反映できなかった記録 %d件（担当者が確認してください）", "%d records could not be applied (staff: please check)"},
	"back":                        {"← 戻る", "← Back"},
	"roster.csv":                  {"名簿をCSVで保存", "Save the roster as CSV"},
	"roster.download":             {"保存されない場合はここを押してください", "If nothing was saved, press here"},
	"mode.card":                   {"カードの確認", "Check a card"},
	"mode.card.d":                 {"マイナンバーカードと暗証番号で本人確認", "Identity check with the My Number Card and its PIN"},
	"card.title":                  {"マイナンバーカードの確認", "Check a My Number Card"},
	"card.lead":                   {"カードリーダーにカードを置いてから、つないでください。", "Put the card on the reader, then connect."},
	"card.connect":                {"カードリーダーにつなぐ", "Connect the card reader"},
	"card.pin":                    {"利用者証明用の暗証番号（数字4桁）", "User authentication PIN (4 digits)"},
	"card.tries":                  {"残り%d回まで入力できます。", "%d tries left."},
	"card.lasttry":                {"あと1回間違えるとロックされます。ロックされると市役所の窓口での解除が必要です。分からない場合は入力せず、職員に声をかけてください。", "One more wrong PIN locks the card, and only the city office can unlock it. If unsure, do not try: ask the staff."},
	"card.verify":                 {"確認する", "Check"},
	"card.wrongpin":               {"暗証番号が違います。", "The PIN is wrong."},
	"card.blocked":                {"暗証番号がロックされています。本人確認書類とカードを持って、市役所（市民課）の窓口で解除してください。", "The PIN is locked. Bring the card and an ID to the city office (Residents' Division) to have it unlocked."},
	"card.ok":                     {"カードを確認しました（証明書 %s）。", "The card is confirmed (certificate %s)."},
	"card.err.format":             {"暗証番号は数字4桁です。", "The PIN is 4 digits."},
	"card.err.nocard":             {"カードが読めません。カードをリーダーの中央に置き直して、もう一度つないでください。", "The card cannot be read. Place it in the middle of the reader and connect again."},
	"card.err.reader":             {"このカードリーダーは使えません。ソニーのPaSoRi（RC-S380）をお使いください。", "This card reader cannot be used. Use a Sony PaSoRi RC-S380."},
	"card.err.other":              {"カードを読み取れませんでした。もう一度お試しください。", "The card could not be read. Please try again."},
	"shelter.refused":             {"サーバーが受け付けなかった記録 %d件", "%d records refused by the server"},
	"shelter.refused.h":           {"この避難所の端末では登録できない内容でした。内容を確かめて、正しい避難所で受付し直してください。", "This tablet may not record them. Check each and check the person in again at the right shelter."},
	"shelter.edit":                {"訂正：%s さん", "Correct: %s"},
	"action.edit":                 {"訂正する", "Save correction"},
	"action.cancel":               {"やめる", "Cancel"},
	"action.correct":              {"訂正", "Correct"},
	"edited":                      {"%s さんの記録を訂正しました。", "%s's record is corrected."},
	"conflict.flag.two_shelters":  {"他の避難所にも受付あり", "Also checked in elsewhere"},
	"conflict.flag.edit":          {"訂正が食い違っています", "Conflicting corrections"},
	"hq.conflicts":                {"確認が必要な記録 %d件", "%d records need a decision"},
	"hq.conflict.two_shelters":    {"同じ方が複数の避難所で受付されています：%s", "The same person is checked in at more than one shelter: %s"},
	"hq.conflict.edit":            {"%s さんの「%s」が別々の端末で訂正されました：%s（表示中）／%s", "%s: %s was corrected differently on two devices: %s (shown) / %s"},
	"field.label.name":            {"氏名", "name"},
	"field.label.kana":            {"ふりがな", "reading"},
	"field.label.birth_year":      {"生年", "year of birth"},
	"status.setup":                {"端末の登録が必要", "Device setup needed"},
	"mode.setup":                  {"端末の登録", "Device setup"},
	"mode.setup.d":                {"管理者のコードでこの端末を登録", "Set this device up with an admin's code"},
	"home.device":                 {"この端末：%s（%s）", "This device: %s (%s)"},
	"home.nodevice":               {"この端末はまだ登録されていません。", "This device is not set up yet."},
	"role.shelter":                {"避難所の受付", "shelter check-in"},
	"role.hq":                     {"災害対策本部", "disaster HQ"},
	"role.reception":              {"病院受付", "hospital reception"},
	"role.playpark":               {"遊び場の入口", "play park entrance"},
	"setup.title":                 {"端末の登録", "Set up this device"},
	"setup.lead":                  {"市の管理者から受け取った登録コード（8文字）を入力してください。コードは1回だけ使えます。", "Enter the 8-character code from the city's administrator. A code works once."},
	"setup.code":                  {"登録コード", "Enrollment code"},
	"setup.code.h":                {"例：7K2M-Q9XA（小文字やハイフンなしでも構いません）", "e.g. 7K2M-Q9XA (case and hyphen do not matter)"},
	"setup.action":                {"登録する", "Set up"},
	"setup.current":               {"この端末は「%s」の%sとして登録されています。", "This device is set up for %s as %s."},
	"setup.open":                  {"画面を開く", "Open its screen"},
	"setup.done":                  {"登録しました：%s（%s）", "Set up: %s (%s)"},
	"setup.demo":                  {"デモ用の登録コード", "Demo codes"},
	"setup.demo.h":                {"デモサーバーでは、押すだけでその施設の端末になります。", "On a demo server, one press makes this a device of that facility."},
	"setup.err.empty":             {"登録コードを入力してください。", "Please enter the code."},
	"setup.err.code":              {"このコードは使えません。入力の誤りか、使用済み・期限切れです。管理者に新しいコードをもらってください。", "This code does not work: mistyped, already used or expired. Ask the administrator for a new one."},
	"setup.err.taken":             {"この端末はすでに登録されています。登録し直すには、管理者に取り消してもらってから新しいコードを使ってください。", "This device is set up already. To set it up again, ask the administrator to revoke it, then use a new code."},
	"setup.err.limit":             {"間違ったコードが多すぎます。10分待ってからやり直してください。", "Too many wrong codes. Wait ten minutes and try again."},
	"setup.err.server":            {"サーバーが登録を受け付けませんでした。管理者に連絡してください。", "The server did not accept the setup. Contact the administrator."},
	"setup.err.network":           {"サーバーにつながりません。ネットワークを確認して、もう一度押してください。", "Cannot reach the server. Check the network and press again."},
	"setup.needed.revoked":        {"この端末の登録は管理者によって取り消されました。記録は端末に残っています。", "This device was revoked by the administrator. Its records are kept on it."},
	"setup.needed.unknown_device": {"この端末はサーバーに登録されていません。記録は端末に残っています。", "This device is not registered on the server. Its records are kept on it."},
	"setup.go":                    {"端末の登録へ", "Go to device setup"},
	"setup.none":                  {"この端末はまだ登録されていません。管理者のコードで登録してください。", "This device is not set up yet. Set it up with an administrator's code."},
	"setup.other":                 {"この端末は「%s」の%s用です。この画面は%s用の端末で開いてください。", "This device is for %s (%s). Open this screen on a %s device."},
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
