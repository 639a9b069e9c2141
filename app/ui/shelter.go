package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/facility"
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
	fieldErr map[string]string
	msg      string
	// inflight holds the records being saved: a second press with the same
	// entry is a double tap and is ignored; any other entry is saved too.
	inflight map[shelter.Evacuee]bool
	// editing is the record being corrected, "" when the form adds.
	editing string
	// csvURL is the last roster export, as a blob: URL the browser saves.
	csvURL, csvName string
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
	return p.frame(
		app.H1().Text(p.tr("shelter.title")),
		app.P().ID("shelter-name").Class("place").Text(cur.Name(p.lang)),
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
			app.Div().Class("actions").Body(
				app.If(p.editing == "", func() app.UI {
					return app.Button().ID("add").Type("submit").Text(p.tr("action.add"))
				}).Else(func() app.UI {
					return app.Div().Class("actions").Body(
						app.Button().ID("save-edit").Type("submit").Text(p.tr("action.edit")),
						app.Button().ID("cancel-edit").Class("secondary").Type("button").Text(p.tr("action.cancel")).
							OnClick(func(ctx app.Context, e app.Event) { p.stopEditing() }),
					)
				}),
			),
			app.If(p.msg != "", func() app.UI {
				return app.P().ID("form-message").Class("notice").Attr("role", "status").Text(p.msg)
			}),
		),
		app.H2().ID("count").Text(count),
		app.Div().Class("actions").Body(
			app.Button().ID("export-csv").Class("secondary").Type("button").Text(p.tr("roster.csv")).
				OnClick(func(ctx app.Context, e app.Event) { p.exportCSV() }),
			app.If(p.csvURL != "", func() app.UI {
				return app.A().ID("roster-download").Href(p.csvURL).Attr("download", p.csvName).Text(p.tr("roster.download"))
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
					app.Th().Text(p.tr("col.sync")),
					app.Th(),
				)),
				app.TBody().Body(app.Range(people).Slice(func(i int) app.UI {
					e := people[i]
					sync := p.tr("sync.done")
					if unsent[e.ID] {
						sync = p.tr("sync.pending")
					}
					return app.Tr().Attr("data-id", e.ID).Body(
						app.Td().Body(
							app.Text(e.Kana),
							app.If(flags[e.ID] != "", func() app.UI {
								return app.Span().Class("flag").Attr("data-conflict", flags[e.ID]).Text(p.tr("conflict.flag." + flags[e.ID]))
							}),
						),
						app.Td().Text(e.Name),
						app.Td().Text(e.BirthYear),
						app.Td().Class("sync").Attr("data-unsent", unsent[e.ID]).Text(sync),
						app.Td().Body(app.Button().Class("secondary small edit").Type("button").Text(p.tr("action.correct")).
							// go-app keeps a handler whose code is unchanged unless its
							// scope differs: the record id makes each row's its own.
							OnClick(func(ctx app.Context, ev app.Event) { p.startEditing(e) }, app.EventScope(e.ID))),
					)
				})),
			)
		}),
	)
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
	if strings.TrimSpace(p.name+p.kana+p.birth) == "" {
		// Nothing entered: a second tap after the form was saved and
		// cleared. Keep the confirmation on screen instead of an error.
		return
	}
	cur, _ := p.current()
	p.fieldErr, p.msg = nil, ""
	year, yearErr := shelter.ParseBirthYear(p.birth)
	ev := shelter.Evacuee{Shelter: cur.ID, Name: p.name, Kana: p.kana, BirthYear: year}.Normalize()
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
	if p.inflight[ev] {
		return // a double tap on the entry being saved
	}
	if p.inflight == nil {
		p.inflight = make(map[shelter.Evacuee]bool)
	}
	p.inflight[ev] = true
	typed := [3]string{p.name, p.kana, p.birth}
	p.later(func() func() {
		_, err := p.sync.Record(p.page, shelter.OpEvacueeAdd, ev)
		return func() {
			delete(p.inflight, ev)
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
			// volunteer may already be typing the next person.
			if [3]string{p.name, p.kana, p.birth} == typed {
				p.name, p.kana, p.birth = "", "", ""
			}
		}
	})
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
	people := p.st.EvacueesAt(f.ID)
	var b bytes.Buffer
	if err := shelter.WriteRoster(&b, people, f.Name(p.lang), p.lang); err != nil {
		p.msg = p.tr("err.save")
		return
	}
	arr := app.Window().Get("Uint8Array").New(b.Len())
	app.CopyBytesToJS(arr, b.Bytes())
	blob := app.Window().Get("Blob").New([]any{arr}, map[string]any{"type": "text/csv;charset=utf-8"})
	if p.csvURL != "" {
		app.Window().Get("URL").Call("revokeObjectURL", p.csvURL)
	}
	p.csvURL = app.Window().Get("URL").Call("createObjectURL", blob).String()
	p.csvName = fmt.Sprintf("roster-%s-%s.csv", f.ID, time.Now().Format("20060102-1504"))
	// Save at once; the link stays for a second try.
	a := app.Window().Get("document").Call("createElement", "a")
	a.Set("href", p.csvURL)
	a.Set("download", p.csvName)
	a.Call("click")
}

// startEditing fills the form with a record for correction.
func (p *shelterPage) startEditing(e shelter.Evacuee) {
	p.editing, p.fieldErr, p.msg = e.ID, nil, ""
	p.name, p.kana, p.birth = e.Name, e.Kana, strconv.Itoa(e.BirthYear)
}

func (p *shelterPage) stopEditing() {
	p.editing, p.fieldErr = "", nil
	p.name, p.kana, p.birth = "", "", ""
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
	p.later(func() func() {
		var err error
		for _, ed := range edits {
			if _, err = p.sync.Record(p.page, shelter.OpEvacueeEdit, ed); err != nil {
				break
			}
		}
		return func() {
			if err != nil {
				app.Log("shelter: record correction:", err)
				p.msg = p.tr("err.save")
				return
			}
			p.msg = p.tr("edited", ev.Kana)
		}
	})
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
