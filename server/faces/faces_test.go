package faces

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/residents"
	"smartpass.city/smartpass/syncproto"
)

// newDoor returns a door over a fresh store with the demo facilities,
// its registry of residents, and the store.
func newDoor(t *testing.T) (*Door, *residents.Registry, *oplog.Log) {
	t.Helper()
	l, err := oplog.Open(t.TempDir(), oplog.Options{Feeds: scope.Feeds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	pub, err := publish.New(l)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := &residents.Registry{Log: l}
	d := New(pub, reg, func() (map[string]facility.Facility, error) { return facilities.Current(l) }, "加賀市", slog.New(slog.DiscardHandler))
	return d, reg, l
}

// pushAsHub stores a device's ops as the hub does: noted in the outbox in
// the same transaction (Records), then followed up (Stored).
func pushAsHub(t *testing.T, d *Door, l *oplog.Log, device string, ops ...syncproto.Op) {
	t.Helper()
	_, stored, err := l.AppendBatch(context.Background(), device, ops, d.Records(device, ops))
	if err != nil {
		t.Fatal(err)
	}
	d.Stored(device, stored)
}

// stored is what a registration leaves in the store: the ops after the
// demo seed, whoever wrote them (kind and body, sorted: the desk's
// template comes before the server's follow-ups, the account's after its
// withdrawals), and the resident's record of the face.
type stored struct {
	ops     []string
	expires time.Time
	at      []string
}

// register registers a face of a resident (known: one the registry
// holds, born birth) through one door: "account" (the account endpoint's
// call) or "desk" (a desk tablet's op, stored, then the hub's hook).
func register(t *testing.T, door, birth string, known bool) stored {
	t.Helper()
	ctx := context.Background()
	d, reg, l := newDoor(t)
	seeded := l.Head()
	id := "R-999999" // a number typed at the desk, with no record
	if known {
		acc, err := reg.AddSupervised(card.Facts{Name: "加賀\u3000一郎", Address: "石川県加賀市大聖寺", BirthDate: birth, Sex: "1"}, "desk-1 山田")
		if err != nil {
			t.Fatal(err)
		}
		id = acc.ID
	}
	d.Now = func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) }
	tmpl := template.Template{Resident: id, Model: "test", Vec: []byte{1, 2, 3, 4}, Facilities: []string{"kaga-playpark"}}
	ahead := hlc.New(func() time.Time { return time.Now().Add(time.Hour) }, 0).Now() // a desk clock that runs ahead
	switch door {
	case "account":
		if err := d.Register(ctx, tmpl); err != nil {
			t.Fatal(err)
		}
	case "desk": // as the hub does with a desk's push
		body, _ := json.Marshal(tmpl)
		op := d.Prepare("desk-1", syncproto.Op{Seq: 1, HLC: ahead, Kind: template.OpPut, Body: body})
		pushAsHub(t, d, l, "desk-1", op)
	}
	var out stored
	all, err := l.Since(oplog.FeedAll, seeded, 1000, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range all {
		out.ops = append(out.ops, op.Kind+" "+string(op.Body))
		if door == "desk" && op.Device == publish.Device && op.HLC <= ahead {
			t.Errorf("the server's %s (clock %d) folds before the desk's template (%d)", op.Kind, op.HLC, ahead)
		}
	}
	slices.Sort(out.ops)
	if known {
		p, err := reg.Person(id)
		if err != nil {
			t.Fatal(err)
		}
		out.expires, out.at = p.FaceExpires, p.FaceAt
	}
	return out
}

// TestDoorsStoreTheSameFacts: a face registered from an account and the
// same face registered at a city desk leave the same facts: the template
// with the same expiry, the same withdrawals at the other facilities, the
// same profiles, the same record, and one template op in the log; a
// resident the server does not know gets the shortest period and no
// profile, at either door.
func TestDoorsStoreTheSameFacts(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		birth    string
		known    bool
		expires  time.Time
		profiles int
	}{
		{"adult with a record", "19800401", true, now.AddDate(5, 0, 0), 1},
		{"child with a record", "20180505", true, now.AddDate(1, 0, 0), 1},
		{"no record", "", false, now.AddDate(UnknownAgeYears, 0, 0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := register(t, "account", tc.birth, tc.known)
			desk := register(t, "desk", tc.birth, tc.known)
			if !slices.Equal(acct.ops, desk.ops) {
				t.Fatalf("the doors differ:\naccount: %q\ndesk:    %q", acct.ops, desk.ops)
			}
			if !acct.expires.Equal(desk.expires) || !slices.Equal(acct.at, desk.at) {
				t.Fatalf("records differ: account %v %v, desk %v %v", acct.expires, acct.at, desk.expires, desk.at)
			}
			var kinds []string
			var put template.Template
			for _, op := range acct.ops {
				kind, body, _ := strings.Cut(op, " ")
				kinds = append(kinds, kind)
				if kind == template.OpPut {
					json.Unmarshal([]byte(body), &put)
				}
			}
			want := []string{template.OpDelete, template.OpPut}
			for range tc.profiles {
				want = append(want, template.OpProfile)
			}
			slices.Sort(want)
			if !slices.Equal(kinds, want) {
				t.Errorf("ops %q, want %q (withdrawals, template, profiles)", kinds, want)
			}
			if !put.Expires.Equal(tc.expires) {
				t.Errorf("expires %v, want %v", put.Expires, tc.expires)
			}
			if tc.known && (!acct.expires.Equal(tc.expires) || !slices.Equal(acct.at, []string{"kaga-playpark"})) {
				t.Errorf("record: %v at %v", acct.expires, acct.at)
			}
		})
	}
}

