package ui

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/syncproto"
)

// AdminAPI is the server's admin API (package app/admin) as the admin
// screen uses it: post req to path, decode the answer into resp; a
// refusal is a *syncproto.Error.
type AdminAPI interface {
	Call(ctx context.Context, path string, req, resp any) error
}

// adminPage is the city staff's admin screen: they sign in with their
// staff account (not the device's enrollment: the screen works from any
// browser at the city office), then see what their role allows: the
// devices with their last sync, revoking one, a set-up code as text and
// QR for a new tablet, staff accounts, and the audit log. It needs the
// network: administration is not done from a shelter cut off.
type adminPage struct {
	app.Compo
	live
	api AdminAPI

	id, password string
	sess         *admin.Session
	ov           admin.Overview
	busy         bool
	errMsg       string

	// confirm is the device or staff account whose revocation waits for
	// a second press.
	confirm string
	// codeFac and codeRole are the set-up code form (codeRole "" or one
	// the facility does not take: its first, see role); code is the code
	// issued, with its QR code.
	codeFac, codeRole string
	code              *issuedCode
	// newStaff is the staff form; firstPassword the new account's, shown
	// once.
	newStaff      admin.Staff
	firstPassword string
	// fac is the facility form (a new one, or one picked to change).
	fac facility.Facility
	// subject filters the audit log; log is what it answered.
	subject string
	log     *admin.Audit
	// gift is the hometown-tax catalogue form (admingifts.go).
	gift giftForm
}

type issuedCode struct {
	admin.Code
	facility, role, png string
}

func (p *adminPage) OnMount(ctx app.Context) { p.mount(ctx) }
func (p *adminPage) OnDismount()             { p.dismount() }

// adminCall calls the endpoint ep of the admin API (admin.API, the
// definition the server routes) with req off the UI goroutine, then
// done with its answer on it.
func adminCall[Req, Resp any](p *adminPage, ep syncproto.Endpoint[Req, Resp], req Req, done func(Resp)) {
	var resp Resp
	p.call(ep.Path, req, &resp, func() { done(resp) })
}

// call runs an API call off the UI goroutine, then done on it; a refusal
// becomes the screen's error, and an ended session signs out.
func (p *adminPage) call(path string, req, resp any, done func()) {
	if p.busy {
		return
	}
	p.busy, p.errMsg = true, ""
	p.later(func() func() {
		err := p.api.Call(p.page, path, req, resp)
		return func() {
			p.busy = false
			if err != nil {
				app.Log("admin:", path, err)
				p.errMsg = p.adminError(err)
				var ef *syncproto.Error
				if errors.As(err, &ef) && ef.Code == admin.RefusedSession {
					p.signedOut()
				}
				return
			}
			done()
		}
	})
}

// adminError says what went wrong for the staff member.
func (p *adminPage) adminError(err error) string {
	var ef *syncproto.Error
	if !errors.As(err, &ef) {
		return p.tr("admin.err.network")
	}
	switch ef.Code {
	case admin.RefusedSignIn, admin.RefusedBusy, admin.RefusedSession, admin.RefusedForbidden:
		return p.tr("admin.err." + ef.Code)
	}
	return p.tr("admin.err.other", ef.Message)
}

func (p *adminPage) token() admin.Request { return admin.Request{Token: p.sess.Token} }

func (p *adminPage) signIn() {
	adminCall(p, admin.API.SignIn, admin.SignIn{ID: p.id, Password: p.password}, func(s admin.Session) {
		p.sess, p.password = &s, ""
		p.load()
	})
}

// load reads what the role may see: the overview, and the audit log for
// a role that reads it.
func (p *adminPage) load() {
	adminCall(p, admin.API.Overview, p.token(), func(ov admin.Overview) {
		p.ov = ov
		if p.sess.Staff.Role.May(admin.ReadAudit) && p.log == nil {
			p.readAudit()
		}
	})
}

func (p *adminPage) readAudit() {
	adminCall(p, admin.API.Audit, admin.AuditRequest{Request: p.token(), Subject: p.subject}, func(a admin.Audit) { p.log = &a })
}

