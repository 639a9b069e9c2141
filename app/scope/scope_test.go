package scope

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"smartpass.city/smartpass/app/access"
	"smartpass.city/smartpass/app/appointment"
	"smartpass.city/smartpass/app/bill"
	"smartpass.city/smartpass/app/emergency"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/furusato"
	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/jpki"
	history "smartpass.city/smartpass/app/medical"
	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/app/wallet"
	"smartpass.city/smartpass/syncproto"
)

var (
	daishoji  = facility.Facility{ID: "shelter-daishoji", Kind: facility.Shelter, NameJA: "大聖寺"}
	yamashiro = facility.Facility{ID: "shelter-yamashiro", Kind: facility.Shelter, NameJA: "山代"}
	park      = facility.Facility{ID: "kaga-playpark", Kind: facility.PlayPark, NameJA: "パーク"}
	hq        = facility.Facility{ID: "kaga-hq", Kind: facility.HQ, NameJA: "本部"}
	medical   = facility.Facility{ID: "kaga-medical", Kind: facility.Hospital, NameJA: "医療センター"}
)

func receptionOp(at string) syncproto.Op {
	b, _ := json.Marshal(hospital.Reception{Facility: at, Patient: "0012345", Department: "internal", Via: hospital.ByStaff})
	return syncproto.Op{Device: "m", Seq: 3, HLC: 3, Kind: hospital.OpReception, Body: b}
}

func evacueeOp(at string) syncproto.Op {
	b, _ := json.Marshal(shelter.Evacuee{Shelter: at, Kana: "カガ", BirthYear: 1980})
	return syncproto.Op{Device: "d", Seq: 1, HLC: 1, Kind: shelter.OpEvacueeAdd, Body: b}
}

func editOp(at string) syncproto.Op {
	b, _ := json.Marshal(shelter.Edit{Shelter: at, Record: "d.1", Field: shelter.FieldName, Value: "x"})
	return syncproto.Op{Device: "d", Seq: 2, HLC: 2, Kind: shelter.OpEvacueeEdit, Body: b}
}

func templateOp(facilities ...string) syncproto.Op {
	b, _ := json.Marshal(template.Template{Resident: "r-1", Model: "m", Facilities: facilities, Vec: template.Pack([]float32{1, 0})})
	return syncproto.Op{Device: "desk", Seq: 1, HLC: 1, Kind: template.OpPut, Body: b}
}

func identifiedOp(at, outcome, resident string) syncproto.Op {
	b, _ := json.Marshal(identify.Identification{Facility: at, Resident: resident, Method: "face", Outcome: outcome})
	return syncproto.Op{Device: "p", Seq: 1, HLC: 1, Kind: identify.OpIdentified, Body: b}
}

func checkedOp(at string) syncproto.Op {
	b, _ := json.Marshal(jpki.Checked{Facility: at, Nonce: make([]byte, jpki.NonceLen), Cert: []byte{0x30}, Sig: []byte{1}, Outcome: jpki.Accepted})
	return syncproto.Op{Device: "p", Seq: 2, HLC: 2, Kind: jpki.OpChecked, Body: b}
}

func bodyOp(kind string, body any) syncproto.Op {
	b, _ := json.Marshal(body)
	return syncproto.Op{Device: "d", Seq: 9, HLC: 9, Kind: kind, Body: b}
}

