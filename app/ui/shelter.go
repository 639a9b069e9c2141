package ui

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/state"
)

// shelterPage is the volunteer's screen: check people in by hand at the
// shelter this tablet is enrolled for, and see who is here. It works the
// same with or without a network.
type shelterPage struct {
	app.Compo
	live

	name     string
	kana     string
	birth    string
	sex      string
	area     string
	fieldErr map[string]string
	msg      string
	// household is shared by the people checked in together: set by
	// "check in, same household next", kept until a plain check-in.
	household string
	// inflight holds the records being saved (by inflightKey): a second
	// press with the same entry is a double tap and is ignored; any other
	// entry is saved too.
	inflight map[string]bool
	// detail is the record whose details are open; draft holds them as
	// edited, saved together.
	detail string
	draft  shelter.Evacuee
	// filter shows only the records in one state ("" for all).
	filter string
	// dup is the record the entry in the form seems to be a second check-in
	// of: the volunteer decides (same person, or another with the same
	// reading and year); dupMore is the household choice of that entry;
	// dupOK lets the entry through once.
	dup     *shelter.Evacuee
	dupMore bool
	dupOK   bool
	// editing is the record being corrected, "" when the form adds.
	editing string
	// csv is the last roster export.
	csv rosterFile
	// slip is the spare QR slip on screen, to print.
	slip *spareSlip
}

func (p *shelterPage) OnMount(ctx app.Context) { p.mount(ctx) }

func (p *shelterPage) OnDismount() { p.dismount() }

// current returns the tablet's shelter, once the facility records have
// synced.
func (p *shelterPage) current() (facility.Facility, bool) {
	if p.st == nil || !p.isEnr {
		return facility.Facility{}, false
	}
	f, ok := p.st.Facilities[p.enr.Facility]
	return f, ok && f.Kind == facility.Shelter
}

