package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
)

// TestRidershipReport: the operator's ridership CSV is a staff request
// in a session (the token in its JSON body, as every admin request):
// an administrator and the operator's own device officer get the CSV
// for Excel, headed in Japanese and English, and each read is audited
// under their name; a device officer of another facility is refused,
// and so are a session that ended, a day that is not a day and an
// operator with no network, each in words and with nothing audited as
// read.
func TestRidershipReport(t *testing.T) {
	s := newTestServer(t, nil)
	ops, err := commands.DemoTransit()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.API.Commands().Writer.Write(context.Background(), ops, nil); err != nil {
		t.Fatal(err)
	}
	session := func(st admin.Staff) string {
		pw := s.Proc.Staff(t, st)
		b, _ := json.Marshal(admin.SignIn{ID: st.ID, Password: pw})
		status, body := serverproc.Post(t, s.URL+admin.SignInPath, b)
		var sess admin.Session
		if status != http.StatusOK || json.Unmarshal(body, &sess) != nil {
			t.Fatalf("sign in %s: %d %s", st.ID, status, body)
		}
		return sess.Token
	}
	boss := session(admin.Staff{ID: "boss", Name: "交通政策課 加賀", Role: admin.Administrator})
	ours := session(admin.Staff{ID: "bus-officer", Name: "デモ交通 山中", Role: admin.DeviceOfficer, Facility: facility.DemoOperator})
	theirs := session(admin.Staff{ID: "shelter-officer", Name: "防災課 山田", Role: admin.DeviceOfficer, Facility: "shelter-daishoji"})

	for _, tc := range []struct {
		name, token, operator, day string
		status                     int
		code                       string
	}{
		{"the administrator", boss, facility.DemoOperator, "2026-06-10", http.StatusOK, ""},
		{"the operator's own officer", ours, facility.DemoOperator, "2026-06-10", http.StatusOK, ""},
		{"another facility's officer", theirs, facility.DemoOperator, "2026-06-10", http.StatusForbidden, admin.RefusedForbidden},
		{"no session", "not-a-token", facility.DemoOperator, "2026-06-10", http.StatusUnauthorized, admin.RefusedSession},
		{"a day that is not a day", boss, facility.DemoOperator, "10/06/2026", http.StatusBadRequest, admin.RefusedInvalid},
		{"an operator with no network", boss, "kaga-nobus", "2026-06-10", http.StatusBadRequest, admin.RefusedInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.auditEntries(t)
			b, _ := json.Marshal(transit.RidershipRequest{Request: admin.Request{Token: tc.token}, Operator: tc.operator, Day: tc.day})
			status, body := serverproc.Post(t, s.URL+transit.RidershipPath, b)
			if status != tc.status {
				t.Fatalf("%d %s, want %d", status, body, tc.status)
			}
			after := s.auditEntries(t)
			if tc.status != http.StatusOK {
				var e syncproto.Error
				if json.Unmarshal(body, &e) != nil || e.Code != tc.code || e.Message == "" {
					t.Errorf("refused with %s, want %s in words", body, tc.code)
				}
				if after != before {
					t.Errorf("a refused read added %d audit entries", after-before)
				}
				return
			}
			if !bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}) || !strings.Contains(string(body), "区分 class") || !strings.Contains(string(body), "人数 rides") {
				t.Errorf("the CSV %q: want Excel's BOM and the Japanese and English header", body)
			}
			if after != before+1 {
				t.Errorf("the read added %d audit entries, want 1", after-before)
			}
		})
	}
}
