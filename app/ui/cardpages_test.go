package ui

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card/apdu"
	"smartpass.city/smartpass/app/card/cardtest"
	"smartpass.city/smartpass/app/card/sim"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/app/projection"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/syncproto"
)

// The card pages in go-app's test engine, which calls OnPreRender
// natively where a browser calls OnMount.
type (
	checkMounted struct{ *cardCheckPage }
	deskMounted  struct{ *deskPage }
	acctMounted  struct{ *accountPage }
)

func (m *checkMounted) OnPreRender(ctx app.Context) { m.OnMount(ctx) }
func (m *deskMounted) OnPreRender(ctx app.Context)  { m.OnMount(ctx) }
func (m *acctMounted) OnPreRender(ctx app.Context)  { m.OnMount(ctx) }

// liveAs is what a page shares on a device enrolled as e (Device "" for
// a resident's phone, enrolled as nothing), over an op log in memory.
func liveAs(t *testing.T, e enroll.Enrollment) live {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	log, err := synclog.New(t.Context(), synclog.NewMemStore("dev-1"), nil, synclog.Options{Signer: syncproto.KeySigner{Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	var d Device = enrolledAs(e)
	if e.Device == "" {
		d = phone{}
	}
	return live{sync: log, folded: projection.New(t.Context(), log), dev: d}
}

// phone is a resident's own phone: enrolled as nothing.
type phone struct{ enrolledAs }

func (phone) Enrollment() (enroll.Enrollment, bool) { return enroll.Enrollment{}, false }

// load mounts c in a test engine and waits for its first fold.
func load(t *testing.T, c app.Composer, l *live) app.TestEngine {
	t.Helper()
	e := app.NewTestEngine()
	if err := e.Load(c); err != nil {
		t.Fatal(err)
	}
	until(t, e, "the log folded", func() bool { return l.st != nil })
	return e
}

// press runs what a tap runs, as go-app runs an event's handler: on
// the UI goroutine, the page rendered again after.
func press(e app.TestEngine, l *live, tap func()) {
	l.page.Dispatch(func(app.Context) { tap() })
	e.ConsumeAll()
}

// cardOn is a reader with c on it.
type cardOn struct{ c *sim.Card }

func (r cardOn) Connect(context.Context) (apdu.Transceiver, error) { return r.c, nil }

// textOf is the text of the element with id in a page's HTML ("" for no
// such element), its children's text run together.
func textOf(html, id string) (string, bool) {
	i := strings.Index(html, `id="`+id+`"`)
	if i < 0 {
		return "", false
	}
	// The element's text runs to its closing tag; nested tags count.
	rest := html[i:]
	rest = rest[strings.Index(rest, ">")+1:]
	var out strings.Builder
	depth := 1
	for depth > 0 && rest != "" {
		lt := strings.Index(rest, "<")
		if lt < 0 {
			break
		}
		out.WriteString(strings.TrimSpace(rest[:lt]))
		gt := strings.Index(rest[lt:], ">") + lt
		tag := rest[lt : gt+1]
		switch {
		case strings.HasPrefix(tag, "</"):
			depth--
		case !strings.HasSuffix(tag, "/>") && !strings.HasPrefix(tag, "<input"):
			depth++
		}
		rest = rest[gt+1:]
	}
	return out.String(), true
}

// shows fails the test unless the page's element id holds want (or,
// with want "", is absent).
func shows(t *testing.T, c app.UI, id, want string) {
	t.Helper()
	got, ok := textOf(app.HTMLString(c), id)
	switch {
	case want == "" && ok:
		t.Errorf("#%s on screen: %q", id, got)
	case want != "" && !strings.Contains(got, want):
		t.Errorf("#%s = %q (present %v), want %q", id, got, ok, want)
	}
}

// checker is the server's card check over the test PKI: fresh nonces,
// and a real verification of certificate and signature.
type checker struct {
	t      *testing.T
	down   bool // the server cannot be reached
	nonces int
}

func (c *checker) CardNonce(context.Context) ([]byte, error) {
	if c.down {
		return nil, errors.New("dial tcp: connection refused")
	}
	c.nonces++
	return []byte("a nonce the server issued, 32 b."), nil
}

func (c *checker) CheckCard(_ context.Context, p syncproto.CardProof) (syncproto.CardResult, error) {
	cert, err := cardtest.Verifier(c.t, cardtest.PKI(c.t)).Certificate(p.Cert)
	if err != nil {
		return syncproto.CardResult{}, err
	}
	if err := jpki.Signature(cert, p.Nonce, p.Sig); err != nil {
		return syncproto.CardResult{}, &syncproto.Error{Code: "card_signature", Message: err.Error()}
	}
	return syncproto.CardResult{Serial: cert.SerialNumber.String()}, nil
}

// TestCardCheckPage: the card check on a reception terminal connects
// without using a try, says a wrong PIN with the tries left and sends
// nothing again by itself, refuses a PIN of the wrong form before the
// card sees it, and shows the card confirmed after the right PIN; a
// terminal with neither server nor anchors sends no PIN.
func TestCardCheckPage(t *testing.T) {
	l := liveAs(t, enroll.Enrollment{Device: "rx-1", Facility: "kaga-hospital", Role: scope.Reception})
	c := &checker{t: t}
	sc := cardtest.Card(t, cardtest.Taro)
	p := newCardCheckPage(l, cardOn{sc}, c)
	e := load(t, &checkMounted{p}, &p.live)
	shows(t, p, "connect", "カードリーダーにつなぐ")
	shows(t, p, "card-anchors", "")

	press(e, &p.live, p.connect)
	until(t, e, "connected", func() bool { return !p.busy })
	shows(t, p, "tries", "残り3回まで入力できます。")
	shows(t, p, "connect", "")

	p.card.PIN = "12"
	press(e, &p.live, p.verify)
	shows(t, p, "card-error", "暗証番号は数字4桁です。")
	if verifies := cardtest.Verifies(sc); verifies != 0 {
		t.Fatalf("%d PINs reached the card", verifies)
	}

	p.card.PIN = "9999"
	press(e, &p.live, p.verify)
	until(t, e, "the wrong PIN answered", func() bool { return !p.busy })
	shows(t, p, "card-error", "暗証番号が違います。")
	shows(t, p, "tries", "残り2回まで入力できます。")
	if p.card.PIN != "" || cardtest.Verifies(sc) != 1 {
		t.Fatalf("after a wrong PIN: field %q, %d PINs sent", p.card.PIN, cardtest.Verifies(sc))
	}

	p.card.PIN = cardtest.Taro.AuthPIN
	press(e, &p.live, p.verify)
	until(t, e, "the card checked", func() bool { return !p.busy })
	shows(t, p, "card-ok", "カードを確認しました")
	shows(t, p, "pin-form", "")
	shows(t, p, "card-error", "")
	if c.nonces != 2 {
		t.Errorf("%d nonces, want one per press", c.nonces)
	}

	// No server, no anchors: the PIN is not sent.
	sc2 := cardtest.Card(t, cardtest.Taro)
	q := newCardCheckPage(liveAs(t, enroll.Enrollment{Device: "rx-2", Facility: "kaga-hospital", Role: scope.Reception}), cardOn{sc2}, &checker{t: t, down: true})
	e = load(t, &checkMounted{q}, &q.live)
	press(e, &q.live, q.connect)
	until(t, e, "connected", func() bool { return !q.busy })
	q.card.PIN = cardtest.Taro.AuthPIN
	press(e, &q.live, q.verify)
	until(t, e, "answered", func() bool { return !q.busy })
	shows(t, q, "card-error", "サーバーにつながらないため")
	if n := cardtest.Verifies(sc2); n != 0 {
		t.Errorf("%d PINs sent with no way to check them", n)
	}
}

// desk is a city desk's registration that numbers residents.
type desk struct{ got []account.Supervised }

func (d *desk) EnrollAtDesk(_ context.Context, s account.Supervised) (account.Account, error) {
	d.got = append(d.got, s)
	return account.Account{ID: "R-000042", Facts: s.Facts}, nil
}

// TestDeskPage: the desk's registration is refused on another kind of
// device; at the desk it reads the card's four facts with its PIN, will
// not register without the staff member's name, registers with it, and
// a cancelled reading leaves the page ready for the next card.
func TestDeskPage(t *testing.T) {
	other := newDeskPage(liveAs(t, enroll.Enrollment{Device: "park-1", Facility: "kaga-playpark", Role: scope.PlayPark}), cardOn{}, &checker{t: t}, &desk{}, noCamera{})
	load(t, &deskMounted{other}, &other.live)
	shows(t, other, "wrong-device", "窓口")
	shows(t, other, "connect", "")

	d := &desk{}
	sc := cardtest.Card(t, cardtest.Taro)
	p := newDeskPage(liveAs(t, enroll.Enrollment{Device: "desk-1", Facility: "kaga-hq", Role: scope.Registrar}), cardOn{sc}, &checker{t: t}, d, noCamera{})
	e := load(t, &deskMounted{p}, &p.live)
	if !strings.Contains(app.HTMLString(p), `id="staff"`) {
		t.Fatal("no staff field at the desk")
	}
	read := func() {
		t.Helper()
		press(e, &p.live, p.connect)
		until(t, e, "connected", func() bool { return !p.busy })
		shows(t, p, "tries", "残り3回まで入力できます。")
		p.card.PIN = cardtest.Taro.AuthPIN
		press(e, &p.live, p.verify)
		until(t, e, "read", func() bool { return !p.busy })
		shows(t, p, "member-facts", "加賀\u3000太郎")
	}
	read()
	press(e, &p.live, p.next)
	shows(t, p, "member-facts", "")
	read() // the card-info application again, not the JPKI

	press(e, &p.live, p.enroll)
	shows(t, p, "card-error", "確認した職員の名前を入力してください。")
	if len(d.got) != 0 {
		t.Fatal("registered without a staff member named")
	}
	p.staff = "  市民課 山田 "
	press(e, &p.live, p.enroll)
	until(t, e, "registered", func() bool { return !p.busy })
	shows(t, p, "desk-ok", "R-000042")
	if len(d.got) != 1 || d.got[0].Staff != "市民課 山田" || d.got[0].Facts != cardtest.Taro.Facts {
		t.Fatalf("registered %+v", d.got)
	}
	shows(t, p, "staff", "")
}

// accounts is the server's account endpoints for one resident: the
// first opening refused as existing when exists.
type accounts struct {
	Accounts // the endpoints the account page does not reach here
	exists   bool
	opened   []account.Request
	recov    []account.Request
}

func (*accounts) AccountKey(context.Context) ([]byte, error) { return []byte("the device key"), nil }
func (*accounts) Holder(context.Context) (string, error)     { return "", nil }
func (a *accounts) OpenAccount(_ context.Context, r account.Request) (account.Account, error) {
	a.opened = append(a.opened, r)
	if a.exists {
		return account.Account{}, &syncproto.Error{Code: account.CodeExists}
	}
	return a.account(r), nil
}
func (a *accounts) RecoverAccount(_ context.Context, r account.Request) (account.Account, error) {
	a.recov = append(a.recov, r)
	return a.account(r), nil
}
func (*accounts) account(r account.Request) account.Account {
	acc := account.Account{ID: "R-000001", Facts: cardtest.Taro.Facts}
	if r.Link != nil {
		acc.Cards = []string{jpki.Fingerprint(r.Link.Cert)}
	}
	return acc
}

// TestAccountPage: a resident's phone opens the account with the
// signature password and links the card with the 4-digit PIN; a wrong
// 4-digit PIN costs its own tries, not the password's; an existing
// account turns the button into recovery, which the next press does.
func TestAccountPage(t *testing.T) {
	a := &accounts{exists: true}
	sc := cardtest.Card(t, cardtest.Taro)
	p := newAccountPage(liveAs(t, enroll.Enrollment{}), cardOn{sc}, &checker{t: t}, a)
	e := load(t, &acctMounted{p}, &p.live)
	press(e, &p.live, p.connect)
	until(t, e, "connected", func() bool { return !p.busy })
	shows(t, p, "tries", "残り5回まで入力できます。")
	shows(t, p, "auth-tries", "残り3回まで入力できます。")

	p.card.PIN, p.card.AuthPIN = cardtest.Taro.SignPassword, "9999"
	press(e, &p.live, p.verify)
	until(t, e, "the 4-digit PIN refused", func() bool { return !p.busy })
	shows(t, p, "card-error", "残り2回")
	shows(t, p, "tries", "残り5回まで入力できます。")
	shows(t, p, "auth-tries", "残り2回まで入力できます。")
	if len(a.opened) != 0 {
		t.Fatal("the account was asked for after the card link failed")
	}

	p.card.PIN, p.card.AuthPIN = cardtest.Taro.SignPassword, cardtest.Taro.AuthPIN
	press(e, &p.live, p.verify)
	until(t, e, "the account exists", func() bool { return !p.busy })
	shows(t, p, "card-error", "すでにあります")
	shows(t, p, "verify", "復元")

	p.card.PIN, p.card.AuthPIN = cardtest.Taro.SignPassword, cardtest.Taro.AuthPIN
	press(e, &p.live, p.verify)
	until(t, e, "recovered", func() bool { return !p.busy })
	shows(t, p, "account-ok", "この端末でアカウントを使えるようにしました（住民番号 R-000001）")
	shows(t, p, "card-linked", "施設の端末")
	if len(a.opened) != 1 || len(a.recov) != 1 || a.recov[0].Link == nil || string(a.recov[0].Key) != "the device key" {
		t.Fatalf("opened %d, recovered %+v", len(a.opened), a.recov)
	}
	if !strings.Contains(app.HTMLString(p), `data-id="R-000001"`) {
		t.Error("the account's number is not on the page")
	}
}
