package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/transit"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/fares"
	"smartpass.city/smartpass/server/ledger"
	"smartpass.city/smartpass/server/routes"
)

// transitAPI serves transit's account endpoints (app/transit.API): a
// household's holder buys a member's commuter pass from their wallet;
// and the operators' reports to staff.
type transitAPI struct {
	a      *accounts
	poster *fares.Poster
	web    *adminWeb
}

// routes adds the pass purchase wherever accounts are kept, and the
// staff's ridership report.
func (t *transitAPI) routes(mux routes.Mux) {
	// Every staff role may read it, a device officer of one facility
	// only their own operator's: the report counts rides and names
	// nobody (transit.Report).
	mux.HandleFunc("POST "+transit.RidershipPath, t.web.as(admin.SeeDevices, t.ridership))
	if t.a.reg == nil {
		return
	}
	byHolder(mux, t.a, transit.API.BuyPass, "transit.pass.buy", t.buy)
}

// ridership answers an operator's ridership of a service day as a CSV
// for Excel; the read is audited under the staff member's name first.
func (t *transitAPI) ridership(c staffCall) (any, error) {
	req, err := requestOf[transit.RidershipRequest](c)
	if err != nil {
		return nil, err
	}
	if !mine(c.who, req.Operator) {
		return nil, commands.ErrForbidden
	}
	rows, err := t.poster.Ridership(req.Operator, req.Day)
	if errors.Is(err, fares.ErrReport) {
		return nil, invalidRequest{err}
	} else if err != nil {
		return nil, err
	}
	if err := c.cmds.Note("transit.ridership", req.Operator, fmt.Sprintf("%s: %d rows", req.Day, len(rows))); err != nil {
		return nil, err
	}
	var csv bytes.Buffer
	if err := transit.WriteRidership(&csv, rows); err != nil {
		return nil, err
	}
	return download{name: "ridership-" + req.Operator + "-" + req.Day + ".csv", ctype: "text/csv; charset=utf-8", body: csv.Bytes()}, nil
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