func (p *shelterPage) Render() app.UI {
	if !p.isEnr || p.enr.Role != "shelter" {
		return p.wrongDevice(p.tr("shelter.title"), "shelter")
	}
	cur, ok := p.current()
	if !ok {
		return p.frame(
			app.H1().Text(p.tr("shelter.title")),
			app.P().Class("notice").Text(p.tr("shelter.none")),
		)
	}
	unsent := p.unsent()
	people := p.st.EvacueesAt(cur.ID)
	flags := conflictFlags(p.st)
	count := p.tr("list.title", len(people))
	if cur.Capacity > 0 {
		count = p.tr("list.capacity", len(people), cur.Capacity)
	}
	tally := countOf(people)
	shown := filtered(people, p.filter)
	return p.frame(
		app.H1().Text(p.tr("shelter.title")),
		app.P().ID("shelter-name").Class("place").Text(cur.Name(p.lang)),
		app.A().ID("shelter-identify").Class("button").Href(route.Identify).Text(p.tr("shelter.identify")),
		p.refused(),
		app.Form().ID("add-evacuee").Class("card").OnSubmit(p.submit).Body(
			app.If(p.editing == "", func() app.UI {
				return app.H2().Text(p.tr("shelter.add"))
			}).Else(func() app.UI {
				return app.H2().ID("editing").Text(p.tr("shelter.edit", p.st.Evacuees[p.editing].Kana))
			}),
			p.field("kana", p.tr("field.kana"), p.tr("field.kana.h"), p.kana, &p.kana),
			p.field("name", p.tr("field.name"), p.tr("field.name.h"), p.name, &p.name),
			p.field("birth", p.tr("field.birth"), p.tr("field.birth.h"), p.birth, &p.birth),
			app.If(p.editing == "", func() app.UI {
				return app.Div().Body(
					p.choice("sex", p.tr("field.sex"), shelter.FieldSex, []string{"", "1", "2", "9"}, p.sex, func(v string) { p.sex = v }),
					p.field("area", p.tr("field.area"), p.tr("field.area.h"), p.area, &p.area),
				)
			}),
			app.If(p.household != "" && p.editing == "", func() app.UI {
				return app.P().ID("household-open").Class("notice").Attr("data-household", p.household).Text(p.tr("household.open", p.householdSize(p.household)))
			}),
			app.Div().Class("actions").Body(
				app.If(p.editing == "", func() app.UI {
					return app.Div().Class("actions").Body(
						app.Button().ID("add").Type("submit").Text(p.tr("action.add")),
						app.Button().ID("add-household").Class("secondary").Type("button").Text(p.tr("action.add.household")).
							OnClick(func(ctx app.Context, e app.Event) { p.add(true) }),
					)
				}).Else(func() app.UI {
					return app.Div().Class("actions").Body(
						app.Button().ID("save-edit").Type("submit").Text(p.tr("action.edit")),
						app.Button().ID("cancel-edit").Class("secondary").Type("button").Text(p.tr("action.cancel")).
							OnClick(func(ctx app.Context, e app.Event) { p.stopEditing() }),
					)
				}),
			),
			app.If(p.dup != nil, func() app.UI { return p.dupView() }),
			app.If(p.msg != "", func() app.UI {
				return app.P().ID("form-message").Class("notice").Attr("role", "status").Text(p.msg)
			}),
		),
		app.H2().ID("count").Text(count),
		app.P().ID("tally").Class("tally").Attr("data-present", tally.present).Attr("data-out", tally.out).Attr("data-left", tally.left).
			Attr("data-elsewhere", tally.elsewhere).Attr("data-households", tally.households).Attr("data-congestion", shelter.Congestion(tally.present, cur.Capacity)).
			Text(p.tr("tally", tally.present, tally.out, tally.elsewhere, tally.left, tally.households)+"　"+
				p.tr("congestion."+strconv.Itoa(shelter.Congestion(tally.present, cur.Capacity)))),
		app.Div().Class("actions no-print").Body(
			p.choice("filter", p.tr("filter"), "filter", []string{"", "present", shelter.StatusOut, "elsewhere", shelter.StatusLeft, "needs"}, p.filter, func(v string) { p.filter = v }),
			app.Button().ID("export-csv").Class("secondary").Type("button").Text(p.tr("roster.csv")).
				OnClick(func(ctx app.Context, e app.Event) { p.exportCSV() }),
			app.Button().ID("print").Class("secondary").Type("button").Text(p.tr("roster.print")).
				OnClick(func(ctx app.Context, e app.Event) {
					if f, ok := p.current(); ok {
						p.printRoster(f.ID, filtered(p.st.EvacueesAt(f.ID), p.filter))
					}
				}),
			app.If(p.csv.url != "", func() app.UI {
				return app.A().ID("roster-download").Href(p.csv.url).Attr("download", p.csv.name).Text(p.tr("roster.download"))
			}),
		),
		app.If(len(people) == 0, func() app.UI {
			return app.P().Text(p.tr("list.empty"))
		}).Else(func() app.UI {
			return app.Table().ID("evacuees").Body(
				app.THead().Body(app.Tr().Body(
					app.Th().Text(p.tr("col.kana")),
					app.Th().Text(p.tr("col.name")),
					app.Th().Text(p.tr("col.birth")),
					app.Th().Text(p.tr("col.status")),
					app.Th().Text(p.tr("col.needs")),
					app.Th().Text(p.tr("col.sync")),
					app.Th().Class("no-print"),
				)),
				app.TBody().Body(app.Range(shown).Slice(func(i int) app.UI {
					e := shown[i]
					sync := p.tr("sync.done")
					if unsent[e.ID] {
						sync = p.tr("sync.pending")
					}
					return app.Tr().Attr("data-id", e.ID).Attr("data-household", e.Household).Attr("data-status", e.Status).Body(
						app.Td().Body(
							app.Text(e.Kana),
							app.If(flags[e.ID] != "", func() app.UI {
								return app.Span().Class("flag").Attr("data-conflict", flags[e.ID]).Text(p.tr("conflict.flag." + flags[e.ID]))
							}),
						),
						app.Td().Text(e.Name),
						app.Td().Text(e.BirthYear),
						app.Td().Class("status").Text(shelter.Label(p.lang, shelter.FieldStatus, e.Status)+statusNote(p.lang, e)),
						app.Td().Class("needs").Text(shelter.NeedsLabel(p.lang, e.Needs)),
						app.Td().Class("sync").Attr("data-unsent", unsent[e.ID]).Text(sync),
						app.Td().Class("no-print").Body(
							p.statusButtons(e),
							app.Button().Class("secondary small details").Type("button").Text(p.tr("action.details")).
								OnClick(func(ctx app.Context, ev app.Event) { p.openDetail(e.ID) }, app.EventScope(e.ID)),
							app.Button().Class("secondary small edit").Type("button").Text(p.tr("action.correct")).
								// go-app keeps a handler whose code is unchanged unless its
								// scope differs: the record id makes each row's its own.
								OnClick(func(ctx app.Context, ev app.Event) { p.startEditing(e) }, app.EventScope(e.ID)),
						),
					)
				})),
			)
		}),
		app.If(p.detail != "", func() app.UI { return p.detailView() }),
		app.If(p.slip != nil, func() app.UI { return p.slipView() }),
	)
}

