package security

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/serverproc"
)

// TestAuditFlood performs finding 5 of issue 16: strangers send 2,000
// forged account requests, a sign-in whose id carries a newline and tabs
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
	if added > 5 {
		t.Errorf("the attack added %d audit entries, want a handful", added)
	}
	out := domainCommand(t, p, "audit", "-last", "100")
	if !regexp.MustCompile(`refusals\.summary\s+account\.open\.refused\s+2000 refused`).MatchString(out) {
		t.Errorf("no summary counting the 2000 forged account requests:\n%s", out)
	}
	if !regexp.MustCompile(`refusals\.summary\s+staff\.signin\.refused\s+2 refused`).MatchString(out) {
		t.Errorf("no summary counting the 2 refused sign-ins:\n%s", out)
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