func (p *adminPage) Render() app.UI {
	if p.sess == nil {
		return p.frame(app.H1().Text(p.tr("admin.title")), p.signInView())
	}
	s := p.sess.Staff
	return p.frame(
		app.H1().Text(p.tr("admin.title")),
		app.P().ID("signed-in").Class("notice").Attr("data-role", string(s.Role)).Body(
			app.Text(p.tr("admin.as", s.Name, p.tr("staffrole."+string(s.Role)))+" "),
			app.Button().ID("signout").Class("secondary").Type("button").Text(p.tr("admin.signout")).
				OnClick(func(app.Context, app.Event) {
					adminCall(p, admin.API.SignOut, p.token(), func(syncproto.None) { p.signedOut() })
				}),
		),
		p.errorView(),
		app.If(s.Role.May(admin.ManageFacilities), p.facilitiesView),
		app.If(s.Role.May(admin.ManageFacilities), p.giftsView),
		p.devicesView(),
		app.If(s.Role.May(admin.ManageDevices), p.codeView),
		app.If(s.Role.May(admin.ManageStaff), p.staffView),
		app.If(s.Role.May(admin.ReadAudit), p.auditView),
	)
}

// signedOut forgets everything the session showed.
func (p *adminPage) signedOut() {
	p.sess, p.ov, p.log, p.code, p.firstPassword, p.confirm, p.subject = nil, admin.Overview{}, nil, nil, "", "", ""
}

func (p *adminPage) errorView() app.UI {
	return app.If(p.errMsg != "", func() app.UI {
		return app.P().ID("admin-error").Class("error").Attr("role", "alert").Text(p.errMsg)
	})
}

func (p *adminPage) signInView() app.UI {
	return app.Form().ID("signin").Class("card").OnSubmit(func(ctx app.Context, e app.Event) {
		e.PreventDefault()
		p.signIn()
	}).Body(
		app.P().Text(p.tr("admin.lead")),
		app.Label().For("staff-id").Text(p.tr("admin.id")),
		app.Input().ID("staff-id").Type("text").Value(p.id).AutoComplete(true).Attr("autocomplete", "username").
			Attr("autocapitalize", "none").
			OnInput(func(ctx app.Context, e app.Event) { p.id = ctx.JSSrc().Get("value").String() }),
		app.Label().For("staff-password").Text(p.tr("admin.password")),
		app.Input().ID("staff-password").Type("password").Value(p.password).Attr("autocomplete", "current-password").
			OnInput(func(ctx app.Context, e app.Event) { p.password = ctx.JSSrc().Get("value").String() }),
		app.Div().Class("actions").Body(
			app.Button().ID("signin-button").Type("submit").Disabled(p.busy).Text(p.tr("admin.signin")),
		),
		p.errorView(),
	)
}

// when formats a time for the tables, "—" for never.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func (p *adminPage) devicesView() app.UI {
	manage := p.sess.Staff.Role.May(admin.ManageDevices)
	devs := p.ov.Devices
	return app.Section().ID("devices").Class("card").Body(
		app.H2().Text(p.tr("admin.devices")),
		app.Table().Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text(p.tr("admin.col.device")), app.Th().Text(p.tr("admin.col.facility")), app.Th().Text(p.tr("admin.col.role")),
				app.Th().Text(p.tr("admin.col.registered")), app.Th().Text(p.tr("admin.col.lastsync")), app.Th().Text(p.tr("admin.col.state")), app.Th(),
			)),
			app.TBody().Body(app.Range(devs).Slice(func(i int) app.UI {
				d := devs[i]
				state := p.tr("admin.active")
				if !d.Revoked.IsZero() {
					state = p.tr("admin.revoked", when(d.Revoked))
				}
				return app.Tr().Attr("data-device", d.ID).Attr("data-revoked", !d.Revoked.IsZero()).Attr("data-synced", !d.LastSync.IsZero()).Body(
					app.Td().Class("id").Text(d.ID), app.Td().Text(p.facName(d.Facility)), app.Td().Text(p.tr("role."+d.Role)),
					app.Td().Text(when(d.Registered)), app.Td().Text(when(d.LastSync)), app.Td().Text(state),
					app.Td().Body(app.If(manage && d.Revoked.IsZero(), func() app.UI {
						return p.revokeButton(d.ID, admin.API.Revoke)
					})),
				)
			})),
		),
	)
}

