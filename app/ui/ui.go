// Package ui is the PWA's screens, as go-app components. It reads and
// writes only through the Sync interface, so the same screens run over the
// browser's IndexedDB and WebSocket (wired in wasm/) or over anything else
// that keeps an op log.
package ui

import (
	"context"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/offline"
	"smartpass.city/smartpass/app/projection"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/syncproto"
)

// Sync is the device's op log as the screens use it (a *synclog.Engine).
// The screens read its ops through the tab's projection, never whole.
type Sync interface {
	projection.Source
	DeviceID() string
	Record(ctx context.Context, kind string, body any) (syncproto.Op, error)
	Status() synclog.Status
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

// Browser is what the screens ask of the browser beyond drawing (wired
// in wasm/browser): the screens never call the browser for it themselves.
type Browser interface {
	// Save hands data, of MIME type mime, to the browser to save as a
	// file named name, and returns a URL the page links for a second
	// try; old, the URL Save returned before for the same file ("" for
	// none), is released.
	Save(name, mime string, data []byte, old string) (url string, err error)
	// Print opens the browser's print dialog.
	Print()
	// FullScreen enters full screen (on a person's tap) or leaves it.
	FullScreen(on bool)
}

// Register routes every page of the PWA to its component, all over s, d,
// the card reader r, the server's card check c, the resident's account
// a, the city desk's registration k, the camera and face model f, the
// admin API m, what the service worker holds for offline use o, and the
// browser's file saving, printing and full screen b, and the hospital
// visit's endpoints v.
//
// The tab folds the log once, into one projection every page reads:
// a page opened or an op recorded costs no read of the whole log.
func Register(s Sync, d Device, r Reader, c CardChecker, a Accounts, k Desk, f Faces, m AdminAPI, o Offline, b Browser, v VisitAPI) {
	folded := projection.New(context.Background(), s)
	l := func() live { return live{sync: s, folded: folded, dev: d, off: o, browser: b} }
	app.Route(route.Card, func() app.Composer { return newCardCheckPage(l(), r, c) })
	app.Route(route.Desk, func() app.Composer { return newDeskPage(l(), r, c, k, f) })
	app.Route(route.Account, func() app.Composer { return newAccountPage(l(), r, c, a) })
	app.Route(route.Home, func() app.Composer { return &homePage{live: l()} })
	app.Route(route.Setup, func() app.Composer { return &setupPage{live: l(), faces: f} })
	app.Route(route.Shelter, func() app.Composer { return &shelterPage{live: l()} })
	app.Route(route.HQ, func() app.Composer { return &hqPage{live: l()} })
	app.Route(route.Queue, func() app.Composer { return &queuePage{live: l()} })
	app.Route(route.FaceRegister, func() app.Composer { return &faceRegisterPage{live: l(), faces: f} })
	app.Route(route.AccountFace, func() app.Composer { return &faceRegisterPage{live: l(), faces: f, own: true, accounts: a} })
	app.Route(route.Identify, func() app.Composer {
		return &identifyPage{live: l(), faces: f, till: till{reader: r, checker: c}, visits: v}
	})
	app.Route(route.Vehicle, func() app.Composer { return &identifyPage{live: l(), faces: f} })
	app.Route(route.Admin, func() app.Composer { return &adminPage{live: l(), api: m} })
	app.Route(route.Donor, func() app.Composer { return newDonorPage(l(), r, c, donorAPI) })
	app.Route(route.AccountHospital, func() app.Composer { return &hospitalPage{live: l(), accounts: a, api: v} })
	app.Route(route.Reception, func() app.Composer { return &receptionDayPage{live: l(), api: v} })
}

// stateLang is the go-app state holding the UI language, persisted in the
// browser so a tablet keeps the language staff chose.
const stateLang = "lang"

// live is what every page shares: the folded state of the log (the
// tab's projection), the sync status, and the language, refreshed
// whenever the log changes.
type live struct {
	// page is the context the page was mounted with. Work that finishes
	// later reports back through it, never through an event's context:
	// go-app drops a Dispatch whose source element has been re-rendered
	// away (a form that moved down when a notice appeared above it), and
	// the page would then wait forever.
	page   app.Context
	sync   Sync
	folded *projection.Projection
	dev    Device
	enr    enroll.Enrollment
	isEnr  bool // the device is enrolled
	stop   func()
	lang   string
	status synclog.Status
	// ops and st are the projection's, as of gen: st changes in place
	// as ops come, so caches key on gen, never on st.
	ops   []syncproto.Op
	st    *state.State
	gen   uint64
	folds uint64 // the projection's folds of the whole log (View.Folds)
	kiosk kioskState
	// browser saves files, prints and goes full screen.
	browser Browser
	// off is the service worker's cache; offline its last status.
	off     Offline
	offline offline.Status
	stopOff func()
	// fresh, when set, is called on the UI goroutine each time st
	// changes.
	fresh func()
}

func (l *live) mount(ctx app.Context) {
	l.page = ctx
	l.loadKiosk(ctx)
	l.enr, l.isEnr = l.dev.Enrollment()
	ctx.ObserveState(stateLang, &l.lang).OnChange(func() { setDocumentLang(l.lang) })
	setDocumentLang(l.lang)
	l.stop = l.folded.Watch(func() {
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

// refresh takes the projection's state, with the ops recorded or
// received since applied, and the sync status. It runs on the UI
// goroutine: applying new ops costs each op's own work, and a fold of
// the whole log, when one is needed, runs apart and calls back.
func (l *live) refresh() {
	v, err := l.folded.Current()
	status := l.sync.Status()
	if err != nil {
		status.Err = err.Error()
	}
	l.status = status
	if v.State == nil || (v.Gen == l.gen && l.st != nil) {
		return
	}
	l.ops, l.st, l.gen, l.folds = v.Ops, v.State, v.Gen, v.Folds
	if l.fresh != nil {
		l.fresh()
	}
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
		msg = l.tr("setup.other", l.facilityName(l.enr.Facility), l.tr("role."+string(l.enr.Role)), l.tr("role."+role))
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
