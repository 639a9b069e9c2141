package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/enroll"
	"smartpass.city/smartpass/syncproto"
)

// adminServer is the admin API as the screen reaches it, routed from
// admin.API: each call goes over JSON as on the wire, and a request
// that is not its endpoint's type (an unknown field) is refused.
type adminServer struct {
	routes map[string]func(req []byte) (any, error)
	seen   []string
}

// handle routes ep on s.
func handle[Req, Resp any](s *adminServer, ep syncproto.Endpoint[Req, Resp], do func(Req) (Resp, error)) {
	s.routes[ep.Path] = func(b []byte) (any, error) {
		var req Req
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&req); err != nil {
			return nil, &syncproto.Error{Code: admin.RefusedInvalid, Message: err.Error()}
		}
		return do(req)
	}
}

// Call implements AdminAPI.
func (s *adminServer) Call(_ context.Context, path string, req, resp any) error {
	s.seen = append(s.seen, path)
	route, ok := s.routes[path]
	if !ok {
		return fmt.Errorf("no endpoint %s", path)
	}
	b, _ := json.Marshal(req)
	out, err := route(b)
	if err != nil {
		return err
	}
	b, _ = json.Marshal(out)
	return json.Unmarshal(b, resp)
}

// TestAdminPage: the admin screen signs in by the admin API's
// definitions, says a refused sign-in in words, shows what the role may
// see (devices; the audit log, read at once for a role that reads it),
// and signs out when the server says the session ended.
func TestAdminPage(t *testing.T) {
	s := &adminServer{routes: map[string]func([]byte) (any, error){}}
	ended := false
	handle(s, admin.API.SignIn, func(in admin.SignIn) (admin.Session, error) {
		if in.Password != "right" {
			return admin.Session{}, &syncproto.Error{Code: admin.RefusedSignIn}
		}
		return admin.Session{Token: "tok", Staff: admin.Staff{ID: in.ID, Name: "山田", Role: admin.Administrator}}, nil
	})
	handle(s, admin.API.Overview, func(r admin.Request) (admin.Overview, error) {
		if r.Token != "tok" || ended {
			return admin.Overview{}, &syncproto.Error{Code: admin.RefusedSession}
		}
		return admin.Overview{Devices: []admin.Device{{ID: "tab-1", Facility: "kaga-playpark", Role: "playpark"}}}, nil
	})
	handle(s, admin.API.Audit, func(r admin.AuditRequest) (admin.Audit, error) {
		return admin.Audit{Total: 1, Entries: []admin.Entry{{Seq: 1, Actor: "yamada", Action: "staff.signin"}}}, nil
	})
	p := &adminPage{live: liveAs(t, enroll.Enrollment{}), api: s}
	e := app.NewTestEngine()
	if err := e.Load(&adminMounted{p}); err != nil {
		t.Fatal(err)
	}
	until(t, e, "the log folded", func() bool { return p.st != nil })

	p.id, p.password = "yamada", "wrong"
	press(e, &p.live, p.signIn)
	until(t, e, "refused", func() bool { return !p.busy })
	shows(t, p, "admin-error", "職員IDかパスワードが違います")
	if p.sess != nil {
		t.Fatal("signed in with a wrong password")
	}

	p.password = "right"
	press(e, &p.live, p.signIn)
	until(t, e, "signed in, overview and log read", func() bool { return !p.busy && p.log != nil })
	shows(t, p, "signed-in", "山田")
	shows(t, p, "admin-error", "")
	shows(t, p, "audit-total", "1")
	if html := app.HTMLString(p); !strings.Contains(html, `data-device="tab-1"`) || p.password != "" {
		t.Errorf("after sign-in: the device listed %v, password kept %q", strings.Contains(html, `data-device="tab-1"`), p.password)
	}

	ended = true
	press(e, &p.live, p.load)
	until(t, e, "refused", func() bool { return !p.busy })
	shows(t, p, "admin-error", "ログインの有効期限が切れました")
	shows(t, p, "signed-in", "")
	if p.sess != nil || p.log != nil {
		t.Error("still signed in after the session ended")
	}
	want := []string{admin.SignInPath, admin.SignInPath, admin.OverviewPath, admin.AuditPath, admin.OverviewPath}
	if strings.Join(s.seen, " ") != strings.Join(want, " ") {
		t.Errorf("calls %v, want %v", s.seen, want)
	}
}

// adminMounted mounts the admin page in go-app's test engine.
type adminMounted struct{ *adminPage }

func (m *adminMounted) OnPreRender(ctx app.Context) { m.OnMount(ctx) }
