// Package ui is the PWA's screens, as go-app components. It reads and
// writes only through the Sync interface, so the same screens run over the
// browser's IndexedDB and WebSocket (wired in wasm/) or over anything else
// that keeps an op log.
package ui

import (
	"context"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/offline"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/syncproto"
)

// Sync is the device's op log as the screens use it (a *synclog.Engine).
type Sync interface {
	DeviceID() string
	Record(ctx context.Context, kind string, body any) (syncproto.Op, error)
	Ops(ctx context.Context) ([]syncproto.Op, error)
	Status() synclog.Status
	Watch(fn func()) (stop func())
}

// Device is the tablet's enrollment as the screens use it.
type Device interface {
	// Enrollment returns what the device is enrolled as; ok is false for
	// a device not set up yet.
	Enrollment() (e enroll.Enrollment, ok bool)
	// Enroll sets the device up with an admin's one-time code.
	Enroll(ctx context.Context, code string) (enroll.Enrollment, error)
	// DemoCodes lists the codes a demo server offers (an error elsewhere).
	DemoCodes(ctx context.Context) ([]syncproto.DemoCode, error)
}

// Register routes every page of the PWA to its component, all over s, d,
// the card reader r, the server's card check c, the resident's account
// a, the city desk's registration k, the camera and face model f, the
// admin API m, and what the service worker holds for offline use o.
func Register(s Sync, d Device, r Reader, c CardChecker, a Accounts, k Desk, f Faces, m AdminAPI, o Offline) {
	l := func() live { return live{sync: s, dev: d, off: o} }
	app.Route(route.Card, func() app.Composer { return &cardPage{live: l(), reader: r, checker: c, key: card.AuthKey} })
	app.Route(route.Desk, func() app.Composer {
		return &cardPage{live: l(), reader: r, checker: c, desk: k, key: card.AuthKey, family: true}
	})
	app.Route(route.Account, func() app.Composer {
		return &cardPage{live: l(), reader: r, checker: c, accounts: a, key: card.SignKey}
	})
	app.Route(route.Home, func() app.Composer { return &homePage{live: l()} })
	app.Route(route.Setup, func() app.Composer { return &setupPage{live: l(), faces: f} })
	app.Route(route.Shelter, func() app.Composer { return &shelterPage{live: l()} })
	app.Route(route.HQ, func() app.Composer { return &hqPage{live: l()} })
	app.Route(route.Queue, func() app.Composer { return &queuePage{live: l()} })
	app.Route(route.FaceRegister, func() app.Composer { return &faceRegisterPage{live: l(), faces: f} })
	app.Route(route.AccountFace, func() app.Composer { return &faceRegisterPage{live: l(), faces: f, own: true, accounts: a} })
	app.Route(route.Identify, func() app.Composer { return &identifyPage{live: l(), faces: f} })
	app.Route(route.Admin, func() app.Composer { return &adminPage{live: l(), api: m} })
}

// stateLang is the go-app state holding the UI language, persisted in the
// browser so a tablet keeps the language staff chose.
const stateLang = "lang"

// live is what every page shares: the folded state of the log, the sync
// status, and the language, refreshed whenever the log changes.
type live struct {
	// page is the context the page was mounted with. Work that finishes
	// later reports back through it, never through an event's context:
	// go-app drops a Dispatch whose source element has been re-rendered
	// away (a form that moved down when a notice appeared above it), and
	// the page would then wait forever.
	page   app.Context
	sync   Sync
	dev    Device
	enr    enroll.Enrollment
	isEnr  bool // the device is enrolled
	stop   func()
	busy   bool // a refresh is running
	dirty  bool // the log changed during it
	lang   string
	status synclog.Status
	ops    []syncproto.Op
	st     *state.State
	kiosk  kioskState
	// off is the service worker's cache; offline its last status.
	off     Offline
	offline offline.Status
	stopOff func()
	// fresh, when set, is called on the UI goroutine each time st is
	// folded anew.
	fresh func()
}

func (l *live) mount(ctx app.Context) {
	l.page = ctx
	l.loadKiosk(ctx)
	l.enr, l.isEnr = l.dev.Enrollment()
	ctx.ObserveState(stateLang, &l.lang).OnChange(func() { setDocumentLang(l.lang) })
	setDocumentLang(l.lang)
	l.stop = l.sync.Watch(func() {
		ctx.Dispatch(func(app.Context) { l.refresh() })
	})
	if l.off != nil {
		l.offline = l.off.Status()
		l.stopOff = l.off.Watch(func() {
			ctx.Dispatch(func(app.Context) { l.offline = l.off.Status() })
		})
	}
	l.refresh()
}

// later runs work off the UI goroutine, then the function it returns on
// the UI goroutine, with the page re-rendered after.
func (l *live) later(work func() func()) {
	l.page.Async(func() {
		apply := work()
		l.page.Dispatch(func(app.Context) { apply() })
	})
}

// keep records an op of kind for each body in the device's log, in
// order, off the UI goroutine; done, when set, is told on the UI
// goroutine whether all were kept. A failure also shows in the status
// bar's title: nothing a screen records fails silently.
func (l *live) keep(kind string, bodies []any, done func(error)) {
	l.later(func() func() {
		var err error
		for _, b := range bodies {
			if _, err = l.sync.Record(l.page, kind, b); err != nil {
				break
			}
		}
		return func() {
			if err != nil {
				app.Log("record "+kind+":", err)
				l.status.Err = err.Error()
			}
			if done != nil {
				done(err)
			}
		}
	})
}

func (l *live) dismount() {
	if l.stop != nil {
		l.stop()
	}
	if l.stopOff != nil {
		l.stopOff()
	}
}

