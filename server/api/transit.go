package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/server/fares"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/routes"
)

// transitAPI serves transit's account endpoints (app/transit.API): a
// household's holder buys a member's commuter pass from their wallet.
type transitAPI struct {
	a      *accounts
	poster *fares.Poster
}

// routes adds the pass purchase wherever accounts are kept.
func (t *transitAPI) routes(mux routes.Mux) {
	if t.a.reg == nil {
		return
	}
	byHolder(mux, t.a, transit.API.BuyPass, "transit.pass.buy", t.buy)
}

// buy sells a household member a pass from their own wallet.
func (t *transitAPI) buy(ctx context.Context, holder account.Account, b transit.BuyPass) (transit.PassRecord, string, error) {
	if err := t.a.reg.InHousehold(holder.ID, b.Resident); err != nil {
		return transit.PassRecord{}, "", err
	}
	rec, err := t.poster.BuyPass(ctx, holder.ID, b)
	return rec, b.Resident, passRefusal(err)
}

// passRefusal turns a purchase the fares or the ledger refused into the
// API's refusal, in their words; any other error stays a failure.
func passRefusal(err error) error {
	if f, ok := errors.AsType[*fares.Refusal](err); ok {
		status := http.StatusBadRequest
		if f == fares.ErrNoProfile {
			status = http.StatusConflict
		}
		return Refusal{Status: status, Code: f.Code, JA: f.JA, EN: f.EN}
	}
	if l, ok := errors.AsType[*ledger.Refusal](err); ok {
		return Refusal{Status: http.StatusPaymentRequired, Code: l.Code, JA: l.JA, EN: l.EN}
	}
	return err
}

// sweepEvery prices the rides left to post (riders never seen alighting,
// whose trip's grace has passed) every period until stop is closed.
func sweepEvery(stop <-chan struct{}, p *fares.Poster, period time.Duration, logger *slog.Logger) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if n, err := p.Sweep(); err != nil {
				logger.Error("transit fares: sweep", "err", err)
			} else if n > 0 {
				logger.Info("transit fares: posted after the trips' grace", "fares", n)
			}
		}
	}
}