// revokeButton revokes a device or staff account (ep says which) on a
// second press: a mistaken tap on a busy screen costs nothing.
func (p *adminPage) revokeButton(id string, ep syncproto.Endpoint[admin.RevokeRequest, syncproto.None]) app.UI {
	if p.confirm != id {
		return app.Button().Class("secondary revoke").Type("button").Attr("data-id", id).Text(p.tr("admin.revoke")).
			OnClick(func(app.Context, app.Event) { p.confirm = id }, app.EventScope(id))
	}
	return app.Span().Body(
		app.Button().Class("danger confirm-revoke").Type("button").Attr("data-id", id).Text(p.tr("admin.revoke.sure")).
			OnClick(func(app.Context, app.Event) {
				adminCall(p, ep, admin.RevokeRequest{Request: p.token(), ID: id}, func(syncproto.None) {
					p.confirm = ""
					p.load()
				})
			}, app.EventScope(id)),
		app.Button().Class("secondary").Type("button").Text(p.tr("admin.cancel")).
			OnClick(func(app.Context, app.Event) { p.confirm = "" }, app.EventScope(id)),
	)
}

func (p *adminPage) facName(id string) string {
	if i := slices.IndexFunc(p.ov.Facilities, func(f facility.Facility) bool { return f.ID == id }); i >= 0 {
		return p.ov.Facilities[i].Name(p.lang)
	}
	return id
}

// facilityKinds are the kinds of facility, in the order the form offers
// them.
var facilityKinds = []facility.Kind{facility.Shelter, facility.Hospital, facility.PlayPark, facility.Shop, facility.HQ}

