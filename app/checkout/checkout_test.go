package checkout

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

var jst = time.FixedZone("JST", 9*3600)

// memStore is the Store as the browser keeps it: it outlives any
// Allowance or Payment made over it, as IndexedDB outlives a reload.
type memStore struct {
	m                  map[string][]byte
	failLoad, failSave bool
}

func newStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Load(key string) ([]byte, error) {
	if s.failLoad {
		return nil, errors.New("disk gone")
	}
	return s.m[key], nil
}

func (s *memStore) Save(key string, v []byte) error {
	if s.failSave {
		return errors.New("quota exceeded")
	}
	s.m[key] = append([]byte(nil), v...)
	return nil
}

// reload is a fresh terminal page over the same store.
func reload(s Store) Allowance { return Allowance{Store: s, Loc: jst} }

var noon = time.Date(2026, 4, 1, 12, 0, 0, 0, jst)

func limit(n int64) *int64 { return &n }

func taro() Payer {
	return Payer{Resident: "r-taro", Wallet: "w-taro", Name: "カガ タロウ", Balance: 10_000, Age: AgeFact{Adult: true}}
}

// pay runs a payment through its steps as far as they go: amount, face,
// tap, and the second factor when asked for.
func pay(t *testing.T, p *Payment, amount int64, items []Item, payer Payer, f *Factor) error {
	t.Helper()
	var err error
	if items != nil {
		err = p.Picked(items)
	} else {
		err = p.Keyed(amount)
	}
	if err != nil {
		return err
	}
	if err := p.Face(payer, true, noon); err != nil {
		return err
	}
	if err := p.Tap(noon); err != nil || p.Step == Done {
		return err
	}
	if f == nil {
		return nil
	}
	return p.SecondFactor(*f, noon)
}

func TestPayment(t *testing.T) {
	card := &Factor{Kind: "card", Resident: "r-taro", Verified: true}
	beer := []Item{{Name: "地ビール", Price: 600, Quantity: 2, AgeRestricted: true}, {Name: "せんべい", Price: 300, Quantity: 1}}
	minor := taro()
	minor.Age = AgeFact{From: "2026-04-02"}
	child := taro()
	child.Guardian, child.SpentToday = &Guardian{PerPayment: 1000, Daily: 2500}, 1200
	tests := []struct {
		name    string
		offline bool
		amount  int64
		items   []Item
		payer   func(*Payer)
		factor  *Factor
		step    Step
		reason  Reason
		second  string
	}{
		{"¥800 by face", false, 800, nil, nil, nil, Done, "", ""},
		{"¥3,000 at the default limit: face", false, 3000, nil, nil, nil, Done, "", ""},
		{"¥3,001 waits for a second factor", false, 3001, nil, nil, nil, Second, "", ""},
		{"¥5,000 with card and PIN", false, 5000, nil, nil, card, Done, "", "card"},
		{"¥5,000 with the QR pass", false, 5000, nil, nil, &Factor{Kind: "pass", Resident: "r-taro", Verified: true}, Done, "", "pass"},
		{"wrong PIN: one more try", false, 5000, nil, nil, &Factor{Kind: "card", Resident: "r-taro"}, Second, "", ""},
		{"someone else's card", false, 5000, nil, nil, &Factor{Kind: "card", Resident: "r-hanako", Verified: true}, Second, "", ""},
		{"own limit ¥1,000", false, 1500, nil, func(p *Payer) { p.FaceOnly = limit(1000) }, nil, Second, "", ""},
		{"own limit 0: always a second factor", false, 100, nil, func(p *Payer) { p.FaceOnly = limit(0) }, nil, Second, "", ""},
		{"own limit ¥50,000 capped by the city", false, 10_001, nil, func(p *Payer) { p.FaceOnly, p.Balance = limit(50_000), 20_000 }, nil, Second, "", ""},
		{"own limit ¥8,000", false, 8000, nil, func(p *Payer) { p.FaceOnly = limit(8000) }, nil, Done, "", ""},
		{"wallet short", false, 10_001, nil, nil, card, Refused, Short, ""},
		{"frozen", false, 100, nil, func(p *Payer) { p.Frozen = true }, nil, Refused, Frozen, ""},
		{"beer to an adult", false, 0, beer, nil, nil, Done, "", ""},
		{"beer to someone 20 tomorrow", false, 0, beer, func(p *Payer) { *p = minor }, nil, Refused, AgeRestricted, ""},
		{"snacks to someone 20 tomorrow", false, 0, beer[1:], func(p *Payer) { *p = minor }, nil, Done, "", ""},
		{"beer, age unknown", false, 0, beer, func(p *Payer) { p.Age = AgeFact{} }, nil, Refused, AgeRestricted, ""},
		{"child within limits", false, 1000, nil, func(p *Payer) { *p = child }, nil, Done, "", ""},
		{"child over per payment", false, 1001, nil, func(p *Payer) { *p = child }, nil, Refused, OverPerPayment, ""},
		{"child over the day", false, 900, nil, func(p *Payer) { *p = child; p.SpentToday = 1700 }, nil, Refused, OverDaily, ""},
		{"offline ¥800", true, 800, nil, nil, nil, Done, "", ""},
		{"offline ¥3,001: past the cap", true, 3001, nil, func(p *Payer) { p.FaceOnly = limit(5000) }, nil, Refused, OverOffline, ""},
		{"offline, balance ¥500 at sync", true, 800, nil, func(p *Payer) { p.Balance = 500 }, nil, Refused, OverOffline, ""},
		{"offline with recorded debt", true, 100, nil, func(p *Payer) { p.Debt = true }, nil, Refused, OfflineBlocked, ""},
		{"online with recorded debt", false, 100, nil, func(p *Payer) { p.Debt = true }, nil, Done, "", ""},
		{"offline frozen", true, 100, nil, func(p *Payer) { p.Frozen = true }, nil, Refused, Frozen, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payer := taro()
			if tt.payer != nil {
				tt.payer(&payer)
			}
			p := Start(Policy{}, tt.offline, reload(newStore()))
			err := pay(t, p, tt.amount, tt.items, payer, tt.factor)
			if p.Step != tt.step {
				t.Fatalf("step %d (%v), want %d", p.Step, err, tt.step)
			}
			if tt.reason != "" {
				var r *Refusal
				if !errors.As(err, &r) || r.Reason != tt.reason || p.Refusal.Reason != tt.reason {
					t.Fatalf("err = %v, want %s", err, tt.reason)
				}
				if ja, en := r.Words(); ja == "" || en == "" {
					t.Fatalf("no words for %s", tt.reason)
				}
			}
			if tt.step == Done {
				want := tt.amount
				if tt.items != nil {
					want = 0
					for _, it := range tt.items {
						want += it.Price * int64(it.Quantity)
					}
				}
				if p.Receipt.Amount != want || p.Receipt.Wallet != payer.Wallet || p.Receipt.Offline != tt.offline || p.Receipt.Second != tt.second {
					t.Fatalf("receipt %+v", p.Receipt)
				}
			}
			if p.Masked() != "カ＊ タ＊＊ 様" {
				t.Fatalf("masked %q", p.Masked())
			}
		})
	}
}

