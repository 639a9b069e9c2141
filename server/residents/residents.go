// Package residents keeps residents' accounts in the store's private
// records (encrypted at rest with the rest of the store, never on a feed):
// the basic four facts from the signature certificate that opened the
// account, which card and which person it was, and the key of the device
// holding it. The individual number is never among them: the card's
// certificate does not carry it and nothing here asks for it.
package residents

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/card"
	"smartpass.city/smartpass/app/jpki"
	"smartpass.city/smartpass/server/store"
)

// Errors of Open and Recover. Use errors.Is; a verification error of the
// card's proof wraps jpki's.
var (
	// ErrExists: the card, or the person, has an account already.
	ErrExists = errors.New("residents: this card or person has an account already")
	// ErrTooYoung: under account.MinAge.
	ErrTooYoung = errors.New("residents: too young for an own account")
	// ErrNone: no account to recover for this card or person.
	ErrNone = errors.New("residents: no account for this card or person")
	// ErrRequest: a malformed request (a key that is not Ed25519).
	ErrRequest = errors.New("residents: malformed request")
	// ErrSigned: a request not signed by the account's device key, or
	// of an account that does not hold one (a family member's).
	ErrSigned = errors.New("residents: the request is not signed by the account's device")
	// ErrNotYours: a request about somebody outside the holder's
	// household.
	ErrNotYours = errors.New("residents: that person is not in this household")
	// ErrPurpose: a consent for a purpose not known here.
	ErrPurpose = errors.New("residents: no such purpose of consent")
	// ErrFacts: a family member's four facts are incomplete.
	ErrFacts = errors.New("residents: the family member's name, birth date or sex is missing")
	// ErrCardLinked: the card's user-authentication certificate is
	// linked to another resident; only the city desk moves it.
	ErrCardLinked = errors.New("residents: this card is linked to another resident already")
	// ErrHouseholdFull: the household holds its cap of family members.
	ErrHouseholdFull = errors.New("residents: the household has as many family members as it may add")
	// ErrCap: a desk's cap below the members held or beyond
	// account.MaxCap.
	ErrCap = errors.New("residents: no such household cap")
)

// Private record kinds.
const (
	recResident = "resident"        // by id: the resident
	recCard     = "resident.card"   // by certificate subject hash: id
	recPerson   = "resident.person" // by person hash: id
	recSeq      = "resident.seq"    // "last": the number of the last id given
	// recLink is, by the fingerprint of a user-authentication
	// certificate, the one resident it is linked to: a card names one
	// person at a terminal.
	recLink = "resident.link"
)

// resident is the stored record.
type resident struct {
	ID      string     `json:"id"`
	Facts   card.Facts `json:"facts"`
	Created time.Time  `json:"created"`
	Card    string     `json:"card"`   // the subject hash of the certificate that proved it last
	Person  string     `json:"person"` // the person hash
	Key     []byte     `json:"key"`    // the holding device's Ed25519 public key
	// Guardian is the account that added this family member; Members the
	// family members an account added.
	Guardian string   `json:"guardian,omitempty"`
	Members  []string `json:"members,omitempty"`
	// Supervisor is, for a resident enrolled at a city desk, the desk's
	// device and the staff member who checked the person.
	Supervisor string `json:"supervisor,omitempty"`
	// Checked is, for a resident enrolled at a city desk, how the staff
	// member checked the person (the card-face check's outcome and
	// score, or by sight); absent on records from before desks said.
	Checked *account.DeskCheck `json:"checked,omitempty"`
	// Consents are the purposes granted.
	Consents map[string]bool `json:"consents,omitempty"`
	// FaceExpires is when the face registered from the account must be
	// renewed (zero: none registered).
	FaceExpires time.Time `json:"face_expires,omitzero"`
	// FaceAt are the facilities the face is registered for (their
	// profiles follow the resident's consents).
	FaceAt []string `json:"face_at,omitempty"`
	// Cards are the fingerprints of linked user-authentication
	// certificates.
	Cards []string `json:"cards,omitempty"`
	// Source says how the four facts were proved (account.Source...).
	// Records from before sources were proven say "card-info": the
	// guardian's word (account.Declared).
	Source string `json:"source"`
	// MaxMembers is the city desk's cap on this household's family
	// members (0: account.MaxMembers); CapBy who set it.
	MaxMembers int    `json:"max_members,omitempty"`
	CapBy      string `json:"cap_by,omitempty"`
}

