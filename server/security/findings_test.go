package security

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"smartpass.city/smartpass/server/serverproc"
)

// finding is one known attack: its number (issue 16's review, or
// issue 19's for what came with the wallet, the hometown tax and the
// hospital), what it does, and the test that performs it (in this
// package unless pkg names another, where an in-process test attacks
// what this package cannot reach from outside).
type finding struct {
	id, attack string
	pkg, test  string
}

// findings lists every known attack and where it is performed.
// TestFindingsAreTested keeps it true: each test named exists, and each
// attack test of this package is listed.
var findings = []finding{
	{"16-1", "a city officer's session mints an audit device (the whole log)", "", "TestOfficerCannotMintAuditDevice"},
	{"16-2", "a holder invents a child who then enters the play park free", "", "TestHouseholdInventedChild"},
	{"16-2", "a holder adds family members without end", "", "TestHouseholdCap"},
	{"16-2", "a card linked by its certificate alone, a foreign or spent nonce, another key's proof", "", "TestHouseholdCardLinkProof"},
	{"16-2", "one card linked to two residents", "", "TestHouseholdCardOneResident"},
	{"16-3", "staff ids enumerated by the sign-in's answers or timing", "", "TestSignInSameAnswer"},
	{"16-3", "an administrator locked out by wrong passwords", "", "TestSignInNoLockout"},
	{"16-3", "the server's CPU spent on password hashes by a flood of sign-ins", "", "TestSignInFlood"},
	{"16-3", "text/plain and form posts from another site to the sign-in and the accounts", "", "TestCrossSitePostsAreRefused"},
	{"16-4", "bodies trickled a byte at a time", "", "TestTrickledBodiesAreCutOff"},
	{"16-4", "idle kept-alive connections held open", "", "TestIdleConnectionIsClosed"},
	{"16-4", "sync sockets kept open unauthenticated by pongs", "", "TestUnauthenticatedSocketsAreCutOff"},
	{"16-4", "(the fix's limit) long downloads and sessions cut by the timeouts", "", "TestLongTransfersOutliveTheTimeouts"},
	{"16-5", "strangers flood the audit log with refusals", "", "TestAuditFlood"},
	{"16-6", "a device plants a rejection of another device's op", "", "TestDevicePlantsRejection"},
	{"16-7", "shelter records with bodies the fold cannot read", "", "TestShelterRecordsValidated"},
	{"16-8", "answers without CSP, framing and sniffing protection", "", "TestSecurityHeaders"},
	{"16-8", "passwords and signed requests over plain HTTP", "", "TestPrivateEndpointsNeedTLS"},
	{"16-9a", "set-up codes guessed without limit", "", "TestSetupCodeGuessing"},
	{"16-9d", "the demo's simulated reader fed oversized messages", "", "TestDemoUSBMessageLimit"},
	{"known", "a forged X-Forwarded-For believed from anyone but a trusted proxy", "server/httpguard", "TestResolve"},
	{"known", "sync sessions with a wrong key, a revoked device, a replayed challenge", "server/hub", "TestAuthentication"},
	{"known", "an op outside the device's role or facility", "server/hub", "TestScopeOnPush"},
	{"19-G", "a POST endpoint without the guard or its authentication (every route of the running server)", "", "TestEveryPostIsGuarded"},
	{"19-W1..W7", "the wallet: another household's top-up, statement or pass; forged, absent or borrowed signatures; a replay; cross-site, form, text/plain; an amount the gateway did not receive", "", "TestWalletAttacks"},
	{"19-W12", "the wallet's limits: another household's member's set; one's own set cross-site or as text/plain", "", "TestWalletAttacks"},
	{"19-W8", "a card number sent instead of the gateway's token; a confirmation for an intent this server never made", "server/cardpay", "TestTopUpAgainstStripeMock"},
	{"19-W9", "a webhook with a forged signature, another event, a stranger's intent", "server/cardpay", "TestWebhook"},
	{"19-W10", "an online payment the wallet cannot make, a refund larger than its payment or from another shop", "server/ledger", "TestRefusals"},
	{"19-W11", "a payment op resent to be posted twice", "server/ledger", "TestResendPostsOnce"},
	{"19-F1..F5", "the one-stop application: another's card, another's donation, cross-site, text/plain, its card nonce replayed; another's donor page", "", "TestDonorAttacks"},
	{"19-F6", "the individual number found outside the vault (store files, a backup, the server log, the audit log)", "server/furusato", "TestDonorAndCity"},
	{"19-V1..V6", "the hospital: another household's booking, answers, cancel, consent; a play park's tablet and another hospital's reception on a hospital's endpoints; cross-site", "", "TestHospitalAttacks"},
	{"19-V7", "each request from somebody who may not (29 cases, in process)", "server/visits", "TestRefusals"},
}

// TestFindingsAreTested keeps the table true: every test it names is
// declared where it says, and every test of this package that attacks
// (all but TestMain and this one) is in the table.
func TestFindingsAreTested(t *testing.T) {
	root, err := serverproc.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	declared := func(pkg string) map[string]bool {
		files, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(pkg), "*_test.go"))
		out := map[string]bool{}
		re := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]+)\(`)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				out[m[1]] = true
			}
		}
		return out
	}
	listed := map[string]bool{}
	for _, f := range findings {
		pkg := f.pkg
		if pkg == "" {
			pkg = "server/security"
			listed[f.test] = true
		}
		if !declared(pkg)[f.test] {
			t.Errorf("finding %s (%s): no %s in %s", f.id, f.attack, f.test, pkg)
		}
	}
	for name := range declared("server/security") {
		if name == "TestMain" || name == "TestFindingsAreTested" || listed[name] {
			continue
		}
		t.Errorf("%s attacks the server but names no finding in the table", name)
	}
	if len(findings) == 0 || !strings.HasPrefix(findings[0].id, "16-") {
		t.Fatal("the findings table is empty")
	}
}
