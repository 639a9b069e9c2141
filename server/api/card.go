package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/httpguard"
	"smartpass.city/smartpass/server/publish"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// cardCheck serves the JPKI check of a My Number Card
// (syncproto.CardNoncePath, CardVerifyPath): a nonce, then the card's
// certificate and signature over that nonce, verified against the
// configured trust anchors and revocation data. Every verification,
// passed or refused, is audited by the certificate's serial number
// (never the holder's name: a user-authentication certificate does not
// carry one). It also checks again, as they sync, the cards terminals
// checked while offline (recheck).
type cardCheck struct {
	v      *jpki.Verifier // nil: no anchors configured
	log    store.Store
	nonces jpki.Nonces
	audit  *audit.Log
	logger *slog.Logger
}

// newCardCheck returns the card check of anchors (nil: none configured)
// and publishes them to every device, so terminals check cards offline.
func newCardCheck(ctx context.Context, log store.Store, pub *publish.Writer, anchors *jpki.Anchors, a *audit.Log, logger *slog.Logger) (*cardCheck, error) {
	cc := &cardCheck{log: log, audit: a, logger: logger}
	if anchors == nil {
		return cc, nil
	}
	var err error
	if cc.v, err = anchors.Verifier(); err != nil {
		return nil, err
	}
	return cc, publishAnchors(ctx, pub, *anchors, logger)
}

// recNonce is the private record kind, by a terminal's nonce, of the op
// that used it.
const recNonce = "jpki.card-nonce"

// publishAnchors writes anchors as the server's next op on the public
// feed, unless they are what it published last.
func publishAnchors(ctx context.Context, pub *publish.Writer, anchors jpki.Anchors, logger *slog.Logger) error {
	body, err := json.Marshal(anchors)
	if err != nil {
		return err
	}
	if len(body) > syncproto.MaxOpBody {
		logger.Warn("JPKI anchors and revocation lists are too large to send to terminals: they cannot check cards while offline", "bytes", len(body), "max", syncproto.MaxOpBody)
		return nil
	}
	_, err = pub.Publish(ctx, jpki.OpAnchors, body)
	return err
}

// recheck is the hub's Verify: a card a terminal accepted offline is
// verified again, as of when it was checked, and its nonce must not have
// been used by another check (a replayed proof).
func (cc *cardCheck) recheck(device string, op syncproto.Op) error {
	if op.Kind != jpki.OpChecked {
		return nil
	}
	var c jpki.Checked
	if err := json.Unmarshal(op.Body, &c); err != nil {
		return fmt.Errorf("%w: %v", jpki.ErrInvalid, err)
	}
	if c.Outcome != jpki.Accepted {
		return nil // a refusal claims nothing
	}
	if cc.v == nil {
		return errors.New("this server has no JPKI trust anchors to check the card again")
	}
	if err := cc.v.Recheck(c, hlc.Wall(op.HLC)); err != nil {
		return err
	}
	id := hex.EncodeToString(c.Nonce)
	use := fmt.Sprintf("%s/%d", device, op.Seq)
	return cc.log.Update(func(tx store.Tx) error {
		prev, err := tx.Get(recNonce, id)
		switch {
		case err == nil && string(prev) != use: // the same op sent again is no replay
			return fmt.Errorf("%w: the card's proof was presented before (%s)", jpki.ErrNonce, prev)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		return tx.Put(recNonce, id, []byte(use))
	})
}

// refuseNoAnchors answers a card request on a server that cannot check
// cards.
func refuseNoAnchors(w http.ResponseWriter) {
	refuse(w, cardRefusals[syncproto.CodeCardUnavailable])
}

func (cc *cardCheck) nonce(w http.ResponseWriter, r *http.Request) {
	if cc.v == nil {
		refuseNoAnchors(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	answer(w, syncproto.CardAPI.Nonce, syncproto.CardNonce{Nonce: cc.nonces.Issue()})
}

func (cc *cardCheck) verify(w http.ResponseWriter, r *http.Request) {
	if cc.v == nil {
		refuseNoAnchors(w)
		return
	}
	p, err := decodeRequest(syncproto.CardAPI.Verify, http.MaxBytesReader(w, r.Body, 32<<10))
	if err != nil {
		refuse(w, refuseMalformed)
		return
	}
	res, err := cc.check(p)
	serial := res.Serial
	if serial == "" {
		serial = "unknown"
	}
	if err != nil {
		code := jpki.Code(err)
		cc.audit.Refused("card.verify.refused", httpguard.ClientOf(r).Host, code)
		cc.logger.Warn("card verification refused", "remote", r.RemoteAddr, "serial", serial, "err", err)
		refuse(w, cardRefusals[code])
		return
	}
	cc.audit.Note(r.RemoteAddr, "card.verify", "jpki:"+serial, res.Issuer)
	answer(w, syncproto.CardAPI.Verify, res)
}

// check verifies one proof. The nonce is used up first, so a replayed
// proof fails whatever else is wrong with it.
func (cc *cardCheck) check(p syncproto.CardProof) (syncproto.CardResult, error) {
	if err := cc.nonces.Use(p.Nonce); err != nil {
		return syncproto.CardResult{}, err
	}
	cert, err := cc.v.Certificate(p.Cert)
	if err != nil {
		return syncproto.CardResult{}, err
	}
	res := syncproto.CardResult{Serial: cert.SerialNumber.Text(16), Issuer: cert.Issuer.String(), NotAfter: cert.NotAfter}
	if err := jpki.Signature(cert, p.Nonce, p.Sig); err != nil {
		return res, err
	}
	return res, nil
}