// spareSlip is a printable QR slip for a person with no card and no
// phone (shelter.SlipText).
type spareSlip struct {
	record, who, png string
}

// showSlip draws the slip of a record.
func (p *shelterPage) showSlip(id string) {
	e := p.st.Evacuees[id]
	url, err := qrDataURL(shelter.SlipText(e.Shelter, id), 240)
	if err != nil {
		p.msg = p.tr("err.export")
		return
	}
	p.slip = &spareSlip{record: id, who: cmp.Or(e.Name, e.Kana) + "（" + strconv.Itoa(e.BirthYear) + "）", png: url}
}

// slipView is the slip, with its print button: printed, the page shows
// the slip only.
func (p *shelterPage) slipView() app.UI {
	return app.Section().ID("slip").Class("card slip").Attr("data-record", p.slip.record).Body(
		app.Img().ID("slip-qr").Src(p.slip.png).Alt(p.tr("slip.alt")),
		app.P().Class("slip-who").Text(p.slip.who),
		app.P().Text(p.tr("slip.lead", p.facilityName(p.enr.Facility))),
		app.Div().Class("actions no-print").Body(
			app.Button().ID("slip-print").Type("button").Text(p.tr("slip.print")).
				OnClick(func(ctx app.Context, e app.Event) {
					if e, ok := p.st.Evacuees[p.slip.record]; ok {
						p.printRoster(e.Shelter, []shelter.Evacuee{e})
					}
				}),
			app.Button().ID("slip-close").Class("secondary").Type("button").Text(p.tr("pass.close")).
				OnClick(func(ctx app.Context, e app.Event) { p.slip = nil }),
		),
	)
}

// statusNote adds where a present person is, or where they sleep when
// not in the shelter.
func statusNote(lang string, e shelter.Evacuee) string {
	switch {
	case e.Status == shelter.StatusLeft:
		return ""
	case e.Stay != "" && e.Stay != shelter.StayShelter:
		return "（" + shelter.Label(lang, shelter.FieldStay, e.Stay) + "）"
	case e.Location != "":
		return "（" + e.Location + "）"
	}
	return ""
}

// statusButtons change a person's status, or their household's all at
// once: a family goes out and comes back together. (One person's alone
// is changed in their details.)
func (p *shelterPage) statusButtons(e shelter.Evacuee) app.UI {
	var next []string
	switch e.Status {
	case "", shelter.StatusIn:
		next = []string{shelter.StatusOut, shelter.StatusLeft}
	case shelter.StatusOut:
		next = []string{shelter.StatusIn, shelter.StatusLeft}
	case shelter.StatusLeft:
		next = []string{shelter.StatusIn}
	}
	return app.Range(next).Slice(func(i int) app.UI {
		to := next[i]
		return app.Button().Class("small status-to").Attr("data-to", to).Type("button").Text(p.tr("status.to."+to)).
			OnClick(func(ctx app.Context, ev app.Event) { p.setStatus(e.ID, to) }, app.EventScope(e.ID+"/"+to))
	})
}

// setStatus records a status change for the person and, when they came
// as a household, for everyone of it who is in the same state.
func (p *shelterPage) setStatus(id, to string) {
	e, ok := p.st.Evacuees[id]
	if !ok {
		return
	}
	var edits []shelter.Edit
	for _, m := range p.st.EvacueesAt(e.Shelter) {
		if m.ID == id || (e.Household != "" && m.Household == e.Household && m.Status == e.Status) {
			edits = append(edits, shelter.Edit{Shelter: m.Shelter, Record: m.ID, Field: shelter.FieldStatus, Value: to, Prev: p.st.FieldSource(m.ID, shelter.FieldStatus)})
		}
	}
	p.recordEdits(edits, p.tr("status.done", e.Kana, shelter.Label(p.lang, shelter.FieldStatus, to), len(edits)))
}