// TestDeviceMayShortenNotLengthen: a template that comes with an expiry
// earlier than the rule's keeps it (a face to renew already); a later
// one gets the rule's.
func TestDeviceMayShortenNotLengthen(t *testing.T) {
	d, _, _ := newDoor(t)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return now }
	rule := now.AddDate(UnknownAgeYears, 0, 0)
	for _, tc := range []struct {
		name  string
		given time.Time
		want  time.Time
	}{
		{"none", time.Time{}, rule},
		{"earlier", now.Add(-time.Hour), now.Add(-time.Hour)},
		{"later", now.AddDate(10, 0, 0), rule},
	} {
		body, _ := json.Marshal(template.Template{Resident: "R-1", Model: "m", Vec: []byte{1, 2}, Facilities: []string{"kaga-playpark"}, Expires: tc.given})
		var got template.Template
		json.Unmarshal(d.Prepare("desk-1", syncproto.Op{Kind: template.OpPut, Body: body}).Body, &got)
		if !got.Expires.Equal(tc.want) {
			t.Errorf("%s: expires %v, want %v", tc.name, got.Expires, tc.want)
		}
	}
}

// TestDeskDeletionLeavesTheRecord: a face deleted at a desk (its
// template.Delete, synced) takes the facilities it names off the
// resident's record, as a deletion from the account (Door.Delete) clears
// it; a deletion at some of the facilities leaves the others.
func TestDeskDeletionLeavesTheRecord(t *testing.T) {
	ctx := context.Background()
	d, reg, l := newDoor(t)
	recognising, err := d.Recognising()
	if err != nil || len(recognising) < 2 {
		t.Fatalf("facilities that recognise faces: %v, %v", recognising, err)
	}
	both := []string{recognising[0].ID, recognising[1].ID}
	seq := uint64(0)
	for _, tc := range []struct {
		name     string
		deleteAt []string // nil: from the account
		left     []string
	}{
		{"desk, one of two", both[:1], both[1:]},
		{"desk, both", both, nil},
		{"account", nil, nil},
	} {
		acc, err := reg.AddSupervised(card.Facts{Name: "加賀\u3000" + tc.name, Address: "石川県加賀市", BirthDate: "19800401", Sex: "1"}, "desk-1 山田")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Register(ctx, template.Template{Resident: acc.ID, Model: "m", Vec: []byte{1, 2}, Facilities: both}); err != nil {
			t.Fatal(err)
		}
		if tc.deleteAt == nil {
			err = d.Delete(ctx, acc.ID)
		} else {
			seq++
			body, _ := json.Marshal(template.Delete{Resident: acc.ID, Facilities: tc.deleteAt})
			pushAsHub(t, d, l, "desk-1", syncproto.Op{Seq: seq, HLC: hlc.Timestamp(seq), Kind: template.OpDelete, Body: body})
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := reg.Person(acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.FaceAt, tc.left) || (len(tc.left) == 0) != p.FaceExpires.IsZero() {
			t.Errorf("%s: the record holds %v until %v, want %v", tc.name, p.FaceAt, p.FaceExpires, tc.left)
		}
	}
}

// TestOutboxSurvivesACrash: a desk's template stored with its note, and
// the server stopped before the follow-up, is followed up at the next
// start (Drain) with the same facts as without the crash; a resend of the
// op afterwards writes nothing more.
func TestOutboxSurvivesACrash(t *testing.T) {
	ctx := context.Background()
	want := register(t, "desk", "19800401", true)

	d, reg, l := newDoor(t)
	seeded := l.Head()
	acc, err := reg.AddSupervised(card.Facts{Name: "加賀\u3000一郎", Address: "石川県加賀市大聖寺", BirthDate: "19800401", Sex: "1"}, "desk-1 山田")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) }
	d.Now = now
	body, _ := json.Marshal(template.Template{Resident: acc.ID, Model: "test", Vec: []byte{1, 2, 3, 4}, Facilities: []string{"kaga-playpark"}})
	op := d.Prepare("desk-1", syncproto.Op{Seq: 1, HLC: hlc.New(func() time.Time { return time.Now().Add(time.Hour) }, 0).Now(), Kind: template.OpPut, Body: body})
	if _, _, err := l.AppendBatch(ctx, "desk-1", []syncproto.Op{op}, d.Records("desk-1", []syncproto.Op{op})); err != nil {
		t.Fatal(err)
	}
	// The crash: Stored never runs. A new door over the same store, as at
	// the next start:
	fac := d.facilities
	d2 := New(d.pub, reg, fac, "加賀市", slog.New(slog.DiscardHandler))
	d2.Now = now
	if err := d2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	kinds := func() []string {
		all, err := l.Since(oplog.FeedAll, seeded, 1000, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, op := range all {
			out = append(out, op.Kind)
		}
		slices.Sort(out)
		return out
	}
	got := kinds()
	var wantKinds []string
	for _, o := range want.ops {
		wantKinds = append(wantKinds, strings.SplitN(o, " ", 2)[0])
	}
	slices.Sort(wantKinds)
	if !slices.Equal(got, wantKinds) {
		t.Fatalf("after the crash and a drain the log holds %v, want %v as without the crash", got, wantKinds)
	}
	if p, err := reg.Person(acc.ID); err != nil || !slices.Equal(p.FaceAt, want.at) || !p.FaceExpires.Equal(want.expires) {
		t.Fatalf("record after the drain: %+v, %v; want %v until %v", p.FaceAt, err, want.at, want.expires)
	}
	// A resend (the desk never got its acknowledgement): noted no more,
	// followed up no more.
	pushAsHub(t, d2, l, "desk-1", op)
	if again := kinds(); !slices.Equal(again, got) {
		t.Fatalf("a resend wrote more: %v, before %v", again, got)
	}
}
