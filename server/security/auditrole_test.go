package security

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestOfficerCannotMintAuditDevice performs finding 1 of issue 16: a
// device officer (one of every facility, and one limited to the HQ)
// asks the admin API for a set-up code of the audit role, which pulls
// the whole log. Both are refused, while a code for a role with a
// screen at the same facility is still issued; and a device set up with
// such a code cannot pull the whole log. Failed before the fix: the
// officer got an audit code and read every op.
func TestOfficerCannotMintAuditDevice(t *testing.T) {
	p := domainServer(t)
	officers := map[string]string{
		"dev-all": p.Staff(t, admin.Staff{ID: "dev-all", Name: "端末担当", Role: admin.DeviceOfficer}),
		"dev-hq":  p.Staff(t, admin.Staff{ID: "dev-hq", Name: "本部の端末担当", Role: admin.DeviceOfficer, Facility: serverproc.Auditor}),
	}
	for id, password := range officers {
		token := domainSignIn(t, p, id, password)
		ask := func(role string) (int, admin.Code) {
			status, body := domainPost(t, p, admin.CodePath, admin.CodeRequest{Request: admin.Request{Token: token}, Facility: serverproc.Auditor, Role: role})
			var c admin.Code
			if status == http.StatusOK {
				json.Unmarshal(body, &c)
			}
			return status, c
		}
		if status, c := ask("audit"); status != http.StatusForbidden || c.Code != "" {
			t.Errorf("%s asked for an audit code: HTTP %d, code %q; want 403 and none", id, status, c.Code)
			if c.Code != "" {
				domainPullAll(t, p, id+"-audit", c.Code)
			}
		}
		status, c := ask("hq")
		if status != http.StatusOK || c.Code == "" {
			t.Fatalf("%s asked for an hq code: HTTP %d", id, status)
		}
		// The code of a screen role gives that role only: the whole log
		// stays out of reach.
		if err := domainPullAll(t, p, id+"-hq", c.Code); err == nil {
			t.Errorf("an hq device set up by %s pulled the whole log", id)
		}
	}
}

// domainPullAll enrolls device with code and pulls the whole log with
// it, returning the refusal (nil when the log was read).
func domainPullAll(t *testing.T, p *serverproc.Proc, device, code string) error {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := syncproto.Register(ctx, http.DefaultClient, "http://"+p.Addr, syncproto.RegisterRequest{Code: code, Device: device, PublicKey: pub}); err != nil {
		t.Fatalf("enroll %s: %v", device, err)
	}
	ops, err := wsconn.PullAll(ctx, "ws://"+p.Addr+"/sync", device, syncproto.KeySigner{Key: priv})
	if err == nil {
		t.Logf("%s read %d ops of the whole log", device, len(ops))
	}
	return err
}
