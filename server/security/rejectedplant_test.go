package security

import (
	"testing"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/syncproto"
)

// TestDevicePlantsRejection performs finding 6 of issue 16: a city
// desk's registrar device (and a shelter tablet) pushes a sync.rejected
// record naming another shelter, to plant a forged "refused" check-in in
// that shelter's feed and the HQ's. Only the server writes verdicts: the
// push is refused and neither feed carries anything new. Failed before
// the fix: the registrar's forged verdict was stored and served to the
// shelter and to the HQ.
func TestDevicePlantsRejection(t *testing.T) {
	p := domainServer(t)
	const victim = "shelter-yamashiro"
	reader := domainEnroll(t, p, "plant-reader", victim, "shelter")
	hq := domainEnroll(t, p, "plant-hq", "kaga-hq", "hq")
	feeds := map[string]domainDevice{scope.FacilityFeed(victim): reader, scope.FeedHQ: hq}
	before := map[string]int{}
	for feed, d := range feeds {
		before[feed] = len(d.pull(feed))
	}
	forged := scope.Rejection{
		Facility: victim,
		Kind:     shelter.OpEvacueeAdd,
		Body:     []byte(`{"shelter":"shelter-yamashiro","kana":"ニセ","birth_year":1990}`),
		Reason:   "この方は別の避難所にいます（偽）",
	}
	attackers := []domainDevice{
		domainEnroll(t, p, "plant-registrar", "kaga-hq", "registrar"),
		domainEnroll(t, p, "plant-shelter", "shelter-daishoji", "shelter"),
	}
	for _, a := range attackers {
		refusals, acked := a.push(domainOp(t, 1, scope.OpRejected, forged))
		if len(refusals) == 0 || refusals[0].Code != syncproto.CodeForbidden {
			t.Errorf("%s pushed a verdict: refusals %v", a.id, refusals)
		}
		if acked != 1 {
			t.Errorf("%s: acked %d, want 1 (its queue moves on)", a.id, acked)
		}
	}
	for feed, d := range feeds {
		ops := d.pull(feed)
		for _, op := range ops[before[feed]:] {
			t.Errorf("feed %s carries a new %s from %s: %s", feed, op.Kind, op.Device, op.Body)
		}
	}
	domainAuditIntact(t, p)
}
