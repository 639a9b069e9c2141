package ui

import (
	"errors"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/kiosk"
)

// kioskKey names the lock in the tablet's local storage: it outlives a
// reload, so a reload does not unlock the tablet.
const kioskKey = "smartpass.kiosk"

// kioskState is a page's view of the kiosk lock, and the staff's PIN
// prompt.
type kioskState struct {
	lock      *kiosk.Lock
	prompt    string // "", "set" or "open"
	pin, pin2 string
	err       string
}

// kioskGuard counts wrong PINs across the tab's pages.
var kioskGuard kiosk.Guard

// loadKiosk reads the lock, if the tablet is locked.
func (l *live) loadKiosk(ctx app.Context) {
	var lock kiosk.Lock
	if err := ctx.LocalStorage().Get(kioskKey, &lock); err == nil && len(lock.Hash) > 0 {
		l.kiosk.lock = &lock
	}
}

// kioskBar is the header's kiosk control: lock this tablet (staff set a
// PIN), or, when locked, the staff button that asks for it.
func (l *live) kioskBar() app.UI {
	k := &l.kiosk
	switch {
	case k.lock != nil:
		return app.Button().ID("kiosk-staff").Class("lang").Type("button").Text(l.tr("kiosk.staff")).
			OnClick(func(ctx app.Context, e app.Event) { k.prompt, k.pin, k.err = "open", "", "" })
	case l.isEnr:
		return app.Button().ID("kiosk-on").Class("lang").Type("button").Text(l.tr("kiosk.on")).
			OnClick(func(ctx app.Context, e app.Event) { k.prompt, k.pin, k.pin2, k.err = "set", "", "", "" })
	}
	return nil
}

// kioskPrompt asks staff for the PIN: twice to lock, once to unlock.
func (l *live) kioskPrompt() app.UI {
	k := &l.kiosk
	if k.prompt == "" {
		return nil
	}
	pinInput := func(id string, v *string) app.UI {
		return app.Input().ID(id).Type("password").Attr("inputmode", "numeric").Attr("maxlength", 8).AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { *v = ctx.JSSrc().Get("value").String() })
	}
	body := []app.UI{app.P().Text(l.tr("kiosk." + k.prompt + ".lead")), pinInput("kiosk-pin", &k.pin)}
	if k.prompt == "set" {
		body = append(body, app.Label().For("kiosk-pin2").Text(l.tr("kiosk.again")), pinInput("kiosk-pin2", &k.pin2))
	}
	body = append(body,
		app.Div().Class("actions").Body(
			app.Button().ID("kiosk-ok").Type("submit").Text(l.tr("kiosk."+k.prompt)),
			app.Button().ID("kiosk-cancel").Class("secondary").Type("button").Text(l.tr("action.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { k.prompt = "" }),
		),
		app.If(k.err != "", func() app.UI { return app.P().ID("kiosk-error").Class("error").Attr("role", "alert").Text(k.err) }),
	)
	return app.Form().ID("kiosk-prompt").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
		e.PreventDefault()
		if k.prompt == "set" {
			l.lockKiosk(ctx)
		} else {
			l.unlockKiosk(ctx)
		}
	}).Body(body...)
}

// lockKiosk sets the lock from the PIN typed twice and goes full screen.
func (l *live) lockKiosk(ctx app.Context) {
	k := &l.kiosk
	if k.pin != k.pin2 {
		k.err = l.tr("kiosk.err.differ")
		return
	}
	lock, err := kiosk.New(k.pin)
	if err != nil {
		k.err = l.tr("kiosk.err.pin")
		return
	}
	if err := ctx.LocalStorage().Set(kioskKey, lock); err != nil {
		k.err = l.tr("err.save")
		return
	}
	k.lock, k.prompt, k.pin, k.pin2 = &lock, "", "", ""
	// Full screen needs the staff's tap, which this is; a browser that
	// refuses keeps the page locked without it.
	l.browser.FullScreen(true)
}

// unlockKiosk opens the lock with the PIN, or says why not.
func (l *live) unlockKiosk(ctx app.Context) {
	k := &l.kiosk
	err := kioskGuard.Try(*k.lock, k.pin, time.Now())
	k.pin = ""
	switch {
	case errors.Is(err, kiosk.ErrLocked):
		k.err = l.tr("kiosk.err.locked")
		return
	case err != nil:
		k.err = l.tr("kiosk.err.wrong")
		return
	}
	ctx.LocalStorage().Del(kioskKey)
	k.lock, k.prompt, k.err = nil, "", ""
	l.browser.FullScreen(false)
}
