package shelter

import (
	"fmt"
	"time"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/syncproto"
)

// FieldEdit is one applied correction of a record's field, as the fold
// keeps it: the last one is the field's value.
type FieldEdit struct {
	ID    string // the edit op's record id
	Value string
	Prev  string
	HLC   uint64
}

// The folded parts: Evacuees holds every record, by id; Edits every
// applied edit per record and field, in fold order.
var (
	Evacuees = opkind.NewSlot("evacuees", func() map[string]Evacuee { return make(map[string]Evacuee) })
	Edits    = opkind.NewSlot("edits", func() map[string]map[string][]FieldEdit { return make(map[string]map[string][]FieldEdit) })
)

// A shelter's tablet checks people in and corrects their records, for
// its own shelter; the HQ sees every shelter's records.
func init() {
	opkind.Register(opkind.Kind{
		Name:  OpEvacueeAdd,
		Body:  opkind.Over(func(e Evacuee) error { return e.Validate(latestYear()) }, func(e Evacuee) string { return e.Shelter }),
		Roles: []role.Role{role.Shelter},
		Feeds: opkind.Feeds{Facility: true, HQ: true},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			e, err := opkind.Decode[Evacuee](op)
			if err != nil {
				return err
			}
			e.ID = opkind.RecordID(op)
			(*Evacuees.In(p))[e.ID] = e
			return nil
		},
	})
	opkind.Register(opkind.Kind{
		Name:  OpEvacueeEdit,
		Body:  opkind.Over(func(ed Edit) error { return ed.Validate(latestYear()) }, func(ed Edit) string { return ed.Shelter }),
		Roles: []role.Role{role.Shelter},
		Feeds: opkind.Feeds{Facility: true, HQ: true},
		Fold:  foldEdit,
	})
}

// foldEdit applies a correction to its record, keeping the history.
func foldEdit(p *opkind.Parts, op syncproto.Op) error {
	ed, err := opkind.Decode[Edit](op)
	if err != nil {
		return err
	}
	evacuees := *Evacuees.In(p)
	e, ok := evacuees[ed.Record]
	if !ok || e.Shelter != ed.Shelter {
		return fmt.Errorf("%s: no record %s at %s", op.Kind, ed.Record, ed.Shelter)
	}
	// The year is the edit's own, so every device judges it alike.
	e, err = ed.Apply(e, hlc.Wall(op.HLC).Year())
	if err != nil {
		return fmt.Errorf("%s of %s: %w", op.Kind, ed.Record, err)
	}
	evacuees[ed.Record] = e
	edits := *Edits.In(p)
	if edits[ed.Record] == nil {
		edits[ed.Record] = make(map[string][]FieldEdit)
	}
	edits[ed.Record][ed.Field] = append(edits[ed.Record][ed.Field], FieldEdit{ID: opkind.RecordID(op), Value: Value(e, ed.Field), Prev: ed.Prev, HLC: op.HLC})
	return nil
}

// latestYear is the year it is somewhere on Earth now (UTC+14): a tablet
// in Japan just past midnight on New Year's Day is not refused a baby
// born that night by a server whose clock says UTC.
func latestYear() int { return time.Now().UTC().Add(14 * time.Hour).Year() }