// facilitiesView lists the facilities and adds or changes one: the
// change reaches every device on the public feed.
func (p *adminPage) facilitiesView() app.UI {
	facs := p.ov.Facilities
	f := p.fac
	input := func(id, label, value string, set func(string)) app.UI {
		return app.Div().Body(
			app.Label().For(id).Text(label),
			app.Input().ID(id).Type("text").Value(value).AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { set(ctx.JSSrc().Get("value").String()) }),
		)
	}
	return app.Section().ID("facilities").Class("card").Body(
		app.H2().Text(p.tr("admin.facilities")),
		app.Table().Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text(p.tr("admin.col.facid")), app.Th().Text(p.tr("admin.col.kind")), app.Th().Text(p.tr("admin.col.facname")),
				app.Th().Text(p.tr("admin.col.capacity")), app.Th(),
			)),
			app.TBody().Body(app.Range(facs).Slice(func(i int) app.UI {
				x := facs[i]
				capacity := "—"
				if x.Capacity > 0 {
					capacity = p.tr("admin.people", x.Capacity)
				}
				return app.Tr().Attr("data-facility", x.ID).Attr("data-capacity", x.Capacity).Body(
					app.Td().Class("id").Text(x.ID), app.Td().Text(p.tr("kind."+string(x.Kind))),
					app.Td().Text(x.NameJA+" / "+x.NameEN), app.Td().Text(capacity),
					app.Td().Body(app.Button().Class("secondary edit-facility").Type("button").Attr("data-id", x.ID).Text(p.tr("admin.edit")).
						OnClick(func(app.Context, app.Event) { p.fac = x }, app.EventScope(x.ID))),
				)
			})),
		),
		app.Form().ID("facility-form").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			req := admin.FacilityRequest{Request: p.token(), Facility: p.fac}
			if req.Facility.Kind != facility.Shelter {
				req.Facility.Capacity = 0
			}
			adminCall(p, admin.API.Facility, req, func(facility.Facility) {
				p.fac = facility.Facility{}
				p.load()
			})
		}).Body(
			app.H3().Text(p.tr("admin.facility.add")),
			app.P().Class("hint").Text(p.tr("admin.facility.h")),
			input("fac-id", p.tr("admin.col.facid"), f.ID, func(v string) { p.fac.ID = v }),
			app.Label().For("fac-kind").Text(p.tr("admin.col.kind")),
			app.Select().ID("fac-kind").OnChange(func(ctx app.Context, e app.Event) {
				p.fac.Kind = facility.Kind(ctx.JSSrc().Get("value").String())
			}).Body(
				app.Option().Value("").Text(p.tr("admin.choose")).Selected(f.Kind == ""),
				app.Range(facilityKinds).Slice(func(i int) app.UI {
					k := facilityKinds[i]
					return app.Option().Value(string(k)).Text(p.tr("kind." + string(k))).Selected(f.Kind == k)
				}),
			),
			input("fac-name-ja", p.tr("admin.col.facname.ja"), f.NameJA, func(v string) { p.fac.NameJA = v }),
			input("fac-name-en", p.tr("admin.col.facname.en"), f.NameEN, func(v string) { p.fac.NameEN = v }),
			app.If(f.Kind == facility.Shelter, func() app.UI {
				return app.Div().Body(
					app.Label().For("fac-capacity").Text(p.tr("admin.col.capacity")),
					app.Input().ID("fac-capacity").Type("number").Attr("min", 0).Attr("inputmode", "numeric").Value(f.Capacity).
						OnInput(func(ctx app.Context, e app.Event) {
							// Not a whole number: -1, which the server
							// refuses in words.
							n, err := strconv.Atoi(cmp.Or(ctx.JSSrc().Get("value").String(), "0"))
							if err != nil {
								n = -1
							}
							p.fac.Capacity = n
						}),
				)
			}),
			app.Div().Class("actions").Body(
				app.Button().ID("save-facility").Type("submit").Disabled(p.busy || f.ID == "" || f.Kind == "" || f.NameJA == "").Text(p.tr("admin.facility.save")),
			),
		),
	)
}

// codeRoles are the device roles a facility's tablets may be set up as
// from the screen (the audit role is the server's own).
func (p *adminPage) codeRoles() []scope.Role {
	i := slices.IndexFunc(p.ov.Facilities, func(f facility.Facility) bool { return f.ID == p.codeFac })
	if i < 0 {
		return nil
	}
	return scope.ScreenRolesFor(p.ov.Facilities[i].Kind)
}

// role is the device role the code form stands at: the one chosen, or
// the facility's first.
func (p *adminPage) role(roles []scope.Role) string {
	if !slices.Contains(roles, scope.Role(p.codeRole)) && len(roles) > 0 {
		return string(roles[0])
	}
	return p.codeRole
}

