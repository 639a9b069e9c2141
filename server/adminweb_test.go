package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// apiCall posts req to the admin API and decodes the answer into resp;
// a refusal comes back as its code ("" when none).
func apiCall(t *testing.T, addr, path string, req, resp any) string {
	t.Helper()
	b, _ := json.Marshal(req)
	status, body := serverproc.Post(t, "http://"+addr+path, b)
	if status != http.StatusOK {
		var e syncproto.Error
		if json.Unmarshal(body, &e) != nil || e.Code == "" {
			t.Fatalf("%s: HTTP %d %s", path, status, body)
		}
		return e.Code
	}
	if err := json.Unmarshal(body, resp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ""
}

// TestStaffRoles: staff accounts from the command line sign in to the
// admin API, each role does exactly its duties, a device officer of one
// shelter sees and touches only its tablets, a revoked account's session
// ends at once, and every sign-in, change and read of the audit log is in
// the audit log under the staff member's name.
func TestStaffRoles(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	if !strings.Contains(p.Log(), "demo administrator created") {
		t.Fatalf("the demo server seeded no administrator:\n%s", p.Log())
	}

	out, err := command(t, "staff", "-data", data, "-add", "yamada", "-name", "防災課 山田", "-role", "devices", "-facility", testShelter)
	m := regexp.MustCompile(`(?m)^([a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5})$`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("staff -add: %v\n%s", err, out)
	}
	officerPW := m[1]
	auditorPW := p.Staff(t, admin.Staff{ID: "kansa", Name: "監査室 佐藤", Role: admin.Auditor})
	if out, err := command(t, "staff", "-data", data, "-add", "tanaka", "-name", "田中", "-role", "root"); err == nil {
		t.Fatalf("a staff account with no such role:\n%s", out)
	}
	if out, err := command(t, "staff", "-data", data); err != nil || !strings.Contains(out, "yamada") || !strings.Contains(out, "(all)") {
		t.Fatalf("staff list: %v\n%s", err, out)
	}

	signIn := func(id, password string) (admin.Session, string) {
		var s admin.Session
		code := apiCall(t, addr, admin.SignInPath, admin.SignIn{ID: id, Password: password}, &s)
		return s, code
	}
	if _, code := signIn("yamada", "kaga2026"); code != admin.RefusedSignIn {
		t.Fatalf("a wrong password: %q", code)
	}
	if _, code := signIn("nobody", officerPW); code != admin.RefusedSignIn {
		t.Fatalf("an unknown id: %q", code)
	}
	officer, code := signIn("yamada", officerPW)
	if code != "" || officer.Staff.Role != admin.DeviceOfficer {
		t.Fatalf("the officer's sign-in: %+v %q", officer, code)
	}
	auditor, _ := signIn("kansa", auditorPW)
	tok := func(s admin.Session) admin.Request { return admin.Request{Token: s.Token} }

	// Tablets of two facilities.
	shelterTab := p.Enroll(t, "tab-shelter", testShelter, "shelter")
	p.Enroll(t, "tab-medical", "kaga-medical", "reception")
	serverproc.Dial(t, addr, "tab-shelter", shelterTab) // a session: its last sync

	var ov admin.Overview
	if code := apiCall(t, addr, admin.OverviewPath, tok(officer), &ov); code != "" {
		t.Fatal(code)
	}
	if len(ov.Devices) != 1 || ov.Devices[0].ID != "tab-shelter" || ov.Devices[0].LastSync.IsZero() || len(ov.Facilities) != 1 || ov.Staff != nil {
		t.Fatalf("the officer's overview: %+v", ov)
	}
	var c admin.Code
	for _, tc := range []struct {
		who  admin.Session
		path string
		req  any
		want string
	}{
		{officer, admin.CodePath, admin.CodeRequest{Request: tok(officer), Facility: "kaga-medical", Role: "reception"}, admin.RefusedForbidden},
		{officer, admin.RevokePath, admin.RevokeRequest{Request: tok(officer), ID: "tab-medical"}, admin.RefusedForbidden},
		{officer, admin.CodePath, admin.CodeRequest{Request: tok(officer), Facility: testShelter, Role: "reception"}, admin.RefusedInvalid},
		{officer, admin.AuditPath, admin.AuditRequest{Request: tok(officer)}, admin.RefusedForbidden},
		{officer, admin.RevokePath, map[string]any{"token": officer.Token, "id": 5}, admin.RefusedInvalid},
		{officer, admin.StaffAddPath, admin.StaffRequest{Request: tok(officer), Staff: admin.Staff{ID: "x1", Name: "x", Role: admin.Administrator}}, admin.RefusedForbidden},
		{officer, admin.FacilityPath, admin.FacilityRequest{Request: tok(officer), Facility: kumasaka}, admin.RefusedForbidden},
		{auditor, admin.CodePath, admin.CodeRequest{Request: tok(auditor), Facility: testShelter, Role: "shelter"}, admin.RefusedForbidden},
		{auditor, admin.RevokePath, admin.RevokeRequest{Request: tok(auditor), ID: "tab-shelter"}, admin.RefusedForbidden},
		{admin.Session{Token: "made-up"}, admin.OverviewPath, admin.Request{Token: "made-up"}, admin.RefusedSession},
		{officer, admin.CodePath, admin.CodeRequest{Request: tok(officer), Facility: testShelter, Role: "shelter"}, ""},
	} {
		if got := apiCall(t, addr, tc.path, tc.req, &c); got != tc.want {
			t.Errorf("%s as %s: %q, want %q", tc.path, tc.who.Staff.ID, got, tc.want)
		}
	}
	if !regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}$`).MatchString(c.Code) {
		t.Fatalf("the officer's code: %+v", c)
	}
	var done struct{}
	if code := apiCall(t, addr, admin.RevokePath, admin.RevokeRequest{Request: tok(officer), ID: "tab-shelter"}, &done); code != "" {
		t.Fatalf("the officer revokes the shelter's tablet: %q", code)
	}
	wc, err := wsconn.Dial(context.Background(), "ws://"+addr+"/sync")
	if err == nil {
		_, err = syncproto.Handshake(context.Background(), wc, "tab-shelter", "test", shelterTab)
		wc.Close()
	}
	var ef *syncproto.Error
	if !errors.As(err, &ef) || ef.Code != syncproto.CodeRevoked {
		t.Fatalf("the revoked tablet connects: %v", err)
	}

	// The administrator adds a shelter (and is told what is wrong with
	// a bad one), then closes the officer's account: his session ends.
	adm, _ := signIn("admin", resetPassword(t, data, "admin"))
	var f facility.Facility
	bad := kumasaka
	bad.ID = "Kumasaka Hall"
	if code := apiCall(t, addr, admin.FacilityPath, admin.FacilityRequest{Request: tok(adm), Facility: bad}, &f); code != admin.RefusedInvalid {
		t.Fatalf("a facility id with spaces: %q", code)
	}
	if code := apiCall(t, addr, admin.FacilityPath, admin.FacilityRequest{Request: tok(adm), Facility: kumasaka}, &f); code != "" || f != kumasaka {
		t.Fatalf("add a shelter: %q %+v", code, f)
	}
	if out, err := command(t, "facilities", "-data", data); err != nil || !strings.Contains(out, "熊坂地区会館") {
		t.Fatalf("the new shelter is not among the facilities: %v\n%s", err, out)
	}
	if code := apiCall(t, addr, admin.StaffRevokePath, admin.RevokeRequest{Request: tok(adm), ID: "yamada"}, &done); code != "" {
		t.Fatal(code)
	}
	if code := apiCall(t, addr, admin.OverviewPath, tok(officer), &ov); code != admin.RefusedSession {
		t.Fatalf("a revoked officer's session: %q", code)
	}
	if _, code := signIn("yamada", officerPW); code != admin.RefusedSignIn {
		t.Fatalf("a revoked officer signs in: %q", code)
	}

	var log admin.Audit
	if code := apiCall(t, addr, admin.AuditPath, admin.AuditRequest{Request: tok(auditor)}, &log); code != "" {
		t.Fatal(code)
	}
	var seen []string
	for _, e := range log.Entries {
		seen = append(seen, e.Actor+" "+e.Action+" "+e.Subject)
	}
	for _, want := range []string{
		"admin staff.add yamada", "staff:yamada staff.signin yamada", "staff:yamada device.code shelter-daishoji",
		"staff:yamada device.revoke tab-shelter", "staff:admin facility.put shelter-kumasaka", "staff:admin staff.revoke yamada", "staff:kansa audit.read all",
	} {
		if !slices.Contains(seen, want) {
			t.Errorf("the audit log lacks %q:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}

// kumasaka is a shelter the administrator adds.
var kumasaka = facility.Facility{ID: "shelter-kumasaka", Kind: facility.Shelter, NameJA: "熊坂地区会館", NameEN: "Kumasaka Hall", Capacity: 80}

// resetPassword gives a staff account a new password with `server staff
// -reset` and returns it.
func resetPassword(t *testing.T, data, id string) string {
	t.Helper()
	out, err := command(t, "staff", "-data", data, "-reset", id)
	m := regexp.MustCompile(`(?m)^([a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5})$`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("staff -reset %s: %v\n%s", id, err, out)
	}
	return m[1]
}

// TestDemoBanner: a demo server ends its start-up with one marked block
// naming the address to open and the admin screen's password; that
// password signs in, and the next start gives a new one that replaces it.
// The password is never a log line.
func TestDemoBanner(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	banner := regexp.MustCompile(`(?s)┏━+\n(.*?)┗━+`)
	pw := regexp.MustCompile(`パスワード / password: (\S+)`)
	start := func() (*serverproc.Proc, string, string) {
		addr := serverproc.FreeAddr(t)
		p := startServer(t, addr, "-data", data, "-dev", "-demo")
		p.WaitHealthy(t)
		var block string
		for i := 0; i < 50 && block == ""; i++ { // stdout may trail /healthz a moment
			if m := banner.FindStringSubmatch(p.Log()); m != nil {
				block = m[1]
			} else {
				time.Sleep(100 * time.Millisecond)
			}
		}
		m := pw.FindStringSubmatch(block)
		if m == nil || !strings.Contains(block, "http://"+addr+"/") || !strings.Contains(block, "http://"+addr+"/admin") {
			t.Fatalf("no start-up block with the address and the password:\n%s", p.Log())
		}
		for _, line := range strings.Split(p.Log(), "\n") {
			if strings.Contains(line, m[1]) && !strings.HasPrefix(line, "┃") {
				t.Fatalf("the password appears outside the block: %q", line)
			}
		}
		return p, addr, m[1]
	}
	signIn := func(addr, password string) string {
		var s admin.Session
		return apiCall(t, addr, admin.SignInPath, admin.SignIn{ID: "admin", Password: password}, &s)
	}
	p, addr, first := start()
	if code := signIn(addr, first); code != "" {
		t.Fatalf("the banner's password does not sign in: %s", code)
	}
	p.Stop(t)
	_, addr, second := start()
	if second == first {
		t.Fatal("a restarted demo server kept the old password")
	}
	if code := signIn(addr, first); code == "" {
		t.Fatal("the previous start's password still signs in")
	}
	if code := signIn(addr, second); code != "" {
		t.Fatalf("the new password does not sign in: %s", code)
	}
}
