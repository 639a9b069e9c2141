package commands

import (
	"bytes"
	"fmt"
	"time"

	"smartpass.city/smartpass/app/settlement"
	"smartpass.city/smartpass/app/zengin"
	"smartpass.city/smartpass/server/ledger"
)

// Settle asks for the shops' settlements of the days From to To
// (YYYY-MM-DD, both included, cut in the city's time zone) and the
// city's payout of them: the transfer file's header (the city's
// requester code and account, the transfer date) and each shop's bank
// account, by facility id, from the city's finance records (the server
// keeps no bank accounts).
type Settle struct {
	From   string                      `json:"from"`
	To     string                      `json:"to"`
	Header zengin.Header               `json:"header"`
	Payees map[string]settlement.Payee `json:"payees"`
	// CRLF ends the payout file's records with CR LF, as most banks'
	// upload screens take it.
	CRLF bool `json:"crlf,omitempty"`
}

// Settled answers "settle": each shop's settlement as the CSV it opens
// in Excel, the 全銀 総合振込 file (JIS X 0201 bytes; none when no shop
// is owed anything), and the shops left for the next period because
// refunds passed their payments.
type Settled struct {
	CSV     map[string]string  `json:"csv"`
	Payout  []byte             `json:"payout,omitempty"`
	Carried []settlement.Carry `json:"carried,omitempty"`
}

// cityZone is where settlement days are cut: Japan has one time zone
// and no summer time.
var cityZone = time.FixedZone("JST", 9*60*60)

// settle settles the shops for the period and makes the payout file. A
// shop owed money with no bank account given, or an amount the file's
// fixed-length field cannot carry, refuses the whole file: a shop
// silently unpaid is worse than a file not made.
func (a Set) settle(req Settle) (Settled, error) {
	from, err1 := time.ParseInLocation(time.DateOnly, req.From, cityZone)
	to, err2 := time.ParseInLocation(time.DateOnly, req.To, cityZone)
	if err1 != nil || err2 != nil || to.Before(from) {
		return Settled{}, fmt.Errorf("settle: the period %q to %q is not two dates in order (YYYY-MM-DD)", req.From, req.To)
	}
	lines, err := ledger.MerchantLines(a.Log)
	if err != nil {
		return Settled{}, fmt.Errorf("settle: %w", err)
	}
	ss, err := settlement.Settle(lines, from, to.AddDate(0, 0, 1), cityZone)
	if err != nil {
		return Settled{}, fmt.Errorf("settle: %w", err)
	}
	out := Settled{CSV: make(map[string]string, len(ss))}
	for _, s := range ss {
		var b bytes.Buffer
		if err := settlement.WriteCSV(&b, s, cityZone); err != nil {
			return Settled{}, fmt.Errorf("settle: %s: %w", s.Merchant, err)
		}
		out.CSV[s.Merchant] = b.String()
	}
	f, carried, err := settlement.Payout(req.Header, ss, req.Payees, cityZone)
	if err != nil {
		return Settled{}, fmt.Errorf("settle: %w", err)
	}
	out.Carried = carried
	if len(f.Transfers) > 0 {
		if out.Payout, err = zengin.Marshal(f, zengin.Options{CRLF: req.CRLF}); err != nil {
			return Settled{}, fmt.Errorf("settle: the payout file: %w", err)
		}
	}
	return out, a.Note("ledger.settle", req.From+".."+req.To,
		fmt.Sprintf("%d shops settled, %d transfers of ¥%d in all, %d carried", len(ss), len(f.Transfers), f.Total(), len(carried)))
}