func (r resident) account() account.Account {
	return account.Account{ID: r.ID, Facts: r.Facts, Created: r.Created, Guardian: r.Guardian, Consents: r.Consents, FaceExpires: r.FaceExpires, FaceAt: r.FaceAt, Cards: r.Cards, Source: r.Source}
}

// memberCap is how many family members r may hold.
func (r resident) memberCap() int {
	if r.MaxMembers > 0 {
		return r.MaxMembers
	}
	return account.MaxMembers
}

// Registry opens and recovers accounts.
type Registry struct {
	Log      store.Store
	Verifier *jpki.Verifier
	// Nonces are the server's card nonces (the card check's).
	Nonces *jpki.Nonces
	Now    func() time.Time
}

func (g *Registry) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// proven is what a request proves: the certificate's card and person,
// and the four facts.
type proven struct {
	card, person string
	facts        card.Facts
	key          []byte
}

// prove checks a request: the nonce used once, the signature certificate
// verified, its signature over the challenge bound to the key, its four
// facts.
func (g *Registry) prove(req account.Request) (proven, error) {
	if len(req.Key) != ed25519.PublicKeySize {
		return proven{}, fmt.Errorf("%w: a device key of %d bytes", ErrRequest, len(req.Key))
	}
	if err := g.Nonces.Use(req.Nonce); err != nil {
		return proven{}, err
	}
	cert, err := g.Verifier.Certificate(req.Cert)
	if err != nil {
		return proven{}, err
	}
	if err := jpki.Signature(cert, account.Challenge(req.Nonce, req.Key), req.Sig); err != nil {
		return proven{}, err
	}
	facts, err := jpki.Facts(cert)
	if err != nil {
		return proven{}, err
	}
	cardSum := sha256.Sum256(append(append([]byte(nil), cert.RawIssuer...), cert.RawSubject...))
	return proven{card: hex.EncodeToString(cardSum[:]), person: personKey(facts), facts: facts, key: req.Key}, nil
}

// proveLink checks a card link made for the account of key: the nonce
// used once, the certificate verified (chain, dates, revocation), its
// signature over account.LinkChallenge. It returns the certificate's
// fingerprint, the key the link is stored under.
func (g *Registry) proveLink(l account.CardLink, key []byte) (string, error) {
	if err := g.Nonces.Use(l.Nonce); err != nil {
		return "", err
	}
	cert, err := g.Verifier.Certificate(l.Cert)
	if err != nil {
		return "", err
	}
	if err := jpki.Signature(cert, account.LinkChallenge(l.Nonce, key), l.Sig); err != nil {
		return "", err
	}
	return jpki.Fingerprint(l.Cert), nil
}

// proveLinkOf is proveLink of an optional link ("" for none).
func (g *Registry) proveLinkOf(l *account.CardLink, key []byte) (string, error) {
	if l == nil {
		return "", nil
	}
	return g.proveLink(*l, key)
}