func (p *adminPage) codeView() app.UI {
	roles := p.codeRoles()
	chosen := p.role(roles)
	facs := p.ov.Facilities
	return app.Section().ID("code").Class("card").Body(
		app.H2().Text(p.tr("admin.code")),
		app.P().Class("hint").Text(p.tr("admin.code.h")),
		app.Form().OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			fac, role := p.codeFac, p.role(p.codeRoles())
			adminCall(p, admin.API.Code, admin.CodeRequest{Request: p.token(), Facility: fac, Role: role}, func(c admin.Code) {
				png, _ := qrDataURL(app.Window().URL().Scheme+"://"+app.Window().URL().Host+route.Setup+"?code="+c.Code, 240)
				p.code = &issuedCode{Code: c, facility: fac, role: role, png: png}
				p.load()
			})
		}).Body(
			app.Label().For("code-facility").Text(p.tr("admin.col.facility")),
			app.Select().ID("code-facility").OnChange(func(ctx app.Context, e app.Event) {
				p.codeFac, p.codeRole = ctx.JSSrc().Get("value").String(), ""
			}).Body(
				app.Option().Value("").Text(p.tr("admin.choose")).Selected(p.codeFac == ""),
				app.Range(facs).Slice(func(i int) app.UI {
					return app.Option().Value(facs[i].ID).Text(facs[i].Name(p.lang)).Selected(p.codeFac == facs[i].ID)
				}),
			),
			app.Label().For("code-role").Text(p.tr("admin.col.role")),
			app.Select().ID("code-role").OnChange(func(ctx app.Context, e app.Event) {
				p.codeRole = ctx.JSSrc().Get("value").String()
			}).Body(app.Range(roles).Slice(func(i int) app.UI {
				return app.Option().Value(string(roles[i])).Text(p.tr("role." + string(roles[i]))).Selected(chosen == string(roles[i]))
			})),
			app.Div().Class("actions").Body(
				app.Button().ID("issue-code").Type("submit").Disabled(p.busy || p.codeFac == "").Text(p.tr("admin.code.issue")),
			),
		),
		app.If(p.code != nil, func() app.UI {
			c := p.code
			return app.Div().ID("issued").Class("notice").Attr("data-code", c.Code.Code).Body(
				app.P().Text(p.tr("admin.code.done", p.facName(c.facility), p.tr("role."+c.role), when(c.Expires))),
				app.P().ID("issued-code").Class("code big").Text(c.Code.Code),
				app.Img().ID("issued-qr").Src(c.png).Alt(p.tr("admin.code.qr")),
			)
		}),
	)
}

func (p *adminPage) staffView() app.UI {
	list := p.ov.Staff
	officer := p.newStaff.Role == admin.DeviceOfficer
	return app.Section().ID("staff").Class("card").Body(
		app.H2().Text(p.tr("admin.staff")),
		app.Table().Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text(p.tr("admin.id")), app.Th().Text(p.tr("admin.col.name")), app.Th().Text(p.tr("admin.col.staffrole")),
				app.Th().Text(p.tr("admin.col.facility")), app.Th().Text(p.tr("admin.col.state")), app.Th(),
			)),
			app.TBody().Body(app.Range(list).Slice(func(i int) app.UI {
				s := list[i]
				state := p.tr("admin.active")
				if !s.Revoked.IsZero() {
					state = p.tr("admin.revoked", when(s.Revoked))
				}
				fac := p.tr("admin.all")
				if s.Facility != "" {
					fac = p.facName(s.Facility)
				}
				return app.Tr().Attr("data-staff", s.ID).Attr("data-revoked", !s.Revoked.IsZero()).Body(
					app.Td().Text(s.ID), app.Td().Text(s.Name), app.Td().Text(p.tr("staffrole."+string(s.Role))),
					app.Td().Text(fac), app.Td().Text(state),
					app.Td().Body(app.If(s.Revoked.IsZero() && s.ID != p.sess.Staff.ID, func() app.UI {
						return p.revokeButton(s.ID, admin.API.StaffRevoke)
					})),
				)
			})),
		),
		app.Form().ID("staff-form").OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			req := admin.StaffRequest{Request: p.token(), Staff: p.newStaff}
			if req.Staff.Role != admin.DeviceOfficer {
				req.Staff.Facility = ""
			}
			adminCall(p, admin.API.StaffAdd, req, func(out admin.NewStaff) {
				p.firstPassword, p.newStaff = out.Password, admin.Staff{}
				p.load()
			})
		}).Body(
			app.H3().Text(p.tr("admin.staff.add")),
			app.Label().For("new-staff-id").Text(p.tr("admin.id")),
			app.Input().ID("new-staff-id").Type("text").Value(p.newStaff.ID).Attr("autocapitalize", "none").AutoComplete(false).
				OnInput(func(ctx app.Context, e app.Event) { p.newStaff.ID = ctx.JSSrc().Get("value").String() }),
			app.Label().For("new-staff-name").Text(p.tr("admin.col.name")),
			app.Input().ID("new-staff-name").Type("text").Value(p.newStaff.Name).Placeholder(p.tr("admin.name.h")).
				OnInput(func(ctx app.Context, e app.Event) { p.newStaff.Name = ctx.JSSrc().Get("value").String() }),
			app.Label().For("new-staff-role").Text(p.tr("admin.col.staffrole")),
			app.Select().ID("new-staff-role").OnChange(func(ctx app.Context, e app.Event) {
				p.newStaff.Role = admin.Role(ctx.JSSrc().Get("value").String())
			}).Body(
				app.Option().Value("").Text(p.tr("admin.choose")).Selected(p.newStaff.Role == ""),
				app.Range(admin.Roles()).Slice(func(i int) app.UI {
					r := admin.Roles()[i]
					return app.Option().Value(string(r)).Text(p.tr("staffrole." + string(r))).Selected(p.newStaff.Role == r)
				}),
			),
			app.If(officer, func() app.UI {
				facs := p.ov.Facilities
				return app.Div().Body(
					app.Label().For("new-staff-facility").Text(p.tr("admin.col.facility")),
					app.Select().ID("new-staff-facility").OnChange(func(ctx app.Context, e app.Event) {
						p.newStaff.Facility = ctx.JSSrc().Get("value").String()
					}).Body(
						app.Option().Value("").Text(p.tr("admin.all")).Selected(p.newStaff.Facility == ""),
						app.Range(facs).Slice(func(i int) app.UI {
							return app.Option().Value(facs[i].ID).Text(facs[i].Name(p.lang)).Selected(p.newStaff.Facility == facs[i].ID)
						}),
					),
				)
			}),
			app.Div().Class("actions").Body(
				app.Button().ID("add-staff").Type("submit").Disabled(p.busy || p.newStaff.Role == "").Text(p.tr("admin.staff.add")),
			),
		),
		app.If(p.firstPassword != "", func() app.UI {
			return app.Div().ID("new-password").Class("notice").Attr("data-password", p.firstPassword).Body(
				app.P().Text(p.tr("admin.password.once")),
				app.P().Class("code big").Text(p.firstPassword),
			)
		}),
	)
}

