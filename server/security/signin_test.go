package security

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/staff"
)

// signinIPs hands out loopback addresses, one per simulated caller.
var signinIPs atomic.Int32

func signinIP() string {
	n := signinIPs.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 10+n/250, 1+n%250)
}

// signinAnswer is what a caller learns from one sign-in.
type signinAnswer struct {
	status int
	body   string
	took   time.Duration
}

// TestSignInSameAnswer performs finding 3 (enumeration) of issue 16: a
// stranger signs in with a known id and a wrong password, an unknown id,
// a revoked account's right password and an id that cannot exist, and
// then hammers a known and an unknown id alike. Every answer is the same
// status and body, and they take the same time (one password hash each;
// medians within a tolerance). Failed before the fix: the known id was
// locked (429) on its fifth wrong password while the unknown one got 401,
// and a revoked account answered without hashing (several times faster).
func TestSignInSameAnswer(t *testing.T) {
	p := domainServer(t)
	// Three accounts of each kind, two tries each: every try is under
	// the account's back-off, so every one hashes.
	type try struct{ kind, id, password string }
	var tries []try
	for i := range 3 {
		known := fmt.Sprintf("known%d", i)
		p.Staff(t, admin.Staff{ID: known, Name: "既存", Role: admin.Auditor})
		retired := fmt.Sprintf("retired%d", i)
		password := p.Staff(t, admin.Staff{ID: retired, Name: "退職者", Role: admin.Auditor})
		domainCommand(t, p, "staff", "-revoke", retired)
		tries = append(tries,
			try{"known id, wrong password", known, "wrong-password"},
			try{"unknown id", fmt.Sprintf("ghost%d", i), "wrong-password"},
			try{"revoked account, right password", retired, password},
			try{"an id that cannot exist", fmt.Sprintf("Ghost%d\n\t", i), "wrong-password"},
		)
	}
	p.Staff(t, admin.Staff{ID: "victim", Name: "標的", Role: admin.Administrator})
	answers := map[string][]signinAnswer{}
	for range 2 {
		for _, try := range tries {
			status, body, took := domainSignInFrom(t, p, signinIP(), try.id, try.password)
			answers[try.kind] = append(answers[try.kind], signinAnswer{status, body, took})
		}
	}
	// Then the same wrong password many times at a known and an unknown
	// id, from many addresses, as an attacker locking an account would.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range []string{"victim", "nobody"} {
		wg.Go(func() {
			for range 6 {
				status, body, took := domainSignInFrom(t, p, signinIP(), id, "wrong-password")
				mu.Lock()
				answers["hammering "+id] = append(answers["hammering "+id], signinAnswer{status, body, took})
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	want := answers[tries[0].kind][0]
	if want.status != http.StatusUnauthorized {
		t.Errorf("a wrong password: HTTP %d %s", want.status, want.body)
	}
	for name, as := range answers {
		for i, a := range as {
			if a.status != want.status || a.body != want.body {
				t.Errorf("%s, try %d: HTTP %d %s; a wrong password got HTTP %d %s", name, i+1, a.status, a.body, want.status, want.body)
			}
		}
	}
	median := func(as []signinAnswer) time.Duration {
		ds := make([]time.Duration, len(as))
		for i, a := range as {
			ds[i] = a.took
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	base := median(answers[tries[0].kind])
	for _, kind := range []string{tries[1].kind, tries[2].kind} { // a malformed id reads no account
		m := median(answers[kind])
		if m < base/2 || m > base*2 {
			t.Errorf("%s takes %s (median), a wrong password %s: timing tells them apart", kind, m, base)
		}
		t.Logf("median of %s: %s; of a wrong password: %s", kind, m, base)
	}
	domainAuditIntact(t, p)
}

// TestSignInNoLockout performs finding 3 (lock-out) of issue 16: a
// stranger sends wrong passwords for the administrator's id from two
// addresses; the administrator, at another address, then signs in with
// the right password and gets in after at most the account's short
// back-off. Failed before the fix: the fifth wrong password locked the
// account for fifteen minutes (429), the administrator's too.
func TestSignInNoLockout(t *testing.T) {
	p := domainServer(t)
	password := p.Staff(t, admin.Staff{ID: "boss", Name: "管理者", Role: admin.Administrator})
	stranger := []string{signinIP(), signinIP()}
	for i := range 2 * staff.FreeTries {
		domainSignInFrom(t, p, stranger[i%2], "boss", "guess-"+fmt.Sprint(i))
	}
	status, body, took := domainSignInFrom(t, p, signinIP(), "boss", password)
	if status != http.StatusOK {
		t.Fatalf("the administrator at another address: HTTP %d %s", status, body)
	}
	if took > staff.MaxAccountDelay+10*time.Second {
		t.Errorf("the administrator waited %s, more than the account's back-off (%s)", took, staff.MaxAccountDelay)
	}
	t.Logf("the administrator got in after %s", took)
}

// TestSignInFlood performs finding 3 (hashing) of issue 16: 32 sign-ins
// at once. The server hashes at most its cap at a time with a short
// queue, answers the rest 503 at once without hashing, and keeps
// answering /healthz meanwhile. Failed before the fix: all 32 were
// hashed at once (no 503), holding every core.
func TestSignInFlood(t *testing.T) {
	p := domainServer(t)
	const flood = 32
	var wg sync.WaitGroup
	statuses := make(chan int, flood)
	for i := range flood {
		ip := signinIP()
		wg.Go(func() {
			status, _, _ := domainSignInFrom(t, p, ip, fmt.Sprintf("flood%d", i), "wrong-password")
			statuses <- status
		})
	}
	done := make(chan struct{})
	var slowest time.Duration
	go func() {
		defer close(done)
		for len(statuses) < flood {
			start := time.Now()
			resp, err := http.Get("http://" + p.Addr + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			slowest = max(slowest, time.Since(start))
			time.Sleep(50 * time.Millisecond)
		}
	}()
	wg.Wait()
	<-done
	close(statuses)
	busy := 0
	for s := range statuses {
		switch s {
		case http.StatusServiceUnavailable:
			busy++
		case http.StatusUnauthorized:
		default:
			t.Errorf("a sign-in of the flood: HTTP %d", s)
		}
	}
	hashed := flood - busy
	if limit := staff.MaxHashing + staff.MaxHashQueue + 2; hashed > limit {
		t.Errorf("%d of %d sign-ins were hashed; the cap and its queue allow %d", hashed, flood, limit-2)
	}
	if slowest > 2*time.Second {
		t.Errorf("/healthz took %s during the flood", slowest)
	}
	t.Logf("%d hashed, %d told busy; slowest /healthz %s", hashed, busy, slowest)
}
