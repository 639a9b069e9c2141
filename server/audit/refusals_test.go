package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRefusalsSummarised: two thousand refusals become one entry per
// action, with the count, the distinct sources and the reasons; the next
// summary starts from nothing.
func TestRefusalsSummarised(t *testing.T) {
	a, _ := newLog(t)
	for i := range 2000 {
		a.Refused("account.open.refused", fmt.Sprintf("192.0.2.%d", i%50), "invalid")
	}
	a.Refused("staff.signin.refused", "198.51.100.1", "signin_failed")
	if err := a.Summarise(); err != nil {
		t.Fatal(err)
	}
	var got []Entry
	n, err := a.Verify(func(e Entry) { got = append(got, e) })
	if err != nil || n != 2 {
		t.Fatalf("Verify = %d, %v; want the 2 summaries", n, err)
	}
	if e := got[0]; e.Actor != "server" || e.Action != ActionSummary || e.Subject != "account.open.refused" ||
		!strings.HasPrefix(e.Detail, "2000 refused from 50 sources") || !strings.HasSuffix(e.Detail, "invalid=2000") {
		t.Fatalf("summary = %+v", e)
	}
	if err := a.Summarise(); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Verify(nil); n != 2 {
		t.Fatalf("a summary of nothing added entries: %d", n)
	}
}

// TestSummariseEveryAtShutdown: what was counted since the last period
// is written when the loop stops.
func TestSummariseEveryAtShutdown(t *testing.T) {
	a, _ := newLog(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.SummariseEvery(ctx, time.Hour); close(done) }()
	a.Refused("device.register.refused", "192.0.2.1", "bad_code")
	cancel()
	<-done
	if n, _ := a.Verify(nil); n != 1 {
		t.Fatalf("%d entries after shutdown, want the summary", n)
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"staff:yamada", "staff:yamada"},
		{"ヤマダ\u3000タロウ", "ヤマダ\u3000タロウ"},
		{"x\n2026-12-02 09:00:00\tadmin\tstaff.add", `"x\n2026-12-02 09:00:00\tadmin\tstaff.add"`},
		{"\x1b[2Jcleared", `"\x1b[2Jcleared"`},
		{"abc\u202edcba", `"abc\u202edcba"`},
		{"\xff", `"\xff"`},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	a, _ := newLog(t)
	e, err := a.Append("staff:x\nforged", "staff.signin", "", "ok")
	if err != nil || strings.ContainsAny(e.Actor, "\n\t") {
		t.Fatalf("stored actor %q, %v", e.Actor, err)
	}
}
