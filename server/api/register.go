package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/devices"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/syncproto"
)

// Error codes of the registration endpoint, beside syncproto's own. The
// PWA turns each into a sentence for the person setting up the tablet.
const (
	CodeBadCode = "bad_code" // unknown, used or expired
	CodeTaken   = "taken"    // the device id is registered already
)

// Wrong set-up codes are limited per client: a budget of failureLimit,
// given back at one per failureRefill (so failureLimit per failureWindow
// at most). A code has 40 bits, so guessing one at this rate takes longer
// than any code lives. Only wrong codes spend it: a client whose budget
// is spent (a NAT shared with somebody guessing, or with a clumsy
// neighbour) waits at most failureRefill for its next try, and a correct
// code redeems then; it is never locked out for the whole window.
const (
	failureLimit  = 20
	failureWindow = 10 * time.Minute
	failureRefill = failureWindow / failureLimit
	// maxClients bounds the clients remembered; past it those whose
	// budget is whole again (nothing to remember) are forgotten.
	maxClients = 10000
)

// registrar serves POST /devices/register.
type registrar struct {
	reg    *devices.Registry
	audit  *audit.Log
	logger *slog.Logger
	budget *codeBudget
}

func newRegistrar(reg *devices.Registry, a *audit.Log, logger *slog.Logger, refill time.Duration) *registrar {
	return &registrar{reg: reg, audit: a, logger: logger, budget: newCodeBudget(failureLimit, refill)}
}

func (rg *registrar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := httpguard.ClientOf(r)
	var req syncproto.RegisterRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		refuse(w, refuseMalformed)
		return
	}
	// The try is paid for before the code is checked, under one lock, so
	// concurrent guesses cannot all pass a check made before any counted;
	// a try that turns out not to be a wrong code is given back.
	if wait, ok := rg.budget.take(client.Key, time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		refuse(w, refuseCodeLimit)
		return
	}
	d, err := rg.reg.Register(req)
	if !errors.Is(err, devices.ErrBadCode) {
		rg.budget.giveBack(client.Key, time.Now())
	}
	switch {
	case errors.Is(err, devices.ErrBadCode):
		rg.logger.Warn("device registration: bad code", "remote", r.RemoteAddr, "device", req.Device)
		rg.audit.Refused("device.register.refused", client.Host, "bad_code")
		refuse(w, refuseBadCode)
	case errors.Is(err, devices.ErrTaken):
		refuse(w, refuseTaken)
	case errors.Is(err, devices.ErrBadRequest):
		refuse(w, refuseInvalid)
	case err != nil:
		httpguard.Internal(w, r, rg.logger, "device registration", err)
	default:
		rg.logger.Info("device registered", "device", d.ID, "facility", d.Facility, "role", d.Role, "name", d.Name)
		rg.audit.Note(d.ID, "device.register", d.Facility, string(d.Role)+" from "+r.RemoteAddr)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(syncproto.RegisterResponse{Device: d.ID, Facility: d.Facility, Role: string(d.Role)})
	}
}

// codeBudget is a token bucket per client: limit tokens, one back every
// refill.
type codeBudget struct {
	limit  float64
	refill time.Duration

	mu      sync.Mutex
	clients map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newCodeBudget(limit int, refill time.Duration) *codeBudget {
	return &codeBudget{limit: float64(limit), refill: refill, clients: make(map[string]*bucket)}
}

// level brings b up to now and returns it.
func (c *codeBudget) level(b *bucket, now time.Time) float64 {
	b.tokens = min(c.limit, b.tokens+float64(now.Sub(b.last))/float64(c.refill))
	b.last = now
	return b.tokens
}

// take spends one of client's tokens, or says how long until one is back.
func (c *codeBudget) take(client string, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.clients[client]
	if b == nil {
		if len(c.clients) >= maxClients {
			c.forgetWhole(now)
		}
		b = &bucket{tokens: c.limit, last: now}
		c.clients[client] = b
	}
	if t := c.level(b, now); t < 1 {
		return time.Duration((1 - t) * float64(c.refill)), false
	}
	b.tokens--
	return 0, true
}

// giveBack returns a token taken for a try that was not a wrong code.
func (c *codeBudget) giveBack(client string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.clients[client]; b != nil {
		c.level(b, now)
		b.tokens = min(c.limit, b.tokens+1)
	}
}

// forgetWhole drops the clients whose budget is whole: remembering them
// changes nothing.
func (c *codeBudget) forgetWhole(now time.Time) {
	for k, b := range c.clients {
		if c.level(b, now) >= c.limit {
			delete(c.clients, k)
		}
	}
}

// DefaultCodeRefill is how long, in production, a client that spent its
// budget of wrong set-up codes waits for its next try.
const DefaultCodeRefill = failureRefill
