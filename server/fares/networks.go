package fares

import (
	"fmt"
	"sync"
	"time"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/server/store"
)

// Networks are the operators' imported networks and fare tables, read
// from the log (the transit.network ops `server transit import`
// published): each operator's feed is folded once and then only what
// was added since, so pricing a push reads little.
type Networks struct {
	log store.Log
	mu  sync.Mutex
	by  map[string]*folded
}

// folded is an operator's feed folded up to a global sequence.
type folded struct {
	imported transit.Imported
	after    uint64
}

// NewNetworks returns the networks published in log.
func NewNetworks(log store.Log) *Networks {
	return &Networks{log: log, by: make(map[string]*folded)}
}

// On returns the settlement of operator's rides of day: the network in
// force that day and every fare table by its date.
func (n *Networks) On(operator string, day time.Time) (transit.Settlement, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := n.by[operator]
	if f == nil {
		f = &folded{}
		n.by[operator] = f
	}
	feed := scope.FacilityFeed(operator)
	for {
		ops, err := n.log.Since(feed, f.after, 1024, 8<<20)
		if err != nil {
			return transit.Settlement{}, fmt.Errorf("fares: read %s's network: %w", operator, err)
		}
		if len(ops) == 0 {
			break
		}
		for _, op := range ops {
			f.imported.Fold(op)
		}
		f.after = ops[len(ops)-1].Global
	}
	return f.imported.SettlementOn(operator, day)
}
