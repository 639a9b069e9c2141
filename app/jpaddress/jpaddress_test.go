package jpaddress

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct{ address, pref, muni string }{
		{"石川県加賀市大聖寺南町ニ４１番地", "石川県", "加賀市"},
		{"石川県　加賀市　山代温泉１８－５９", "石川県", "加賀市"},
		{"石川県能美郡川北町字壱ツ屋１７４", "石川県", "川北町"},
		{"石川県野々市市三納１丁目１番地", "石川県", "野々市市"},
		{"北海道札幌市中央区北１条西２丁目", "北海道", "札幌市"},
		{"北海道余市郡余市町朝日町２６", "北海道", "余市町"},
		{"東京都千代田区霞が関１－２－２", "東京都", "千代田区"},
		{"東京都町田市森野２－２－２２", "東京都", "町田市"},
		{"東京都東村山市本町１－２－３", "東京都", "東村山市"},
		{"東京都大島町元町１－１－１４", "東京都", "大島町"},
		{"神奈川県横浜市港北区大豆戸町１", "神奈川県", "横浜市"},
		{"和歌山県和歌山市七番丁２３", "和歌山県", "和歌山市"},
		{"鹿児島県鹿児島市山下町１１－１", "鹿児島県", "鹿児島市"},
		{"三重県四日市市諏訪町１－５", "三重県", "四日市市"},
		{"広島県廿日市市下平良１－１１－１", "広島県", "廿日市市"},
		{"福島県郡山市朝日１－２３－７", "福島県", "郡山市"},
		{"岐阜県郡上市八幡町島谷２２８", "岐阜県", "郡上市"},
		{"山形県西村山郡河北町谷地戊８１", "山形県", "河北町"},
		{"長野県北安曇郡池田町池田３２０３－１", "長野県", "池田町"},
		{"京都府京都市中京区寺町通御池上る", "京都府", "京都市"},
		{"大阪府大阪市北区中之島１－３－２０", "大阪府", "大阪市"},
		{"沖縄県島尻郡渡嘉敷村渡嘉敷１８３", "沖縄県", "渡嘉敷村"},
		{"千葉県市川市八幡１－１－１", "千葉県", "市川市"},
		{"新潟県十日町市千歳町３－３", "新潟県", "十日町市"},
		{"福岡県小郡市小郡２５５－１", "福岡県", "小郡市"},
		{"岡山県岡山市北区郡１２３", "岡山県", "岡山市"},
		{"奈良県高市郡明日香村岡５５", "奈良県", "明日香村"},
	} {
		p, err := Parse(tt.address)
		if err != nil || p.Prefecture != tt.pref || p.Municipality != tt.muni {
			t.Errorf("Parse(%q) = %+v, %v; want %s %s", tt.address, p, err, tt.pref, tt.muni)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, a := range []string{"", "加賀市大聖寺南町", "石川県", "石川県字壱ツ屋", "Ishikawa-ken Kaga-shi", "石川県能美郡"} {
		if p, err := Parse(a); !errors.Is(err, ErrUnparsed) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrUnparsed", a, p, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"石川県加賀市大聖寺南町", "北海道余市郡余市町", "東京都千代田区", "県市", "郡郡郡"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, a string) {
		p, err := Parse(a)
		if err != nil {
			if !errors.Is(err, ErrUnparsed) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrUnparsed", a, err)
			}
			return
		}
		if p.Prefecture == "" || p.Municipality == "" {
			t.Fatalf("Parse(%q) = %+v with no error", a, p)
		}
	})
}
