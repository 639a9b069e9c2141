package opkindtest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"smartpass.city/smartpass/app/opkind"
	"smartpass.city/smartpass/app/role"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/server/hub"
	"smartpass.city/smartpass/server/hub/hubtest"
	"smartpass.city/smartpass/syncproto"
)

// opStamp is the test kind: a stamp on a child's card at a play park.
const opStamp = "test.playpark.stamp"

// stamp is its body.
type stamp struct {
	Facility string `json:"facility"`
	Child    string `json:"child"`
	Stamps   int    `json:"stamps"`
}

// Validate keeps the kind's rules: a child, one to ten stamps.
func (s stamp) Validate() error {
	if s.Child == "" || s.Stamps < 1 || s.Stamps > 10 {
		return errors.New("a stamp names a child and gives 1 to 10 stamps")
	}
	return nil
}

// stamps is the kind's folded part: each child's stamps.
var stamps = opkind.NewSlot("stamps", func() map[string]int { return make(map[string]int) })

// The declaration, the only place the kind is described.
func init() {
	opkind.Register(opkind.Kind{
		Name:     opStamp,
		Validate: opkind.Rule(stamp.Validate),
		Roles:    []role.Role{role.PlayPark},
		Facility: opkind.Field(func(s stamp) string { return s.Facility }),
		Feeds:    opkind.Feeds{Facility: true},
		Audit: func(op syncproto.Op) (opkind.Entry, bool) {
			s, err := opkind.Decode[stamp](op)
			return opkind.Entry{Action: op.Kind, Subject: s.Child, Detail: fmt.Sprintf("%s %d stamps", s.Facility, s.Stamps)}, err == nil
		},
		Fold: func(p *opkind.Parts, op syncproto.Op) error {
			s, err := opkind.DecodeValid[stamp](op)
			if err != nil {
				return err
			}
			(*stamps.In(p))[s.Child] += s.Stamps
			return nil
		},
	})
}

// The demo facilities the devices are enrolled at.
const (
	park     = "kaga-playpark"
	daishoji = "shelter-daishoji"
	hqID     = "kaga-hq"
)

// TestStampKind: a play park's terminal records stamps; another terminal
// of the park receives them and folds them into the child's total; the
// server audits each as the kind declares; a shelter's tablet, whose
// role does not record stamps, has its stamp refused and sees the
// refusal; a malformed stamp is refused for its body; the HQ and the
// shelter never receive the park's stamps.
func TestStampKind(t *testing.T) {
	srv := start(t)
	parkA := srv.device(t, "park-a", park, role.PlayPark)
	parkB := srv.device(t, "park-b", park, role.PlayPark)
	tablet := srv.device(t, "shelter-1", daishoji, role.Shelter)
	hqDev := srv.device(t, "hq-1", hqID, role.HQ)
	ctx := context.Background()
	for _, s := range []stamp{{park, "c-1", 2}, {park, "c-1", 3}, {park, "", 0}} {
		if _, err := parkA.Record(ctx, opStamp, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tablet.Record(ctx, opStamp, stamp{daishoji, "c-2", 1}); err != nil {
		t.Fatal(err)
	}

	hubtest.WaitFor(t, "the other park terminal to hold the stamps and the refusal", func() bool {
		return len(kinds(t, parkB, opStamp)) == 2 && len(kinds(t, parkB, scope.OpRejected)) == 1
	})
	st := fold(t, parkB)
	if got := (*stamps.In(st.Parts()))["c-1"]; got != 5 {
		t.Errorf("c-1 has %d stamps on the other terminal, want 5", got)
	}
	if len(st.Rejected) != 1 || st.Rejected[0].Op.Kind != opStamp || !strings.Contains(st.Rejected[0].Reason, "rules") {
		t.Errorf("rejected on the other terminal = %+v, want the malformed stamp refused for its rules", st.Rejected)
	}

	hubtest.WaitFor(t, "the shelter tablet's stamp to come back refused", func() bool {
		return len(kinds(t, tablet, scope.OpRejected)) == 1 && tablet.Status().Pending == 0
	})
	if st := fold(t, tablet); len(st.Rejected) != 1 || st.Rejected[0].Op.Kind != opStamp || !strings.Contains(st.Rejected[0].Reason, "does not record") {
		t.Errorf("rejected on the shelter tablet = %+v, want its stamp refused for its role", st.Rejected)
	}
	if got := (*stamps.In(fold(t, tablet).Parts()))["c-2"]; got != 0 {
		t.Errorf("the refused stamp folded: c-2 has %d", got)
	}

	// Where the server filed them: the park's feed holds the stamps, the
	// shelter's its own refusal, the HQ's neither.
	for _, f := range []struct {
		feed     string
		stamps   int
		refusals int
	}{{scope.FacilityFeed(park), 2, 1}, {scope.FacilityFeed(daishoji), 0, 1}, {scope.FeedHQ, 0, 0}} {
		ops, err := srv.Log.Since(f.feed, 0, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var stampOps, refusals int
		for _, op := range ops {
			switch {
			case op.Kind == opStamp:
				stampOps++
			case op.Kind == scope.OpRejected && strings.Contains(string(op.Body), opStamp):
				refusals++
			}
		}
		if stampOps != f.stamps || refusals != f.refusals {
			t.Errorf("feed %s holds %d stamps and %d refused stamps, want %d and %d", f.feed, stampOps, refusals, f.stamps, f.refusals)
		}
	}
	hubtest.WaitFor(t, "the HQ to be online", func() bool { return hqDev.Status().Online })
	if got := kinds(t, hqDev, opStamp); len(got) > 0 {
		t.Errorf("the HQ received the park's stamps %v", got)
	}
	if got := srv.audited(opStamp); !slices.Equal(got, []string{"c-1 " + park + " 2 stamps", "c-1 " + park + " 3 stamps"}) {
		t.Errorf("audited stamps %q, want the two valid stamps", got)
	}
}

// server is a hub in process that keeps its audit entries.
type server struct {
	*hubtest.Server

	mu    sync.Mutex
	audit []string // action, then subject and detail
}

func start(t *testing.T) *server {
	t.Helper()
	s := &server{}
	s.Server = hubtest.Start(t, hub.Options{Audit: func(actor, action, subject, detail string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.audit = append(s.audit, action+"\x00"+subject+" "+detail)
	}})
	return s
}

// device enrolls a device with an admin's code and runs its sync engine.
func (s *server) device(t *testing.T, id, facilityID string, r role.Role) *synclog.Engine {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e, err := synclog.New(ctx, synclog.NewMemStore(id), s.Dialer(), synclog.Options{Signer: s.Enroll(t, id, facilityID, r, priv), MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go e.Run(ctx)
	return e
}

// audited returns the subject and detail of each audit entry of action.
func (s *server) audited(action string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.audit {
		if got, rest, _ := strings.Cut(a, "\x00"); got == action {
			out = append(out, rest)
		}
	}
	return out
}

// kinds returns the ops of kind a device holds that came from the server
// (a global sequence): its own op before the server's answer is not one.
func kinds(t *testing.T, e *synclog.Engine, kind string) []syncproto.Op {
	t.Helper()
	ops, err := e.Ops(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(ops, func(op syncproto.Op) bool { return op.Kind != kind || op.Global == 0 })
}

// fold folds what a device holds, as its screens do.
func fold(t *testing.T, e *synclog.Engine) *state.State {
	t.Helper()
	ops, err := e.Ops(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return state.Fold(ops)
}