// refresh re-reads the log off the UI goroutine and folds it. Changes that
// arrive meanwhile coalesce into one more refresh, so a burst of synced ops
// costs two folds, not one per op.
func (l *live) refresh() {
	if l.busy {
		l.dirty = true
		return
	}
	l.busy = true
	l.later(func() func() {
		ops, err := l.sync.Ops(l.page)
		var st *state.State
		if err == nil {
			st = state.Fold(ops)
		}
		status := l.sync.Status()
		return func() {
			l.busy = false
			if err == nil {
				l.ops, l.st = ops, st
				if l.fresh != nil {
					l.fresh()
				}
			} else {
				status.Err = err.Error()
			}
			l.status = status
			if l.dirty {
				l.dirty = false
				l.refresh()
			}
		}
	})
}

// unsent returns the ids of records whose creating op the server has not
// stored yet.
func (l *live) unsent() map[string]bool {
	out := make(map[string]bool)
	for _, op := range l.ops {
		if op.Global == 0 {
			out[state.RecordID(op)] = true
		}
	}
	return out
}

func (l *live) tr(key string, args ...any) string { return tr(l.lang, key, args...) }

func setDocumentLang(lang string) {
	if !app.IsClient {
		return
	}
	if lang == "" {
		lang = langJA
	}
	app.Window().Get("document").Get("documentElement").Call("setAttribute", "lang", lang)
}

// frame wraps a page: the bar with the home link, the sync status and the
// language switch, then the page's content.
func (l *live) frame(content ...app.UI) app.UI {
	var title app.UI = app.A().Class("title").Href(route.Home).Text(l.tr("app.name"))
	if l.kiosk.lock != nil {
		// Locked: no way off this screen but the staff's PIN.
		title = app.Span().ID("kiosk-locked").Class("title").Text(l.tr("app.name"))
	}
	return app.Div().Body(
		app.Header().Class("bar").Body(
			title,
			l.statusPill(),
			l.offlinePill(),
			l.kioskBar(),
			app.Button().ID("lang").Class("lang").Text(l.tr("lang.switch")).OnClick(func(ctx app.Context, e app.Event) {
				next := langEN
				if l.lang == langEN {
					next = langJA
				}
				ctx.SetState(stateLang, next).Persist()
			}),
		),
		app.If(l.needsSetup(), func() app.UI {
			return app.P().ID("setup-needed").Class("banner").Attr("role", "alert").Body(
				app.Text(l.tr("setup.needed."+l.status.Refused)+" "),
				app.A().Href(route.Setup).Text(l.tr("setup.go")),
			)
		}),
		l.kioskPrompt(),
		app.Main().Body(content...),
	)
}

// needsSetup reports whether the server refused this device as unknown or
// revoked: staff must set it up again, and the banner says how.
func (l *live) needsSetup() bool {
	return l.status.Refused == syncproto.CodeRevoked || l.status.Refused == syncproto.CodeUnknownDevice
}

// facilityName names the device's facility from the synced records, or by
// its id until they arrive.
func (l *live) facilityName(id string) string {
	if l.st != nil {
		if f, ok := l.st.Facilities[id]; ok {
			return f.Name(l.lang)
		}
	}
	return id
}

// wrongDevice is what a mode's page shows on a device enrolled for
// another one, or not at all.
func (l *live) wrongDevice(title, role string) app.UI {
	msg := l.tr("setup.none")
	if l.isEnr {
		msg = l.tr("setup.other", l.facilityName(l.enr.Facility), l.tr("role."+l.enr.Role), l.tr("role."+role))
	}
	return l.frame(
		app.H1().Text(title),
		app.P().ID("wrong-device").Class("notice").Text(msg),
		app.A().Class("button").Href(route.Setup).Text(l.tr("setup.go")),
	)
}

// statusPill shows online/offline and how many records wait to be sent:
// the one thing a volunteer must be able to trust at a glance.
func (l *live) statusPill() app.UI {
	s := l.status
	class, label := "online", l.tr("status.online")
	switch {
	case l.needsSetup():
		class, label = "offline", l.tr("status.setup")
	case !l.isEnr && s.Pending == 0:
		// A resident's own phone: it holds no facility's records, so
		// there is nothing to sync and nothing to alarm anyone about.
		class, label = "personal", l.tr("status.personal")
	case !s.Online && s.Pending > 0:
		class, label = "offline", l.tr("status.offline.n", s.Pending)
	case !s.Online:
		class, label = "offline", l.tr("status.offline")
	case s.Pending > 0:
		class, label = "pending", l.tr("status.sending", s.Pending)
	}
	return app.Div().ID("sync-status").Class("status "+class).
		Attr("role", "status").
		Attr("data-online", s.Online).
		Attr("data-pending", s.Pending).
		Title(s.Err).
		Body(app.Span().Class("dot"), app.Span().Text(label))
}

// RegisterUnavailable routes every page to a screen that says the device
// cannot keep records, and why. It is used when the browser refuses local
// storage (some private modes): working on without it would lose check-ins
// at the next reload, which is worse than saying so.
func RegisterUnavailable(reason error) {
	for _, p := range route.All() {
		app.Route(p, func() app.Composer { return &unavailablePage{reason: reason.Error()} })
	}
}

type unavailablePage struct {
	app.Compo
	reason string
}

func (p *unavailablePage) Render() app.UI {
	return app.Main().Body(
		app.H1().Text("この端末では記録を保存できません / This device cannot store records"),
		app.P().Class("notice").Text("ブラウザの保存領域（IndexedDB）が使えません。プライベートモードを解除するか、別のブラウザで開いてください。 / The browser's storage (IndexedDB) is not available. Leave private mode or use another browser."),
		app.P().Class("hint").Text(p.reason),
	)
}
