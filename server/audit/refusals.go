package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Refusals of callers who have not proved who they are (a wrong set-up
// code, a sign-in that failed, a forged account request, a card that did
// not verify, a sync session with a bad signature) are not appended one
// by one: anyone can send them, and each append is an fsynced write under
// the log's one lock, so a flood of them would fill the log and stall
// every real event. Refused counts them in memory; Summarise writes, per
// action, one entry "refusals.summary" with the count, the number of
// distinct sources and the count per reason, and SummariseEvery does so
// each period and once more when it stops (at shutdown).
//
// The sources counted per action are bounded (maxSources): past it the
// summary says "at least".
const (
	ActionSummary = "refusals.summary"
	maxSources    = 10_000
	maxReasons    = 16
)

// tally is what is counted of one action's refusals since the last
// summary.
type tally struct {
	n           int
	sources     map[string]struct{}
	reasons     map[string]int
	first, last time.Time
}

// Refused counts one refusal of action to an unauthenticated caller at
// source (its address), for reason (a short code chosen by the server,
// never the caller's words).
func (a *Log) Refused(action, source, reason string) {
	a.refusalsMu.Lock()
	defer a.refusalsMu.Unlock()
	if a.refusals == nil {
		a.refusals = map[string]*tally{}
	}
	t := a.refusals[action]
	if t == nil {
		t = &tally{sources: map[string]struct{}{}, reasons: map[string]int{}, first: a.Now().UTC()}
		a.refusals[action] = t
	}
	t.n++
	t.last = a.Now().UTC()
	if len(t.sources) < maxSources {
		t.sources[source] = struct{}{}
	}
	if _, ok := t.reasons[reason]; ok || len(t.reasons) < maxReasons {
		t.reasons[reason]++
	} else {
		t.reasons["other"]++
	}
}

// Summarise appends one summary entry per action with refusals counted
// since the last summary, and starts counting afresh.
func (a *Log) Summarise() error {
	a.refusalsMu.Lock()
	counted := a.refusals
	a.refusals = nil
	a.refusalsMu.Unlock()
	for _, action := range slices.Sorted(maps.Keys(counted)) {
		t := counted[action]
		sources := fmt.Sprint(len(t.sources))
		if len(t.sources) >= maxSources {
			sources = "at least " + sources
		}
		var reasons []string
		for _, r := range slices.Sorted(maps.Keys(t.reasons)) {
			reasons = append(reasons, fmt.Sprintf("%s=%d", r, t.reasons[r]))
		}
		detail := fmt.Sprintf("%d refused from %s sources, %s to %s: %s", t.n, sources,
			t.first.Format(time.RFC3339), t.last.Format(time.RFC3339), strings.Join(reasons, " "))
		if _, err := a.Append("server", ActionSummary, action, detail); err != nil {
			return err
		}
	}
	return nil
}

// SummariseEvery writes the summaries each period until ctx ends, then
// once more (the refusals of the server's last minutes), and returns. A
// failure is logged where the operators look.
func (a *Log) SummariseEvery(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		if err := a.Summarise(); err != nil {
			a.logger().Error("audit: the refusals could not be summarised", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
	}
}
