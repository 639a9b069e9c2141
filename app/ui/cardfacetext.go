package ui

// cardFaceText is the card-face check's text, Japanese first. Kept apart
// from the shared table so the check changes one file.
var cardFaceText = map[string][2]string{
	"cardface.open":        {"カードの顔写真で確認", "Check with the card photo"},
	"cardface.key":         {"照合番号B（カード表面の数字14けた）", "Card number B (the 14 digits on the card's front)"},
	"cardface.key.hint":    {"生年月日（和暦の年2けた・月・日）、有効期限の西暦年、セキュリティコード4けたの順に、続けて入力します。", "Type, without spaces: the birth date as printed (era year, month, day: 6 digits), the expiry year (4 digits), the security code (4 digits)."},
	"cardface.tries":       {"あと%d回まで入力できます。", "%d tries left."},
	"cardface.read":        {"カードを読む", "Read the card"},
	"cardface.reading":     {"カードの写真を読んでいます。カードをリーダーに置いたままにしてください。", "Reading the card's photo. Keep the card on the reader."},
	"cardface.live":        {"カメラを見て、画面の指示どおりに顔を横に向けてください。", "Look at the camera and turn your head as the screen asks."},
	"cardface.ok":          {"カードの写真と本人の顔が一致しました。", "The face matches the card's photo."},
	"cardface.kana":        {"お名前の読み（カタカナ）", "Name, as read (katakana)"},
	"cardface.checkin":     {"受付する", "Check in"},
	"cardface.sight":       {"職員が、カードの写真と本人を目で見比べて確認してください。", "Staff: compare the card's photo with the person by sight."},
	"cardface.refused":     {"カードの写真と顔が一致しませんでした。", "The face does not match the card's photo."},
	"cardface.flat":        {"写真や画面がかざされたようです。", "A photo or a screen seems to have been held up."},
	"cardface.close":       {"閉じる", "Close"},
	"cardface.err.format":  {"照合番号Bは数字14けたです（生年月日6けた・有効期限の年4けた・セキュリティコード4けた）。カードには送っていません。", "Card number B is 14 digits (birth date 6, expiry year 4, security code 4). Nothing was sent to the card."},
	"cardface.err.wrong":   {"照合番号Bが違います。あと%d回まちがえると、カードの写真は読めなくなります。", "Card number B is wrong. After %d more wrong tries the photo can no longer be read."},
	"cardface.err.blocked": {"照合番号Bがロックされています。市役所でロックの解除を受けてください。", "Card number B is locked. The city office can unlock it."},
	"cardface.err.old":     {"このカードには顔写真を読む機能がありません（古いカード）。", "This card has no card-face application (an older card)."},
	"cardface.err.photo":   {"カードの写真を読み取れませんでした。", "The card's photo could not be read."},
	"cardface.err.decoder": {"この端末ではカードの写真を表示できません。", "This device cannot decode the card's photo."},
	"cardface.err.kana":    {"お名前の読みをカタカナで入力してください。", "Enter the name's reading in katakana."},
	"cardface.err.record":  {"受付の記録を作れませんでした。避難所の画面で手入力してください。", "The record could not be made. Enter it by hand on the shelter screen."},
}

func init() {
	for k, v := range cardFaceText {
		text[k] = v
	}
}