func TestCheck(t *testing.T) {
	volunteer := Device{ID: "d", Facility: daishoji, Role: Shelter}
	tests := []struct {
		name string
		dev  Device
		op   syncproto.Op
		ok   bool
	}{
		{"check-in at own shelter", volunteer, evacueeOp(daishoji.ID), true},
		{"check-in at another shelter", volunteer, evacueeOp(yamashiro.ID), false},
		{"check-in without shelter", volunteer, evacueeOp(""), false},
		{"check-in with broken body", volunteer, syncproto.Op{Kind: shelter.OpEvacueeAdd, Body: json.RawMessage(`[]`)}, false},
		{"facility record from a tablet", volunteer, syncproto.Op{Kind: facility.OpUpsert, Body: json.RawMessage(`{}`)}, false},
		{"unknown kind", volunteer, syncproto.Op{Kind: "fare.charge", Body: json.RawMessage(`{}`)}, false},
		{"play park records a check-in", Device{ID: "p", Facility: park, Role: PlayPark}, evacueeOp(park.ID), false},
		{"hq records a check-in", Device{ID: "h", Facility: hq, Role: HQ}, evacueeOp(daishoji.ID), false},
		{"correction at own shelter", volunteer, editOp(daishoji.ID), true},
		{"correction at another shelter", volunteer, editOp(yamashiro.ID), false},
		{"registrar records a template", Device{Facility: hq, Role: Registrar}, templateOp(park.ID), true},
		{"registrar records a broken template", Device{Facility: hq, Role: Registrar}, syncproto.Op{Kind: template.OpPut, Body: json.RawMessage(`{"resident":"r"}`)}, false},
		{"a shelter tablet records a template", volunteer, templateOp(daishoji.ID), false},
		{"registrar records a check-in", Device{Facility: hq, Role: Registrar}, evacueeOp(daishoji.ID), false},
		{"verdict sent back by its device: only the server records verdicts", volunteer, volunteer.Reject(evacueeOp(yamashiro.ID), ErrForbidden), false},
		{"verdict of another facility", volunteer, Device{Facility: yamashiro}.Reject(evacueeOp(yamashiro.ID), ErrForbidden), false},
		{"registrar plants a verdict in a shelter's feed", Device{Facility: hq, Role: Registrar}, Device{Facility: yamashiro}.Reject(evacueeOp(yamashiro.ID), ErrForbidden), false},
		{"check-in with markup as the reading", volunteer, bodyOp(shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: daishoji.ID, Kana: "<script>", BirthYear: 1980}), false},
		{"check-in born in 3000", volunteer, bodyOp(shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: daishoji.ID, Kana: "カガ", BirthYear: 3000}), false},
		{"correction to a birth year in 3000", volunteer, bodyOp(shelter.OpEvacueeEdit, shelter.Edit{Shelter: daishoji.ID, Record: "d.1", Field: shelter.FieldBirthYear, Value: "3000"}), false},
		{"template deletion naming no facility", Device{Facility: hq, Role: Registrar}, bodyOp(template.OpDelete, template.Delete{Resident: "R-1"}), false},
		{"park terminal records an identification", Device{Facility: park, Role: PlayPark}, identifiedOp(park.ID, identify.Accepted, "R-1"), true},
		{"park terminal records one for another facility", Device{Facility: park, Role: PlayPark}, identifiedOp(hq.ID, identify.Unknown, ""), false},
		{"park terminal records a malformed one", Device{Facility: park, Role: PlayPark}, identifiedOp(park.ID, identify.Accepted, ""), false},
		{"shelter tablet records an identification", volunteer, identifiedOp(daishoji.ID, identify.Unknown, ""), true},
		{"shelter tablet records one for another shelter", volunteer, identifiedOp(yamashiro.ID, identify.Unknown, ""), false},
		{"shelter tablet records a card checked offline", volunteer, checkedOp(daishoji.ID), true},
		{"park terminal records a card checked offline", Device{Facility: park, Role: PlayPark}, checkedOp(park.ID), true},
		{"park terminal records a card check for another facility", Device{Facility: park, Role: PlayPark}, checkedOp(daishoji.ID), false},
		{"a card check without its proof", volunteer, syncproto.Op{Kind: jpki.OpChecked, Body: json.RawMessage(`{"facility":"shelter-daishoji","outcome":"accepted"}`)}, false},
		{"HQ records a card check", Device{Facility: hq, Role: HQ}, checkedOp(hq.ID), false},
		{"a tablet publishes trust anchors", volunteer, syncproto.Op{Kind: jpki.OpAnchors, Body: json.RawMessage(`{"roots":[]}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.dev.Check(tt.op)
			if tt.ok && err != nil {
				t.Fatalf("Check = %v, want allowed", err)
			}
			if !tt.ok && !errors.Is(err, ErrForbidden) {
				t.Fatalf("Check = %v, want ErrForbidden", err)
			}
			// Route (Check's verdict for the hub) routes an allowed op
			// as Feeds does, from the facility it read.
			if feeds, err := tt.dev.Route(tt.op); err == nil && !slices.Equal(feeds, Feeds(tt.op)) {
				t.Fatalf("Route's feeds = %v, Feeds = %v", feeds, Feeds(tt.op))
			}
		})
	}
}

// TestCheckInvalid: a body that breaks its kind's rules, cannot be read
// or names no facility is refused as invalid too (the verdict's Invalid,
// which keeps it from the HQ), whichever path read it.
func TestCheckInvalid(t *testing.T) {
	volunteer := Device{ID: "d", Facility: daishoji, Role: Shelter}
	for _, op := range []syncproto.Op{
		evacueeOp(""),
		{Kind: shelter.OpEvacueeAdd, Body: json.RawMessage(`[]`)},
		bodyOp(shelter.OpEvacueeAdd, shelter.Evacuee{Shelter: daishoji.ID, Kana: "カガ", BirthYear: 3000}),
		bodyOp(shelter.OpEvacueeEdit, shelter.Edit{Shelter: daishoji.ID, Record: "d.1", Field: shelter.FieldBirthYear, Value: "3000"}),
	} {
		if err := volunteer.Check(op); !errors.Is(err, ErrForbidden) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%s %s) = %v, want ErrForbidden and ErrInvalid", op.Kind, op.Body, err)
		}
	}
	if err := volunteer.Check(evacueeOp(yamashiro.ID)); !errors.Is(err, ErrForbidden) || errors.Is(err, ErrInvalid) {
		t.Errorf("another shelter's check-in: %v, want ErrForbidden alone (the record is valid)", err)
	}
}

func TestFeeds(t *testing.T) {
	tests := []struct {
		name string
		op   syncproto.Op
		want []string
	}{
		{"facility record", syncproto.Op{Kind: facility.OpUpsert}, []string{FeedPublic}},
		{"check-in", evacueeOp(daishoji.ID), []string{"facility.shelter-daishoji", FeedHQ}},
		{"correction", editOp(yamashiro.ID), []string{"facility.shelter-yamashiro", FeedHQ}},
		{"rejection goes to the pushing device's facility", Device{Facility: daishoji}.Reject(evacueeOp(yamashiro.ID), ErrForbidden), []string{"facility.shelter-daishoji", FeedHQ}},
		{"a malformed record's rejection stays with its facility", Device{Facility: daishoji}.Reject(evacueeOp(daishoji.ID), fmt.Errorf("%w: %w", ErrForbidden, ErrInvalid)), []string{"facility.shelter-daishoji"}},
		{"template", templateOp(park.ID, daishoji.ID), []string{"templates.kaga-playpark", "templates.shelter-daishoji"}},
		{"unknown kind", syncproto.Op{Kind: "fare.charge"}, nil},
		{"a hospital's reception: the hospital's alone", receptionOp(medical.ID), []string{"facility.kaga-medical"}},
		{"a refused hospital op: the pushing hospital's alone", Device{Facility: medical}.Reject(receptionOp("kaga-other"), ErrForbidden), []string{"facility.kaga-medical"}},
		{"identification: the audit role's only", identifiedOp(park.ID, identify.Accepted, "R-1"), nil},
		{"card checked offline: the audit role's only", checkedOp(park.ID), nil},
		{"trust anchors: every device's", syncproto.Op{Kind: jpki.OpAnchors}, []string{FeedPublic}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Feeds(tt.op); !slices.Equal(got, tt.want) {
				t.Fatalf("Feeds = %v, want %v", got, tt.want)
			}
		})
	}
	shelterDev := Device{Facility: daishoji, Role: Shelter}
	if !shelterDev.MayPull(FacilityFeed(daishoji.ID)) || shelterDev.MayPull(FacilityFeed(yamashiro.ID)) || shelterDev.MayPull(FeedAll) {
		t.Fatalf("shelter device feeds = %v", shelterDev.Feeds())
	}
	if hqDev := (Device{Facility: hq, Role: HQ}); !hqDev.MayPull(FeedHQ) || hqDev.MayPull(FeedAll) || hqDev.MayPull(TemplateFeed(park.ID)) {
		t.Fatalf("hq feeds = %v: want the shelters' records, never templates", hqDev.Feeds())
	}
	if parkDev := (Device{Facility: park, Role: PlayPark}); !parkDev.MayPull(TemplateFeed(park.ID)) || parkDev.MayPull(TemplateFeed(daishoji.ID)) {
		t.Fatalf("play park feeds = %v: want its own templates only", parkDev.Feeds())
	}
	for _, f := range shelterDev.Feeds() {
		if _, err := syncproto.Encode(&syncproto.Pull{Feed: f}); err != nil {
			t.Fatalf("feed %q is not a valid wire feed name: %v", f, err)
		}
	}
}

func TestReject(t *testing.T) {
	op := evacueeOp(yamashiro.ID)
	r := Device{Facility: daishoji}.Reject(op, ErrForbidden)
	if r.Device != op.Device || r.Seq != op.Seq || r.HLC != op.HLC || r.Kind != OpRejected {
		t.Fatalf("Reject changed the op's identity: %+v", r)
	}
	var body Rejection
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Kind != op.Kind || string(body.Body) != string(op.Body) {
		t.Fatalf("Reject body = %s, %v", r.Body, err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("rejection is not a valid op: %v", err)
	}
	// An op at the body limit still yields a valid verdict, without the body.
	big := syncproto.Op{Seq: 1, Kind: shelter.OpEvacueeAdd, Body: json.RawMessage(`"` + string(slices.Repeat([]byte("x"), syncproto.MaxOpBody-2)) + `"`)}
	if rb := (Device{Facility: daishoji}).Reject(big, ErrForbidden); rb.Validate() != nil {
		err := rb.Validate()
		t.Fatalf("rejection of a large op: %v", err)
	}
}

func TestCheckRole(t *testing.T) {
	if err := CheckRole(daishoji, Shelter); err != nil {
		t.Fatal(err)
	}
	if err := CheckRole(park, Shelter); !errors.Is(err, ErrForbidden) {
		t.Fatalf("shelter role at a play park: %v", err)
	}
	if got := RolesFor(facility.Hospital); !slices.Equal(got, []Role{Reception}) {
		t.Fatalf("RolesFor(hospital) = %v", got)
	}
}

// TestScreenRoles: the roles staff may issue codes for are exactly those
// with a page of the app; audit is not among them.
func TestScreenRoles(t *testing.T) {
	for _, k := range []facility.Kind{facility.Shelter, facility.Hospital, facility.PlayPark, facility.HQ} {
		for _, r := range RolesFor(k) {
			if r.HasScreen() != (route.ForRole(string(r)) != "") {
				t.Errorf("%s: HasScreen %v, but its page is %q", r, r.HasScreen(), route.ForRole(string(r)))
			}
		}
	}
	if Audit.HasScreen() || slices.Contains(ScreenRolesFor(facility.HQ), Audit) {
		t.Fatal("the audit role is offered to staff")
	}
	if got := ScreenRolesFor(facility.HQ); !slices.Equal(got, []Role{HQ, Registrar}) {
		t.Fatalf("ScreenRolesFor(hq) = %v", got)
	}
}

// TestAuditOf: what the audit log keeps of each kind, as the hub's own
// switch wrote it before the kinds declared it (the same actions,
// subjects and details), and nothing of the kinds that are not audited.
func TestAuditOf(t *testing.T) {
	checked := bodyOp(jpki.OpChecked, jpki.Checked{Facility: park.ID, Nonce: make([]byte, jpki.NonceLen), Cert: []byte{0x30}, Sig: []byte{1}, Serial: "12ab", Outcome: jpki.Accepted})
	refusedCheck := Device{ID: "p", Facility: park, Role: PlayPark}.Reject(checked, errors.New("revoked"))
	refusedCheckIn := Device{ID: "p", Facility: park, Role: PlayPark}.Reject(evacueeOp(daishoji.ID), errors.New("no"))
	tests := []struct {
		name string
		op   syncproto.Op
		want []string // action, subject, detail; nil: not audited
	}{
		{"identification", identifiedOp(park.ID, identify.Accepted, "r-7"), []string{identify.OpIdentified, "r-7", park.ID + " face " + identify.Accepted}},
		{"read of personal data", bodyOp(access.OpRead, access.Of(daishoji.ID, access.Search, daishoji.ID, []string{"d.1", "d.2"})), []string{access.OpRead, "d.1 d.2", daishoji.ID + " " + access.Search + " " + daishoji.ID + " 2 records"}},
		{"deletion of a face", bodyOp(template.OpDelete, template.Delete{Resident: "r-1", Facilities: []string{park.ID, daishoji.ID}}), []string{template.OpDelete, "r-1", park.ID + " " + daishoji.ID}},
		{"card checked offline", checked, []string{jpki.OpChecked, "jpki:12ab", park.ID + " " + jpki.Accepted}},
		{"card check refused", refusedCheck, []string{jpki.OpChecked + ".refused", "jpki:12ab", park.ID + " revoked"}},
		{"check-in refused: not audited", refusedCheckIn, nil},
		{"check-in: not audited", evacueeOp(daishoji.ID), nil},
		{"facility record: not audited", bodyOp(facility.OpUpsert, park), nil},
		{"identification with a broken body", syncproto.Op{Kind: identify.OpIdentified, Body: json.RawMessage(`[]`)}, nil},
		{"unknown kind", bodyOp("fare.charge", struct{}{}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := AuditOf(tt.op)
			if tt.want == nil {
				if ok {
					t.Fatalf("audited %+v, want nothing", e)
				}
				return
			}
			if got := []string{e.Action, e.Subject, e.Detail}; !ok || !slices.Equal(got, tt.want) {
				t.Fatalf("audit = %q (%v), want %q", got, ok, tt.want)
			}
		})
	}
}

// TestKindsDeclared: every kind the project records is declared, and
// the roles that record each are those the scope's own table listed
// before the kinds declared them; the rest only the server writes.
func TestKindsDeclared(t *testing.T) {
	recorders := map[string][]Role{
		shelter.OpEvacueeAdd:  {Shelter},
		shelter.OpEvacueeEdit: {Shelter},
		jpki.OpChecked:        {Shelter, PlayPark, Reception, Shop},
		access.OpRead:         {Shelter, HQ},
		identify.OpIdentified: {Shelter, PlayPark, Reception, Shop, Vehicle},
		template.OpPut:        {Registrar},
		template.OpDelete:     {Registrar},
		hospital.OpLink:       {Reception},
		hospital.OpReception:  {Reception},
		transit.OpBoard:       {Vehicle},
		transit.OpAlight:      {Vehicle},
		furusato.OpDonation:   {Counter},
		furusato.OpGift:       {Counter},
		history.OpSummary:     {Reception},
		appointment.OpSlots:   {Reception},
		appointment.OpNoShow:  {Reception},
		emergency.OpUse:       {Reception},
		bill.OpPost:           {Reception},
		bill.OpPaid:           {Reception},
		wallet.OpPayment:      {Shop},
		wallet.OpRefund:       {Shop},
		wallet.OpTopUpCash:    {Registrar},
		wallet.OpLimits:       {Registrar},
		wallet.OpFreeze:       {Registrar},
	}
	serverOnly := []string{facility.OpUpsert, furusato.OpItem, jpki.OpAnchors, pass.OpKeys, template.OpProfile, template.OpErased, transit.OpNetwork, transit.OpRider, transit.OpPass, OpRejected,
		history.OpPublish, history.OpNotebook, history.OpConsent, history.OpRevoke, history.OpAccess,
		appointment.OpBook, appointment.OpMove, appointment.OpCancel, appointment.OpAnswers}
	for kind, roles := range recorders {
		k, ok := opkind.Lookup(kind)
		if !ok || k.ServerOnly {
			t.Errorf("%s: declared %v, server-only %v; want recorded by %v", kind, ok, k.ServerOnly, roles)
			continue
		}
		for _, r := range []Role{Shelter, Reception, PlayPark, HQ, Registrar, Vehicle, Counter, Audit, Shop} {
			if k.MayRecord(r) != slices.Contains(roles, r) {
				t.Errorf("%s: a %s device may record it: %v, want %v", kind, r, k.MayRecord(r), !k.MayRecord(r))
			}
		}
	}
	for _, kind := range serverOnly {
		if k, ok := opkind.Lookup(kind); !ok || !k.ServerOnly || len(k.Roles) > 0 {
			t.Errorf("%s: declared %v, server-only %v, roles %v; want the server's alone", kind, ok, k.ServerOnly, k.Roles)
		}
	}
	if got, want := len(opkind.Names()), len(recorders)+len(serverOnly); got != want {
		t.Errorf("%d kinds declared (%v), want %d", got, opkind.Names(), want)
	}
}

// BenchmarkRoute: the hub's check of one pushed check-in, the body read
// once for its rules, its facility and its feeds (Route), against the
// readings it took before: Validate, the facility for the scope, and the
// facility again for the store's feeds (Check, then Feeds).
func BenchmarkRoute(b *testing.B) {
	dev := Device{ID: "d", Facility: daishoji, Role: Shelter}
	op := evacueeOp(daishoji.ID)
	k, _ := opkind.Lookup(op.Kind)
	b.Run("once", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if feeds, err := dev.Route(op); err != nil || len(feeds) != 2 {
				b.Fatal(feeds, err)
			}
		}
	})
	// The path before opkind.Over: the rules and the facility read
	// apart, the feeds from the facility read.
	b.Run("two-readings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Validate(op); err != nil {
				b.Fatal(err)
			}
			at, err := k.Facility(op)
			if err != nil || at != daishoji.ID {
				b.Fatal(at, err)
			}
			if len(k.FeedsAt(op, at)) != 2 {
				b.Fatal("feeds")
			}
		}
	})
	b.Run("three-readings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Validate(op); err != nil {
				b.Fatal(err)
			}
			if at, err := k.Facility(op); err != nil || at != daishoji.ID {
				b.Fatal(at, err)
			}
			if len(Feeds(op)) != 2 {
				b.Fatal("feeds")
			}
		}
	})
}
