package ui

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/projection"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// enrolledAs is a Device enrolled as e.
type enrolledAs enroll.Enrollment

func (d enrolledAs) Enrollment() (enroll.Enrollment, bool) { return enroll.Enrollment(d), true }
func (enrolledAs) Enroll(context.Context, string) (enroll.Enrollment, error) {
	return enroll.Enrollment{}, errors.New("enrolled already")
}
func (enrolledAs) DemoCodes(context.Context) ([]syncproto.DemoCode, error) { return nil, nil }

// noCamera is a tablet whose face model cannot be loaded: the screen
// keeps its other ways in.
type noCamera struct{}

func (noCamera) OpenCamera(context.Context, string) (Frames, error) {
	return nil, errors.New("no camera")
}
func (noCamera) FaceModel(context.Context, func(done, total int64)) ([]byte, error) {
	return nil, errors.New("no model here")
}

// mountedNatively mounts the identify page in go-app's test engine,
// which calls OnMount only in a browser: natively it calls OnPreRender,
// with the same context.
type mountedNatively struct{ *identifyPage }

func (m *mountedNatively) OnPreRender(ctx app.Context) { m.OnMount(ctx) }

// until runs the page's pending work until ok holds.
func until(t *testing.T, e app.TestEngine, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		e.ConsumeAll()
		if ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// parkPage mounts a play park's identify screen in go-app's test engine
// over a real op log in memory, and waits for its first fold.
func parkPage(t *testing.T) (*identifyPage, app.TestEngine, *synclog.Engine) {
	t.Helper()
	return identifyOn(t, synclog.NewMemStore("park-1"), enrolledAs{Device: "park-1", Facility: "kaga-playpark", Role: scope.PlayPark})
}

// identifyOn mounts the identify screen of a device enrolled as d in
// go-app's test engine over an op log kept in store, and waits for its
// first fold.
func identifyOn(t *testing.T, store synclog.Store, d enrolledAs) (*identifyPage, app.TestEngine, *synclog.Engine) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	log, err := synclog.New(t.Context(), store, nil, synclog.Options{Signer: syncproto.KeySigner{Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	p := &identifyPage{
		live:  live{sync: log, folded: projection.New(t.Context(), log), dev: d},
		faces: noCamera{},
	}
	e := app.NewTestEngine()
	if err := e.Load(&mountedNatively{p}); err != nil {
		t.Fatal(err)
	}
	until(t, e, "the log folded", func() bool { return p.st != nil })
	return p, e, log
}

// TestParkPageStaffAdmission: a play park's identify screen, in go-app's
// test engine over a real op log: staff admit a child by sight in the
// band they chose, the screen records the identification in the log,
// and the day's count shows it through the tab's projection, with no
// fold of the whole log again. A second admission counts too.
func TestParkPageStaffAdmission(t *testing.T) {
	ctx := t.Context()
	p, e, log := parkPage(t)
	if !p.allowed() {
		t.Fatal("a park terminal may not identify")
	}
	for n := 1; n <= 2; n++ {
		state := p.st
		p.sight = true
		p.admitBySight(playpark.Preschool)
		if p.sight || p.park.Band != playpark.Preschool || !p.park.Eligible || p.outcome != identify.Accepted {
			t.Fatalf("the screen after the tap: sight %v, park %+v, outcome %q", p.sight, p.park, p.outcome)
		}
		until(t, e, "the entry counted", func() bool { return p.todays()[playpark.Preschool] == n })
		if p.st != state {
			t.Error("the state was folded again for an op recorded in order")
		}
	}
	ops, _ := log.Ops(ctx)
	if len(ops) != 2 || ops[0].Kind != identify.OpIdentified {
		t.Fatalf("log %+v, want the two admissions", ops)
	}
	if c := p.todays(); c[playpark.Elementary] != 0 {
		t.Fatalf("counts %v", c)
	}
}

// TestIdentifyGalleryFollowsOps: the identify screen's face gallery is
// built once, then follows the templates recorded and deleted one by one
// (the same gallery, never widened again whole), and a template of
// another model is left out and counted.
func TestIdentifyGalleryFollowsOps(t *testing.T) {
	ctx := t.Context()
	p, e, log := parkPage(t)
	first := p.gallery()
	vec := make([]float32, embed.Dims)
	put := func(resident, model string) {
		vec[len(resident)%embed.Dims]++
		if _, err := log.Record(ctx, template.OpPut, template.Template{Resident: resident, Model: model, Facilities: []string{"kaga-playpark"}, Vec: template.Pack(vec)}); err != nil {
			t.Fatal(err)
		}
	}
	put("R-1", embed.ModelName)
	put("R-22", embed.ModelName)
	put("R-333", "another-model")
	until(t, e, "two templates in the gallery", func() bool { return p.gallery().Len() == 2 })
	if p.skipped != 1 {
		t.Errorf("skipped %d, want the other model's one", p.skipped)
	}
	if _, err := log.Record(ctx, template.OpDelete, template.Delete{Resident: "R-1"}); err != nil {
		t.Fatal(err)
	}
	until(t, e, "one template left", func() bool { return p.gallery().Len() == 1 })
	if g := p.gallery(); g != first {
		t.Error("the gallery was built again whole for ops applied in order")
	}
}