// recordEdits records the edits, one op each, and says msg when all are
// kept.
func (p *shelterPage) recordEdits(edits []shelter.Edit, msg string) {
	bodies := make([]any, len(edits))
	for i, ed := range edits {
		if err := ed.Validate(time.Now().Year()); err != nil {
			// The server would refuse it: say so now, record nothing.
			p.msg = p.tr("err.save")
			return
		}
		bodies[i] = ed
	}
	p.keep(shelter.OpEvacueeEdit, bodies, func(err error) {
		p.msg = msg
		if err != nil {
			p.msg = p.tr("err.save")
		}
	})
}

// openDetail opens a person's details for editing.
func (p *shelterPage) openDetail(id string) {
	p.detail, p.draft = id, p.st.Evacuees[id]
	p.draft.Needs = slices.Clone(p.draft.Needs)
}

// detailFields are the fields the details panel edits.
var detailFields = []string{shelter.FieldStatus, shelter.FieldStay, shelter.FieldLocation, shelter.FieldNeeds, shelter.FieldAllergies, shelter.FieldMedication, shelter.FieldPets, shelter.FieldDisclose}

// detailView edits what the shelter knows of one person, and shows the
// history of their status.
func (p *shelterPage) detailView() app.UI {
	d := &p.draft
	text := func(field string, v *string) app.UI {
		return p.field("d-"+field, p.tr("field."+field), p.tr("field."+field+".h"), *v, v)
	}
	history := p.st.History(p.detail, shelter.FieldStatus)
	return app.Section().ID("detail").Class("card").Attr("data-id", p.detail).Body(
		app.H2().Text(p.tr("detail.title", d.Kana)),
		p.choice("d-status", p.tr("col.status"), shelter.FieldStatus, []string{shelter.StatusIn, shelter.StatusOut, shelter.StatusLeft},
			cmp.Or(d.Status, shelter.StatusIn), func(v string) { d.Status = v }),
		p.choice("d-stay", p.tr("field.stay"), shelter.FieldStay, []string{shelter.StayShelter, shelter.StayHome, shelter.StayCar, shelter.StayTent},
			cmp.Or(d.Stay, shelter.StayShelter), func(v string) { d.Stay = v }),
		text(shelter.FieldLocation, &d.Location),
		app.FieldSet().Class("needs").Body(
			app.Legend().Text(p.tr("field.needs")),
			app.Range(shelter.Needs).Slice(func(i int) app.UI {
				n := shelter.Needs[i]
				return app.Label().Class("check").Body(
					app.Input().Type("checkbox").ID("need-"+n).Checked(slices.Contains(d.Needs, n)).
						OnChange(func(ctx app.Context, e app.Event) {
							d.Needs = slices.DeleteFunc(d.Needs, func(x string) bool { return x == n })
							if ctx.JSSrc().Get("checked").Bool() {
								d.Needs = append(d.Needs, n)
							}
						}, app.EventScope(n)),
					app.Text(shelter.Label(p.lang, shelter.FieldNeeds, n)),
				)
			}),
		),
		text(shelter.FieldAllergies, &d.Allergies),
		text(shelter.FieldMedication, &d.Medication),
		text(shelter.FieldPets, &d.Pets),
		app.Label().Class("check").Body(
			app.Input().Type("checkbox").ID("d-disclose").Checked(d.Disclose).
				OnChange(func(ctx app.Context, e app.Event) { d.Disclose = ctx.JSSrc().Get("checked").Bool() }),
			app.Text(p.tr("field.disclose")),
		),
		app.If(len(history) > 0, func() app.UI {
			return app.Div().Body(
				app.H3().Text(p.tr("detail.history")),
				app.Ul().ID("status-history").Body(app.Range(history).Slice(func(i int) app.UI {
					h := history[i]
					return app.Li().Text(h.At.Local().Format("01/02 15:04") + "　" + shelter.Label(p.lang, shelter.FieldStatus, h.Value))
				})),
			)
		}),
		app.Div().Class("actions").Body(
			app.Button().ID("save-detail").Type("button").Text(p.tr("action.save")).
				OnClick(func(ctx app.Context, e app.Event) { p.saveDetail() }),
			app.Button().ID("show-slip").Class("secondary").Type("button").Text(p.tr("slip.make")).
				OnClick(func(ctx app.Context, e app.Event) { p.showSlip(p.detail) }),
			app.Button().ID("close-detail").Class("secondary").Type("button").Text(p.tr("action.cancel")).
				OnClick(func(ctx app.Context, e app.Event) { p.detail = "" }),
		),
	)
}