// link links the certificate fingerprint fp to r (in place; put stores
// it), replacing the card linked before (a renewal). A certificate
// linked to anybody else is refused with ErrCardLinked.
func link(tx store.Tx, r *resident, fp string) error {
	if fp == "" {
		return nil
	}
	b, err := tx.Get(recLink, fp)
	switch {
	case err == nil && string(b) != r.ID:
		return ErrCardLinked
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	for _, old := range r.Cards {
		if old != fp {
			if err := tx.Delete(recLink, old); err != nil {
				return err
			}
		}
	}
	r.Cards = []string{fp}
	return nil
}

// personKey names a person across card renewals: name (without the
// spaces between family and given name), birth date and sex; not the
// address, which a move changes.
func personKey(f card.Facts) string {
	name := strings.Join(strings.Fields(f.Name), "")
	sum := sha256.Sum256([]byte(name + "\x00" + f.BirthDate + "\x00" + f.Sex))
	return hex.EncodeToString(sum[:])
}

// Open opens the account the request proves, held by the request's
// device key. A card or person with an account already gets ErrExists
// with the account's id, which only that card's holder can see.
func (g *Registry) Open(req account.Request) (account.Account, error) {
	p, err := g.prove(req)
	if err != nil {
		return account.Account{}, err
	}
	age, err := account.Age(p.facts.BirthDate, g.now())
	if err != nil {
		return account.Account{}, err
	}
	if age < account.MinAge {
		return account.Account{}, fmt.Errorf("%w: %d", ErrTooYoung, age)
	}
	fp, err := g.proveLinkOf(req.Link, req.Key)
	if err != nil {
		return account.Account{}, err
	}
	var out resident
	err = g.Log.Update(func(tx store.Tx) error {
		id, err := newID(tx, p)
		if err != nil {
			return err
		}
		out = resident{ID: id, Facts: p.facts, Created: g.now().UTC(), Card: p.card, Person: p.person, Key: p.key, Source: account.SourceCertificate}
		if err := link(tx, &out, fp); err != nil {
			return err
		}
		return put(tx, out)
	})
	return out.account(), err
}

// Recover moves the account the request proves (by card, or by person
// after a card renewal) to the request's device key, and links the
// card the request's Link proves (the card linked before stays without
// one).
func (g *Registry) Recover(req account.Request) (account.Account, error) {
	p, err := g.prove(req)
	if err != nil {
		return account.Account{}, err
	}
	fp, err := g.proveLinkOf(req.Link, req.Key)
	if err != nil {
		return account.Account{}, err
	}
	var out resident
	err = g.Log.Update(func(tx store.Tx) error {
		id, err := existing(tx, p)
		if err != nil {
			return err
		}
		if id == "" {
			return ErrNone
		}
		if out, err = get(tx, id); err != nil {
			return err
		}
		if out.Card != p.card && out.Card != "" {
			if err := tx.Delete(recCard, out.Card); err != nil {
				return err
			}
		}
		// A renewed card may carry a new address: the certificate is the
		// source of the four facts. A family member who recovers holds
		// their own account from now on.
		out.Facts, out.Card, out.Key, out.Source = p.facts, p.card, p.key, account.SourceCertificate
		if err := link(tx, &out, fp); err != nil {
			return err
		}
		return put(tx, out)
	})
	return out.account(), err
}

// newID takes the id of a new resident for the proven card or person,
// or fails with ErrExists (naming the id they have) if there is one.
func newID(tx store.Tx, p proven) (string, error) {
	id, err := existing(tx, p)
	if err != nil {
		return "", err
	}
	if id != "" {
		return "", fmt.Errorf("%w (%s)", ErrExists, id)
	}
	return nextID(tx)
}

// existing returns the id of the account of the proven card or person,
// or "".
func existing(tx store.Tx, p proven) (string, error) {
	for _, k := range []struct{ kind, id string }{{recCard, p.card}, {recPerson, p.person}} {
		if k.id == "" {
			continue
		}
		b, err := tx.Get(k.kind, k.id)
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return "", nil
}

// Authenticate checks a request of an account's holder to path: the
// nonce used once, the signature by the account's device key. It returns
// the request's body.
func (g *Registry) Authenticate(path string, s account.Signed) (account.Account, []byte, error) {
	var r resident
	err := g.Log.View(func(tx store.Tx) error {
		var err error
		r, err = get(tx, s.Signer)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return account.Account{}, nil, ErrSigned
	}
	if err != nil {
		return account.Account{}, nil, err
	}
	if err := g.CheckSigned(path, s, r.Key); err != nil {
		return account.Account{}, nil, err
	}
	return r.account(), s.Body, nil
}

// CheckSigned checks a signed request to path made with key (an
// account's, or a desk device's): its nonce used once, its signature.
func (g *Registry) CheckSigned(path string, s account.Signed, key ed25519.PublicKey) error {
	if err := g.Nonces.Use(s.Nonce); err != nil {
		return err
	}
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, account.Message(path, s.Nonce, s.Body), s.Sig) {
		return ErrSigned
	}
	return nil
}

// AddMember records a family member of guardian, with the four facts the
// guardian's device read from the member's card. With the member's card
// link (proven over the guardian's account key) the facts are recorded
// as read from the card and the card is linked to the member; without
// it, as the guardian's word (account.SourceDeclared). A person
// registered already (with an account or in a household) is refused with
// ErrExists, a household at its cap with ErrHouseholdFull, a card linked
// to somebody else with ErrCardLinked.
func (g *Registry) AddMember(guardian string, m account.Member) (account.Account, error) {
	var head resident
	err := g.Log.View(func(tx store.Tx) error {
		var err error
		head, err = get(tx, guardian)
		return err
	})
	if err != nil {
		return account.Account{}, err
	}
	fp, err := g.proveLinkOf(m.Link, head.Key)
	if err != nil {
		return account.Account{}, err
	}
	r := resident{Guardian: guardian, Source: account.SourceDeclared}
	if fp != "" {
		r.Source, r.Cards = account.SourceCardRead, []string{fp}
	}
	return g.addPerson(m.Facts, r)
}

// SetCap lets the household of holder hold up to max family members (a
// city desk's decision, by whom), or refuses with ErrCap a cap below the
// members held or beyond account.MaxCap.
func (g *Registry) SetCap(holder string, max int, by string) error {
	return g.Log.Update(func(tx store.Tx) error {
		head, err := get(tx, holder)
		if err != nil {
			return err
		}
		if head.Guardian != "" || max < len(head.Members) || max < 1 || max > account.MaxCap {
			return fmt.Errorf("%w: %d for %s, who holds %d", ErrCap, max, holder, len(head.Members))
		}
		head.MaxMembers, head.CapBy = max, by
		return put(tx, head)
	})
}

// AddSupervised records a resident enrolled at a city desk: the four
// facts read from their card with their PIN, the person checked by the
// staff member against the card's photo (supervisor: the desk's device
// and the staff member). A person registered already is refused with
// ErrExists.
func (g *Registry) AddSupervised(f card.Facts, supervisor string) (account.Account, error) {
	return g.AddAtDesk(account.Supervised{Facts: f}, supervisor)
}

// AddAtDesk records a resident enrolled at a city desk as AddSupervised
// does, keeping how the staff member checked the person (s.Check: the
// card-face check's outcome and score, or by sight), which must be one
// a desk can make (ErrRequest otherwise).
func (g *Registry) AddAtDesk(s account.Supervised, supervisor string) (account.Account, error) {
	if s.Check != nil {
		if err := s.Check.Validate(); err != nil {
			return account.Account{}, fmt.Errorf("%w: %w", ErrRequest, err)
		}
	}
	return g.addPerson(s.Facts, resident{Source: "desk", Supervisor: supervisor, Checked: s.Check})
}

// DeskCheck returns how the city desk checked the resident id (nil: not
// enrolled at a desk, or before desks said).
func (g *Registry) DeskCheck(id string) (*account.DeskCheck, error) {
	var d *account.DeskCheck
	err := g.Log.View(func(tx store.Tx) error {
		r, err := get(tx, id)
		d = r.Checked
		return err
	})
	return d, err
}

// addPerson records a resident with facts f and the provenance in r
// (its Guardian, added to that account's members, its Source and
// Supervisor).
func (g *Registry) addPerson(f card.Facts, r resident) (account.Account, error) {
	if strings.TrimSpace(f.Name) == "" || !card.KnownSex(f.Sex) {
		return account.Account{}, ErrFacts
	}
	if _, err := account.Age(f.BirthDate, g.now()); err != nil {
		return account.Account{}, fmt.Errorf("%w: %v", ErrFacts, err)
	}
	err := g.Log.Update(func(tx store.Tx) error {
		person := personKey(f)
		id, err := newID(tx, proven{person: person})
		if err != nil {
			return err
		}
		r.ID = id
		if r.Guardian != "" {
			head, err := get(tx, r.Guardian)
			if err != nil {
				return err
			}
			if len(head.Members) >= head.memberCap() {
				return fmt.Errorf("%w: %d", ErrHouseholdFull, len(head.Members))
			}
			head.Members = append(head.Members, id)
			if err := put(tx, head); err != nil {
				return err
			}
		}
		r.Facts, r.Created, r.Person = f, g.now().UTC(), person
		cards := r.Cards
		r.Cards = nil
		for _, fp := range cards {
			if err := link(tx, &r, fp); err != nil {
				return err
			}
		}
		return put(tx, r)
	})
	return r.account(), err
}

// Household returns the account and the family members it added.
// Person returns the resident id, whoever enrolled them.
func (g *Registry) Person(id string) (account.Account, error) {
	var a account.Account
	err := g.Log.View(func(tx store.Tx) error {
		r, err := get(tx, id)
		a = r.account()
		return err
	})
	return a, err
}

func (g *Registry) Household(id string) (account.Household, error) {
	var h account.Household
	err := g.Log.View(func(tx store.Tx) error {
		head, err := get(tx, id)
		if err != nil {
			return err
		}
		h.Guardian = head.account()
		for _, m := range head.Members {
			r, err := get(tx, m)
			if err != nil {
				return err
			}
			h.Members = append(h.Members, r.account())
		}
		return nil
	})
	return h, err
}

// InHousehold reports whether id is the holder or one of the family
// members the holder added, or wraps ErrNotYours.
func (g *Registry) InHousehold(holder, id string) error {
	h, err := g.Household(holder)
	if err != nil {
		return err
	}
	if slices.Contains(h.IDs(), id) {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNotYours, id)
}

// SetConsent records c for a resident of holder's household.
func (g *Registry) SetConsent(holder string, c account.Consent) error {
	if !slices.Contains(account.Purposes, c.Purpose) {
		return fmt.Errorf("%w: %q", ErrPurpose, c.Purpose)
	}
	if err := g.InHousehold(holder, c.Resident); err != nil {
		return err
	}
	return g.Log.Update(func(tx store.Tx) error {
		r, err := get(tx, c.Resident)
		if err != nil {
			return err
		}
		if r.Consents == nil {
			r.Consents = make(map[string]bool)
		}
		if c.Granted {
			r.Consents[c.Purpose] = true
		} else {
			delete(r.Consents, c.Purpose)
		}
		return put(tx, r)
	})
}

// SetFace records when the face of resident id expires and the
// facilities it is registered for (zero and none: no face).
func (g *Registry) SetFace(id string, expires time.Time, facilities []string) error {
	return g.Log.Update(func(tx store.Tx) error { return SetFaceIn(tx, id, expires, facilities) })
}

// SetFaceIn is SetFace in tx: in the transaction of the ops that
// register or remove the face (oplog.AppendBatch).
func SetFaceIn(tx store.Tx, id string, expires time.Time, facilities []string) error {
	r, err := get(tx, id)
	if err != nil {
		return err
	}
	r.FaceExpires, r.FaceAt = expires, facilities
	return put(tx, r)
}

// Delete removes the account id and the family members it added, with
// their indexes, and returns the ids removed. (Their faces are the
// caller's to remove from the log: they are ops, not records.)
func (g *Registry) Delete(id string) ([]string, error) {
	var gone []string
	err := g.Log.Update(func(tx store.Tx) error {
		gone = nil
		head, err := get(tx, id)
		if err != nil {
			return err
		}
		for _, rid := range append([]string{id}, head.Members...) {
			r, err := get(tx, rid)
			if err != nil {
				return err
			}
			recs := []struct{ kind, id string }{{recResident, r.ID}, {recCard, r.Card}, {recPerson, r.Person}}
			for _, fp := range r.Cards {
				recs = append(recs, struct{ kind, id string }{recLink, fp})
			}
			for _, rec := range recs {
				if rec.id == "" {
					continue
				}
				if err := tx.Delete(rec.kind, rec.id); err != nil {
					return err
				}
			}
			gone = append(gone, rid)
		}
		return nil
	})
	return gone, err
}

// get reads the resident id.
func get(tx store.Tx, id string) (resident, error) {
	var r resident
	b, err := tx.Get(recResident, id)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("residents: %s: %w", id, err)
	}
	return r, nil
}

// put stores r and its indexes.
func put(tx store.Tx, r resident) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	for _, rec := range []struct {
		kind, id string
		v        []byte
	}{{recResident, r.ID, b}, {recCard, r.Card, []byte(r.ID)}, {recPerson, r.Person, []byte(r.ID)}} {
		if rec.id == "" {
			continue // a family member has no card of their own on record
		}
		if err := tx.Put(rec.kind, rec.id, rec.v); err != nil {
			return err
		}
	}
	for _, fp := range r.Cards {
		if err := tx.Put(recLink, fp, []byte(r.ID)); err != nil {
			return err
		}
	}
	return nil
}

// idPrefix starts every resident id; the number after it counts up.
const idPrefix = "R-"

// nextID takes the next resident id, R-000001 on. The last number is a
// record of its own, so the id of a deleted account is never given again.
func nextID(tx store.Tx) (string, error) {
	n := 0
	b, err := tx.Get(recSeq, "last")
	switch {
	case err == nil:
		if n, err = strconv.Atoi(string(b)); err != nil {
			return "", fmt.Errorf("residents: last id number %q: %w", b, err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	n++
	if err := tx.Put(recSeq, "last", []byte(strconv.Itoa(n))); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%06d", idPrefix, n), nil
}