// TestSecondFactorTries: a second refused factor ends the payment.
func TestSecondFactorTries(t *testing.T) {
	p := Start(Policy{}, false, reload(newStore()))
	bad := Factor{Kind: "card", Resident: "r-taro"}
	if err := pay(t, p, 5000, nil, taro(), &bad); p.Step != Second || err == nil {
		t.Fatalf("first wrong PIN: step %d, %v", p.Step, err)
	}
	if err := p.SecondFactor(bad, noon); p.Step != Refused || p.Refusal.Reason != SecondRefused || err == nil {
		t.Fatalf("second wrong PIN: step %d, %v", p.Step, err)
	}
	if err := p.SecondFactor(Factor{Kind: "card", Resident: "r-taro", Verified: true}, noon); !errors.Is(err, ErrStep) {
		t.Fatalf("a factor after the refusal: %v", err)
	}
}

// TestSteps: each method only at its step; the retryable refusals keep
// the payment where it was.
func TestSteps(t *testing.T) {
	p := Start(Policy{}, false, reload(newStore()))
	if err := p.Tap(noon); !errors.Is(err, ErrStep) {
		t.Fatalf("tap before anything: %v", err)
	}
	if err := p.Face(taro(), true, noon); !errors.Is(err, ErrStep) {
		t.Fatalf("face before the amount: %v", err)
	}
	var r *Refusal
	if err := p.Keyed(0); !errors.As(err, &r) || r.Reason != BadAmount || p.Step != EnterAmount {
		t.Fatalf("amount 0: %v, step %d", err, p.Step)
	}
	if err := p.Picked([]Item{{Price: 100, Quantity: 0}}); !errors.As(err, &r) || p.Step != EnterAmount {
		t.Fatalf("quantity 0: %v, step %d", err, p.Step)
	}
	if err := p.Keyed(800); err != nil {
		t.Fatal(err)
	}
	if err := p.Face(Payer{}, false, noon); !errors.As(err, &r) || r.Reason != NotRecognised || p.Step != LookAtCamera {
		t.Fatalf("no match: %v, step %d", err, p.Step)
	}
	if err := p.SecondFactor(Factor{}, noon); !errors.Is(err, ErrStep) {
		t.Fatalf("a factor nobody asked for: %v", err)
	}
	if err := p.Face(taro(), true, noon); err != nil || p.Step != Confirm {
		t.Fatalf("face: %v, step %d", err, p.Step)
	}
	if err := p.Cancel(); p.Step != Refused || p.Refusal.Reason != Cancelled || err == nil {
		t.Fatalf("cancel: %v", err)
	}
	if err := p.Cancel(); !errors.Is(err, ErrStep) {
		t.Fatalf("cancel twice: %v", err)
	}
	q := Start(Policy{}, false, reload(newStore()))
	_ = q.Keyed(800)
	_ = q.Face(taro(), true, noon)
	if err := q.Fail(Frozen); q.Step != Refused || q.Refusal.Reason != Frozen || err == nil {
		t.Fatalf("the server's refusal: %v", err)
	}
}