// saveDetail records an edit for each detail changed.
func (p *shelterPage) saveDetail() {
	id, old := p.detail, p.st.Evacuees[p.detail]
	d := p.draft.Normalize()
	if err := d.Validate(time.Now().Year()); err != nil {
		var fe *shelter.FieldError
		if errors.As(err, &fe) {
			p.fieldErr = map[string]string{"d-" + fe.Field: p.fieldMessage(fe)}
		}
		return
	}
	var edits []shelter.Edit
	for _, f := range detailFields {
		if v := shelter.Value(d, f); v != shelter.Value(old, f) {
			edits = append(edits, shelter.Edit{Shelter: old.Shelter, Record: id, Field: f, Value: v, Prev: p.st.FieldSource(id, f)})
		}
	}
	p.detail, p.fieldErr = "", nil
	p.recordEdits(edits, p.tr("edited", old.Kana))
}

// choice renders a labelled select of coded values, in words.
func (p *shelterPage) choice(id, label, field string, values []string, value string, set func(string)) app.UI {
	return app.Div().Body(
		app.Label().For(id).Text(label),
		app.Select().ID(id).Body(app.Range(values).Slice(func(i int) app.UI {
			v := values[i]
			word := shelter.Label(p.lang, field, v)
			if field == "filter" || v == "" {
				word = p.tr(field + "." + cmp.Or(v, "none"))
			}
			return app.Option().Value(v).Selected(v == value).Text(word)
		})).OnChange(func(ctx app.Context, e app.Event) { set(ctx.JSSrc().Get("value").String()) }),
	)
}

// tally counts a shelter's people by where they are.
type tally struct{ present, out, left, elsewhere, households int }

func countOf(people []shelter.Evacuee) tally {
	var t tally
	households := map[string]bool{}
	for _, e := range people {
		switch {
		case e.Status == shelter.StatusLeft:
			t.left++
			continue
		case e.Status == shelter.StatusOut:
			t.out++
		case e.Present():
			t.present++
		default:
			t.elsewhere++
		}
		households[cmp.Or(e.Household, e.ID)] = true
	}
	t.households = len(households)
	return t
}

