package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"smartpass.city/smartpass/server/commands"
)

// settleArgs are `server settle`'s flags: the period, the city's payout
// file (the transfer header and each shop's bank account, from the
// city's finance records) and where the files go.
type settleArgs struct {
	from, to, payout, out string
	crlf                  bool
}

func (s *settleArgs) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.from, "from", "", "the first day settled, YYYY-MM-DD (Japan time)")
	fs.StringVar(&s.to, "to", "", "the last day settled, YYYY-MM-DD")
	fs.StringVar(&s.payout, "payout", "", `JSON file: {"header": the transfer header (RequesterCode, RequesterName, Month, Day, From: the city's account: BankCode, BranchCode, Type "1" 普通, Number), "payees": {"SHOP-ID": {"Account": {...}, "Name": "ｶﾅ"}}}`)
	fs.StringVar(&s.out, "out", ".", "directory the settlement CSVs and the payout file are written to")
	fs.BoolVar(&s.crlf, "crlf", false, "end the payout file's records with CR LF, as most banks' upload screens take it")
}

// arg is the settle command's argument, from the flags and the file.
func (s *settleArgs) arg() (string, error) {
	if s.from == "" || s.to == "" || s.payout == "" {
		return "", errors.New("settle: give -from, -to and -payout FILE.json")
	}
	b, err := os.ReadFile(s.payout)
	if err != nil {
		return "", fmt.Errorf("settle: %w", err)
	}
	var req commands.Settle
	if err := json.Unmarshal(b, &req); err != nil {
		return "", fmt.Errorf("settle: %s: %w", s.payout, err)
	}
	req.From, req.To, req.CRLF = s.from, s.to, s.crlf
	return commands.Arg(req), nil
}

// write puts each shop's settlement and the payout file in the out
// directory, and says what it wrote.
func (s *settleArgs) write(w io.Writer, r *commands.Settled) error {
	if r == nil {
		return errors.New("settle: the server sent no settlement")
	}
	if err := os.MkdirAll(s.out, 0o700); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	put := func(name string, b []byte) error {
		path := filepath.Join(s.out, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return fmt.Errorf("settle: %w", err)
		}
		fmt.Fprintln(w, path)
		return nil
	}
	for shop, csv := range r.CSV {
		if err := put(fmt.Sprintf("settlement-%s-%s-%s.csv", shop, s.from, s.to), []byte(csv)); err != nil {
			return err
		}
	}
	for _, c := range r.Carried {
		fmt.Fprintf(w, "%s is owed nothing this period (¥%d): carried to the next\n", c.Merchant, c.Net)
	}
	if len(r.Payout) == 0 {
		fmt.Fprintln(w, "no shop is owed money: no payout file")
		return nil
	}
	return put(fmt.Sprintf("payout-%s-%s.txt", s.from, s.to), r.Payout)
}
