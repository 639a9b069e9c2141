package ui

import (
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"smartpass.city/smartpass/app/hospital"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/route"
	"smartpass.city/smartpass/app/terminal"
)

// cardHandoff carries a card checked on the card page (?then=identify)
// back to the identify screen: the fingerprint of its user-authentication
// certificate, which the card proved it holds the key of with its PIN.
var cardHandoff struct {
	mu sync.Mutex
	fp string
	at time.Time
}

// handOffTTL is how long a checked card waits for the identify screen.
const handOffTTL = time.Minute

func handOff(fp string) {
	cardHandoff.mu.Lock()
	defer cardHandoff.mu.Unlock()
	cardHandoff.fp, cardHandoff.at = fp, time.Now()
}

// takeCard returns the card handed off, once, if it is fresh.
func takeCard() string {
	cardHandoff.mu.Lock()
	defer cardHandoff.mu.Unlock()
	fp := cardHandoff.fp
	cardHandoff.fp = ""
	if time.Since(cardHandoff.at) > handOffTTL {
		return ""
	}
	return fp
}

// cardArrived identifies the holder of the card handed off, when the
// state is there: the resident whose profile here lists the card. A card
// of nobody who consented to this facility is "not recognised", in the
// same words as a face.
func (p *identifyPage) cardArrived() {
	if p.card == "" || p.st == nil {
		return
	}
	fp := p.card
	p.card = ""
	resident := terminal.CardHolder(p.st, p.enr.Facility, fp)
	p.until, p.key = time.Now().Add(holdResult), ""
	if resident == "" {
		p.outcome, p.resident = identify.Unknown, ""
		p.record(identify.Identification{Method: identify.MethodCard, Outcome: identify.Unknown})
		return
	}
	p.outcome, p.resident = identify.Accepted, resident
	p.answer(hospital.ByCard)
	p.record(identify.Identification{Resident: resident, Method: identify.MethodCard, Outcome: identify.Accepted})
}

// cardButton takes the person to the card check, which comes back here.
func (p *identifyPage) cardButton() app.UI {
	return app.A().ID("card-check").Class("button secondary").Href(route.Card + "?then=" + route.Identify).Text(p.tr("card.identify"))
}