// filtered returns the people the filter shows.
func filtered(people []shelter.Evacuee, filter string) []shelter.Evacuee {
	if filter == "" {
		return people
	}
	var out []shelter.Evacuee
	for _, e := range people {
		var keep bool
		switch filter {
		case "present":
			keep = e.Status != shelter.StatusLeft && e.Present()
		case "elsewhere":
			keep = e.Status != shelter.StatusLeft && e.Status != shelter.StatusOut && !e.Present()
		case "needs":
			keep = len(e.Needs) > 0 && e.Status != shelter.StatusLeft
		default:
			keep = e.Status == filter
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

// householdSize counts the people checked in so far with household h.
func (p *shelterPage) householdSize(h string) int {
	n := 0
	for _, e := range p.st.Evacuees {
		if e.Household == h {
			n++
		}
	}
	return n
}

// field renders a labelled text input bound to *v, with its hint and its
// error, announced to screen readers.
func (p *shelterPage) field(id, label, hint, value string, v *string) app.UI {
	msg := p.fieldErr[id]
	return app.Div().Body(
		app.Label().For(id).Text(label),
		app.Input().ID(id).Name(id).Type("text").Value(value).
			Attr("aria-invalid", msg != "").
			Attr("aria-describedby", id+"-hint").
			AutoComplete(false).
			OnInput(func(ctx app.Context, e app.Event) { *v = ctx.JSSrc().Get("value").String() }),
		app.P().ID(id+"-hint").Class("hint").Text(hint),
		app.If(msg != "", func() app.UI {
			return app.P().ID(id+"-error").Class("error").Attr("role", "alert").Text(msg)
		}),
	)
}

// refused lists the check-ins the server refused to take from this
// tablet, so staff can enter them again correctly: nothing is dropped
// silently.
func (p *shelterPage) refused() app.UI {
	var rows []shelter.Evacuee
	for _, r := range p.st.Rejected {
		var e shelter.Evacuee
		if r.Op.Device == p.sync.DeviceID() && r.Op.Kind == shelter.OpEvacueeAdd && json.Unmarshal(r.Op.Body, &e) == nil {
			rows = append(rows, e)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return app.Section().ID("refused").Class("card warn").Attr("role", "alert").Body(
		app.H2().Text(p.tr("shelter.refused", len(rows))),
		app.P().Class("hint").Text(p.tr("shelter.refused.h")),
		app.Ul().Body(app.Range(rows).Slice(func(i int) app.UI {
			return app.Li().Text(rows[i].Kana + " " + rows[i].Name + " (" + rows[i].Shelter + ")")
		})),
	)
}

func (p *shelterPage) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	p.add(false)
}

// add checks in the person in the form (or saves the correction). With
// more, the next person entered joins the same household.
func (p *shelterPage) add(more bool) {
	if strings.TrimSpace(p.name+p.kana+p.birth) == "" {
		// Nothing entered: a second tap after the form was saved and
		// cleared. Keep the confirmation on screen instead of an error.
		return
	}
	cur, _ := p.current()
	p.fieldErr, p.msg = nil, ""
	year, yearErr := shelter.ParseBirthYear(p.birth)
	household := p.household
	if household == "" && more {
		household = newHousehold()
	}
	ev := shelter.Evacuee{Shelter: cur.ID, Name: p.name, Kana: p.kana, BirthYear: year, Sex: p.sex, Area: p.area, Household: household}.Normalize()
	err := ev.Validate(time.Now().Year())
	if err == nil && yearErr != nil {
		err = &shelter.FieldError{Field: "birth_year", Err: yearErr}
	}
	if err != nil {
		p.fieldErr = map[string]string{}
		var fe *shelter.FieldError
		if errors.As(err, &fe) {
			p.fieldErr[formField(fe.Field)] = p.fieldMessage(fe)
		}
		return
	}
	if p.editing != "" {
		p.saveEdit(ev)
		return
	}
	if m, ok := p.sameAs(ev); ok && !p.dupOK {
		p.dup, p.dupMore = &m, more
		return
	}
	p.dup, p.dupOK = nil, false
	key := inflightKey(ev)
	if p.inflight[key] {
		return // a double tap on the entry being saved
	}
	if p.inflight == nil {
		p.inflight = make(map[string]bool)
	}
	p.inflight[key] = true
	// The household stays open for the next person only when asked; set
	// now, not when the save is done: a fast volunteer may already be
	// entering the next person of it.
	p.household = ""
	if more {
		p.household = household
	}
	typed := [5]string{p.name, p.kana, p.birth, p.sex, p.area}
	p.later(func() func() {
		_, err := p.sync.Record(p.page, shelter.OpEvacueeAdd, ev)
		return func() {
			delete(p.inflight, key)
			if err != nil {
				app.Log("shelter: record evacuee:", err)
				p.msg = p.tr("err.save")
				return
			}
			who := ev.Kana
			if ev.Name != "" {
				who = ev.Name
			}
			if p.status.Online {
				p.msg = p.tr("added", who)
			} else {
				p.msg = p.tr("added.offline", who)
			}
			// Clear the form only if it still shows what was saved: a fast
			// volunteer may already be typing the next person. The home
			// district stays for the next of a household.
			if [5]string{p.name, p.kana, p.birth, p.sex, p.area} == typed {
				p.name, p.kana, p.birth, p.sex = "", "", "", ""
				if !more {
					p.area = ""
				}
			}
		}
	})
}

// sameAs finds a record at this shelter that ev is likely a second entry
// of: the same reading and birth year.
func (p *shelterPage) sameAs(ev shelter.Evacuee) (shelter.Evacuee, bool) {
	key := shelter.PersonKey(ev)
	for _, m := range p.st.EvacueesAt(ev.Shelter) {
		if shelter.PersonKey(m) == key {
			return m, true
		}
	}
	return shelter.Evacuee{}, false
}

// dupView asks whether the entry is the person already on the roster.
// It is never merged without a person deciding.
func (p *shelterPage) dupView() app.UI {
	m := *p.dup
	return app.Section().ID("duplicate").Class("card warn").Attr("role", "alert").Attr("data-id", m.ID).Body(
		app.P().Text(p.tr("dup.lead", m.Kana, m.BirthYear, shelter.Label(p.lang, shelter.FieldStatus, m.Status))),
		app.Div().Class("actions").Body(
			app.Button().ID("dup-same").Type("button").Text(p.tr("dup.same")).
				OnClick(func(ctx app.Context, e app.Event) { p.useExisting() }),
			app.Button().ID("dup-new").Class("secondary").Type("button").Text(p.tr("dup.new")).
				OnClick(func(ctx app.Context, e app.Event) { p.dupOK = true; p.add(p.dupMore) }),
		),
	)
}

// useExisting keeps the record already on the roster: the person is back
// in if they were out or gone, and the form is cleared.
func (p *shelterPage) useExisting() {
	m := *p.dup
	p.dup = nil
	p.name, p.kana, p.birth, p.sex = "", "", "", ""
	if m.Status != "" && m.Status != shelter.StatusIn {
		p.setStatus(m.ID, shelter.StatusIn)
		return
	}
	p.msg = p.tr("dup.kept", m.Kana)
}

// inflightKey tells two entries apart for the double-tap guard.
func inflightKey(e shelter.Evacuee) string {
	return shelter.PersonKey(e) + "/" + e.Name + "/" + e.Household
}

// newHousehold returns a fresh household id; a tablet offline for days
// mints them alone, so they are random.
func newHousehold() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "H-" + hex.EncodeToString(b)
}

// exportCSV makes the roster a CSV file that opens correctly in Excel and
// hands it to the browser to save; it works offline. It reads the state
// at the press: go-app may keep an event handler from an earlier render,
// so the handler must not carry the list it was rendered with.
func (p *shelterPage) exportCSV() {
	f, ok := p.current()
	if !ok {
		return
	}
	if err := p.exportRoster(&p.csv, "roster-"+f.ID, f.ID, p.st.EvacueesAt(f.ID)); err != nil {
		app.Log("shelter: export:", err)
		p.msg = p.tr("err.export")
	}
}

// startEditing fills the form with a record for correction.
func (p *shelterPage) startEditing(e shelter.Evacuee) {
	p.editing, p.fieldErr, p.msg = e.ID, nil, ""
	p.name, p.kana, p.birth = e.Name, e.Kana, strconv.Itoa(e.BirthYear)
}

func (p *shelterPage) stopEditing() {
	p.editing, p.fieldErr = "", nil
	p.name, p.kana, p.birth, p.sex, p.area = "", "", "", "", ""
}

// saveEdit records one correction op per changed field, each naming the
// value it replaces, so two volunteers correcting one field offline are
// shown to staff instead of one of them being lost.
func (p *shelterPage) saveEdit(ev shelter.Evacuee) {
	id := p.editing
	old := p.st.Evacuees[id]
	var edits []shelter.Edit
	for _, f := range []string{shelter.FieldKana, shelter.FieldName, shelter.FieldBirthYear} {
		if v := shelter.Value(ev, f); v != shelter.Value(old, f) {
			edits = append(edits, shelter.Edit{Shelter: old.Shelter, Record: id, Field: f, Value: v, Prev: p.st.FieldSource(id, f)})
		}
	}
	p.stopEditing()
	p.recordEdits(edits, p.tr("edited", ev.Kana))
}

// conflictFlags marks the records staff must look at: the kind of
// conflict each is in.
func conflictFlags(st *state.State) map[string]string {
	flags := make(map[string]string)
	for _, c := range st.Conflicts() {
		for _, id := range c.Records {
			flags[id] = c.Kind
		}
	}
	return flags
}

// formField maps a record's field to the form input that edits it.
func formField(field string) string {
	if field == "birth_year" {
		return "birth"
	}
	return field
}

func (p *shelterPage) fieldMessage(fe *shelter.FieldError) string {
	switch {
	case errors.Is(fe, shelter.ErrRequired):
		return p.tr("err.required")
	case errors.Is(fe, shelter.ErrNotKana):
		return p.tr("err.kana")
	case errors.Is(fe, shelter.ErrTooLong):
		return p.tr("err.toolong")
	}
	return p.tr("err.birth")
}
