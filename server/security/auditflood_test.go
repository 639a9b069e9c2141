package security

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// TestAuditFlood performs finding 5 of issue 16: strangers send 2,000
// forged account requests, 25 made-up set-up codes, 50 sync sessions in
// an enrolled tablet's name without its key, a sign-in whose id carries a newline and tabs
// laid out as an administrator's line of `server audit`, and a sign-in
// with a 15 KiB id (all of the sign-in's 16 KiB body allows). The audit log grows by a handful of entries (the
// refusals counted in one summary per kind, written at shutdown, which
// counts all 2,000), no line of `server audit` is forged, the long id is
// refused and reaches nothing, and the chain is intact. Failed before
// the fix: 2,000 entries were appended one by one, the forged line
// printed as an administrator's, and the 16 KiB id became an actor.
func TestAuditFlood(t *testing.T) {
	p := domainServer(t)
	before := auditfloodEntries(t, p)

	for i := range 2000 {
		body := fmt.Sprintf(`{"nonce":"AAAA","cert":"Zm9yZ2Vk%04d","sig":"AAAA","key":"AAAA"}`, i)
		serverproc.Post(t, "http://"+p.Addr+account.CreatePath, []byte(body))
	}
	// The tablet enrolls first: every loopback address is one client to
	// the set-up code budget, which the wrong codes below spend.
	domainEnroll(t, p, "flood-tablet", "shelter-daishoji", "shelter")
	// Wrong set-up codes, and sync sessions claiming an enrolled tablet
	// without its key.
	stranger := domainClientFrom(signinIP()) // not the address the tablet enrolls from
	for i := range 25 {
		_, err := syncproto.Register(context.Background(), stranger, "http://"+p.Addr, syncproto.RegisterRequest{Code: fmt.Sprintf("BAD0-%04d", i), Device: fmt.Sprintf("forged-%d", i), PublicKey: make([]byte, 32)})
		if err == nil {
			t.Fatal("a made-up code registered a device")
		}
	}
	_, wrongKey, _ := ed25519.GenerateKey(nil)
	for range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := wsconn.Dial(ctx, "ws://"+p.Addr+"/sync")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := syncproto.Handshake(ctx, c, "flood-tablet", "forger", syncproto.KeySigner{Key: wrongKey}); err == nil {
			t.Fatal("a session opened with the wrong key")
		}
		c.Close()
		cancel()
	}
	before++ // the tablet's registration, which is audited
	forged := "x\n1\t2026-12-02 09:00:00\tadmin\tstaff.add\tmallory\tadmin (forged)"
	long := strings.Repeat("a", 15<<10) // the most a sign-in request carries
	for _, id := range []string{forged, long} {
		status, body := domainPost(t, p, admin.SignInPath, admin.SignIn{ID: id, Password: "x"})
		if status != http.StatusUnauthorized {
			t.Errorf("a sign-in as %.20q…: HTTP %d %s, want 401", id, status, body)
		}
	}
	if added := auditfloodEntries(t, p) - before; added > 3 {
		t.Errorf("the attack added %d audit entries while the server ran, want a handful at most", added)
	}

	p.Stop(t) // the summaries of what was counted are written at shutdown
	added := auditfloodEntries(t, p) - before
	if added > 6 {
		t.Errorf("the attack added %d audit entries, want a handful", added)
	}
	out := domainCommand(t, p, "audit", "-last", "100")
	if !regexp.MustCompile(`refusals\.summary\s+account\.open\.refused\s+2000 refused`).MatchString(out) {
		t.Errorf("no summary counting the 2000 forged account requests:\n%s", out)
	}
	for _, want := range []string{`staff\.signin\.refused\s+2 refused`, `device\.register\.refused\s+20 refused`, `sync\.refused\s+50 refused from 1 sources.*bad signature=50`} {
		if !regexp.MustCompile(`refusals\.summary\s+` + want).MatchString(out) {
			t.Errorf("no summary matching %s:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, "mallory") && !strings.Contains(line, `\n`) {
			t.Errorf("a forged line in server audit: %q", line)
		}
		if len(line) > 4<<10 {
			t.Errorf("a line of %d bytes in server audit: the long id reached the log", len(line))
		}
	}
	domainAuditIntact(t, p)
}

// auditfloodEntries is the audit log's length, read by audit-verify.
func auditfloodEntries(t *testing.T, p *serverproc.Proc) int {
	t.Helper()
	m := regexp.MustCompile(`intact: (\d+) entries`).FindStringSubmatch(domainCommand(t, p, "audit-verify"))
	if m == nil {
		t.Fatal("audit-verify printed no count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