// TestOfflineAcrossReloads: the allowance holds across reloads of the
// page, per payer and per day.
func TestOfflineAcrossReloads(t *testing.T) {
	store := newStore()
	hanako := Payer{Resident: "r-hanako", Wallet: "w-hanako", Name: "カガ ハナコ", Balance: 1200}
	steps := []struct {
		payer  Payer
		amount int64
		at     time.Time
		ok     bool
	}{
		{taro(), 2000, noon, true},
		{taro(), 1500, noon, false}, // 3,500 passes ¥3,000
		{taro(), 1000, noon, true},  // exactly ¥3,000
		{taro(), 1, noon, false},
		{hanako, 1000, noon, true}, // her own allowance: her balance, ¥1,200
		{hanako, 300, noon, false},
		{hanako, 200, noon, true},
		{taro(), 1, noon.Add(12 * time.Hour), true}, // midnight in Kaga: a new day
		{taro(), 3000, noon.Add(12 * time.Hour), false},
	}
	for i, s := range steps {
		p := Start(Policy{}, true, reload(store)) // every payment on a fresh page
		if err := p.Keyed(s.amount); err != nil {
			t.Fatal(err)
		}
		err := p.Face(s.payer, true, s.at)
		if err == nil {
			err = p.Tap(s.at)
		}
		if (p.Step == Done) != s.ok {
			t.Fatalf("step %d: %s pays ¥%d: step %d, %v; want ok %v", i, s.payer.Wallet, s.amount, p.Step, err, s.ok)
		}
		if !s.ok && p.Refusal.Reason != OverOffline {
			t.Fatalf("step %d: reason %s", i, p.Refusal.Reason)
		}
	}
}

// TestOfflineNeverExceeds: random offline payments by three payers, the
// page reloaded between every one and the day changing now and then:
// what each payer is let spend in a day never passes min(balance, cap).
func TestOfflineNeverExceeds(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 19))
	store := newStore()
	balances := map[string]int64{"a": 10_000, "b": 2_500, "c": 0}
	spent := map[string]int64{}
	day := noon
	for range 3000 {
		if rng.IntN(200) == 0 {
			day = day.AddDate(0, 0, 1)
		}
		w := []string{"a", "b", "c"}[rng.IntN(3)]
		amount := int64(1 + rng.IntN(1500))
		p := Start(Policy{}, true, reload(store))
		_ = p.Keyed(amount)
		if err := p.Face(Payer{Resident: w, Wallet: w, Balance: balances[w]}, true, day); err == nil {
			_ = p.Tap(day)
		}
		if p.Step == Done {
			key := w + day.Format(time.DateOnly)
			spent[key] += amount
			if spent[key] > Limit(balances[w], DefaultOfflineCap) {
				t.Fatalf("%s spent ¥%d on %s, over its allowance", w, spent[key], day.Format(time.DateOnly))
			}
		}
	}
	if len(spent) < 10 {
		t.Fatalf("payments on %d payer-days: the test proves little", len(spent))
	}
}

// TestOfflineStoreFails: a store that cannot load or save, or none at
// all, refuses the payment rather than let it past an allowance it
// cannot keep.
func TestOfflineStoreFails(t *testing.T) {
	for _, fail := range []string{"load", "save", "none"} {
		store := newStore()
		a := reload(store)
		if fail == "none" {
			a.Store = nil
		}
		p := Start(Policy{}, true, a)
		_ = p.Keyed(800)
		store.failLoad = fail == "load"
		store.failSave = fail == "save"
		err := p.Face(taro(), true, noon)
		if err == nil {
			err = p.Tap(noon)
		}
		if p.Step != Refused || p.Refusal.Reason != NotKept || !errors.Is(err, ErrStore) {
			t.Fatalf("%s fails: step %d, %v", fail, p.Step, err)
		}
	}
}

// figure is a sum of money or a date: ¥, 円, or two digits running.
var figure = regexp.MustCompile(`[¥円]|[0-9]{2}`)

// TestWords: every reason has words in both languages, none with a
// figure in it (no balance, age or date shown to the shop).
func TestWords(t *testing.T) {
	for _, r := range []Reason{Short, SecondRefused, Frozen, OverOffline, OfflineBlocked, OverPerPayment, OverDaily, AgeRestricted, NotRecognised, BadAmount, NotKept, Cancelled} {
		ja, en := (&Refusal{Reason: r}).Words()
		if ja == "" || en == "" || ja == en {
			t.Errorf("%s: %q / %q", r, ja, en)
		}
		if figure.MatchString(strings.ReplaceAll(ja+en, "20", "")) {
			t.Errorf("%s shows a figure: %q / %q", r, ja, en)
		}
	}
}