func (p *adminPage) auditView() app.UI {
	return app.Section().ID("audit").Class("card").Body(
		app.H2().Text(p.tr("admin.audit")),
		app.Form().OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.readAudit()
		}).Body(
			app.Label().For("audit-subject").Text(p.tr("admin.audit.subject")),
			app.Input().ID("audit-subject").Type("search").Value(p.subject).Placeholder(p.tr("admin.audit.subject.h")).
				OnInput(func(ctx app.Context, e app.Event) { p.subject = ctx.JSSrc().Get("value").String() }),
			app.Div().Class("actions").Body(
				app.Button().ID("audit-search").Type("submit").Disabled(p.busy).Text(p.tr("admin.audit.search")),
			),
		),
		app.If(p.log != nil, func() app.UI {
			entries := p.log.Entries
			return app.Div().Body(
				app.P().ID("audit-total").Attr("data-total", p.log.Total).Attr("data-shown", len(entries)).
					Text(p.tr("admin.audit.total", p.log.Total, len(entries))),
				app.Table().ID("audit-log").Body(
					app.THead().Body(app.Tr().Body(
						app.Th().Text("#"), app.Th().Text(p.tr("admin.col.time")), app.Th().Text(p.tr("admin.col.actor")),
						app.Th().Text(p.tr("admin.col.action")), app.Th().Text(p.tr("admin.col.subject")), app.Th().Text(p.tr("admin.col.detail")),
					)),
					app.TBody().Body(app.Range(entries).Slice(func(i int) app.UI {
						e := entries[len(entries)-1-i] // newest first
						return app.Tr().Attr("data-action", e.Action).Attr("data-actor", e.Actor).Attr("data-subject", e.Subject).Body(
							app.Td().Text(e.Seq), app.Td().Text(when(e.Time)), app.Td().Class("id").Text(e.Actor),
							app.Td().Text(e.Action), app.Td().Class("id").Text(e.Subject), app.Td().Class("id").Text(e.Detail),
						)
					})),
				),
			)
		}),
	)
}
