// Package devices is the server's register of enrolled devices: the
// one-time enrollment codes an admin issues for a facility and role, the
// registration that binds a device's public key to that facility and role,
// revocation, and the lookup the sync hub makes at every connect.
//
// Codes are stored only as hashes, so a copy of the store (a backup) does
// not reveal a code that is still unused. A code works once: the
// registration that consumes it and the device record it creates commit in
// one transaction.
package devices

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/server/facilities"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// Errors of the registry. Use errors.Is.
var (
	// ErrBadCode: the code is unknown, used or expired.
	ErrBadCode = errors.New("the enrollment code is not valid (unknown, already used, or expired)")
	// ErrTaken: another device registered with this id.
	ErrTaken = errors.New("device id already registered")
	// ErrBadRequest: the request itself is malformed (id, key).
	ErrBadRequest = errors.New("invalid registration")
	// ErrUnknown: no device has this id.
	ErrUnknown = errors.New("unknown device")
	// ErrRevoked: the device was revoked by an admin.
	ErrRevoked = errors.New("device revoked")
	// ErrNoFacility: the code names a facility the server does not have.
	ErrNoFacility = errors.New("no such facility")
)

// Record kinds in the log's private keyspace.
const (
	kindCode   = "devcode"
	kindDevice = "device"
)

// Device is an enrolled device as the admin sees it.
type Device struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Facility   string     `json:"facility"`
	Role       scope.Role `json:"role"`
	PublicKey  []byte     `json:"public_key"`
	Registered time.Time  `json:"registered"`
	Revoked    time.Time  `json:"revoked,omitzero"`
	// LastSync is when the device last opened a sync session, as the
	// audit log has it; set by the admin's listing, not stored here.
	LastSync time.Time `json:"last_sync,omitzero"`
}

type code struct {
	Facility string     `json:"facility"`
	Role     scope.Role `json:"role"`
	Expires  time.Time  `json:"expires"`
}

// Facilities returns the facilities the server knows, by id
// (facilities.Current).
type Facilities func() (map[string]facility.Facility, error)

// Registry is the device register, kept in the op log's private records.
type Registry struct {
	log        store.Store
	facilities Facilities
	// Now is the clock; tests set it.
	Now func() time.Time
}

// New returns the registry kept in log, checking facilities against fac.
func New(log store.Store, fac Facilities) *Registry {
	return &Registry{log: log, facilities: fac, Now: time.Now}
}

// codeAlphabet is Crockford's base32: no I, L, O or U, so a code read
// aloud over a phone or copied from paper survives.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Issue creates a one-time code that enrolls one device at facilityID as
// role, valid for ttl. The code is returned as XXXX-XXXX; only its hash is
// stored.
func (r *Registry) Issue(facilityID string, role scope.Role, ttl time.Duration) (string, error) {
	f, err := r.facility(facilityID)
	if err != nil {
		return "", fmt.Errorf("devices: issue code: %w", err)
	}
	if err := scope.CheckRole(f, role); err != nil {
		return "", fmt.Errorf("devices: issue code: %w", err)
	}
	raw := make([]byte, 8)
	rand.Read(raw)
	var b strings.Builder
	for i, c := range raw {
		if i == 4 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	text := b.String()
	v, _ := json.Marshal(code{Facility: f.ID, Role: role, Expires: r.Now().Add(ttl)})
	err = r.log.Update(func(tx store.Tx) error {
		// Codes nobody used are forgotten once expired, so a demo server
		// handing out codes all day does not pile them up.
		var expired []string
		err := tx.Each(kindCode, func(id string, v []byte) error {
			var c code
			if json.Unmarshal(v, &c) != nil || r.Now().After(c.Expires) {
				expired = append(expired, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range expired {
			if err := tx.Delete(kindCode, id); err != nil {
				return err
			}
		}
		return tx.Put(kindCode, codeHash(text), v)
	})
	if err != nil {
		return "", fmt.Errorf("devices: issue code: %w", err)
	}
	return text, nil
}

// normalizeCode undoes what people do to a code: lower case, spaces,
// hyphens, O for 0 and I or L for 1.
func normalizeCode(s string) string {
	s = strings.ToUpper(s)
	s = strings.NewReplacer("-", "", " ", "", "　", "", "O", "0", "I", "1", "L", "1").Replace(s)
	return s
}

func codeHash(text string) string {
	h := sha256.Sum256([]byte("smartpass enrollment code\x00" + normalizeCode(text)))
	return hex.EncodeToString(h[:])
}

// Register enrolls the device of req with the code it carries. A revoked
// device id may be enrolled again; a live one may not.
func (r *Registry) Register(req syncproto.RegisterRequest) (Device, error) {
	if !syncproto.ValidDeviceID(req.Device) || req.Device == facilities.Device {
		return Device{}, fmt.Errorf("%w: device id %q", ErrBadRequest, req.Device)
	}
	if len(req.PublicKey) != ed25519.PublicKeySize {
		return Device{}, fmt.Errorf("%w: public key of %d bytes, want an Ed25519 key of %d", ErrBadRequest, len(req.PublicKey), ed25519.PublicKeySize)
	}
	if len(req.Name) > 100 {
		return Device{}, fmt.Errorf("%w: name longer than 100 bytes", ErrBadRequest)
	}
	var d Device
	err := r.log.Update(func(tx store.Tx) error {
		h := codeHash(req.Code)
		v, err := tx.Get(kindCode, h)
		if errors.Is(err, store.ErrNotFound) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		var c code
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("read code: %w", err)
		}
		if r.Now().After(c.Expires) {
			tx.Delete(kindCode, h)
			return ErrBadCode
		}
		// A revoked device may come back with a new code (and a new
		// key): the code is the admin's consent. A live one keeps its id.
		if old, err := get(tx, req.Device); err == nil && old.Revoked.IsZero() {
			return fmt.Errorf("%w: %s", ErrTaken, req.Device)
		} else if err != nil && !errors.Is(err, ErrUnknown) {
			return err
		}
		d = Device{ID: req.Device, Name: req.Name, Facility: c.Facility, Role: c.Role, PublicKey: req.PublicKey, Registered: r.Now().UTC()}
		dv, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := tx.Delete(kindCode, h); err != nil {
			return err
		}
		return tx.Put(kindDevice, d.ID, dv)
	})
	if err != nil {
		return Device{}, fmt.Errorf("devices: register %s: %w", req.Device, err)
	}
	return d, nil
}

// Revoke stops a device from syncing from its next connect on. Its ops
// already stored stay in the log.
func (r *Registry) Revoke(id string) (Device, error) {
	var d Device
	err := r.log.Update(func(tx store.Tx) error {
		var err error
		if d, err = get(tx, id); err != nil {
			return err
		}
		if d.Revoked.IsZero() {
			d.Revoked = r.Now().UTC()
		}
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return tx.Put(kindDevice, id, v)
	})
	if err != nil {
		return Device{}, fmt.Errorf("devices: revoke %s: %w", id, err)
	}
	return d, nil
}

// List returns every enrolled device, revoked ones too, by id.
func (r *Registry) List() ([]Device, error) {
	var out []Device
	err := r.log.View(func(tx store.Tx) error {
		return tx.Each(kindDevice, func(_ string, v []byte) error {
			var d Device
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("devices: list: %w", err)
	}
	return out, nil
}

// Lookup returns a device's public key and scope for a connecting
// session. It fails with ErrUnknown or ErrRevoked.
func (r *Registry) Lookup(id string) (ed25519.PublicKey, scope.Device, error) {
	var d Device
	err := r.log.View(func(tx store.Tx) error {
		var err error
		d, err = get(tx, id)
		return err
	})
	if err != nil {
		return nil, scope.Device{}, fmt.Errorf("devices: lookup %s: %w", id, err)
	}
	if !d.Revoked.IsZero() {
		return nil, scope.Device{}, fmt.Errorf("devices: lookup %s: %w on %s", id, ErrRevoked, d.Revoked.Format(time.DateTime))
	}
	f, err := r.facility(d.Facility)
	if err != nil {
		return nil, scope.Device{}, fmt.Errorf("devices: lookup %s: %w", id, err)
	}
	return ed25519.PublicKey(d.PublicKey), scope.Device{ID: d.ID, Facility: f, Role: d.Role}, nil
}

func get(tx store.Tx, id string) (Device, error) {
	v, err := tx.Get(kindDevice, id)
	if errors.Is(err, store.ErrNotFound) {
		return Device{}, ErrUnknown
	}
	if err != nil {
		return Device{}, err
	}
	var d Device
	if err := json.Unmarshal(v, &d); err != nil {
		return Device{}, fmt.Errorf("read device: %w", err)
	}
	return d, nil
}

func (r *Registry) facility(id string) (facility.Facility, error) {
	all, err := r.facilities()
	if err != nil {
		return facility.Facility{}, err
	}
	f, ok := all[id]
	if !ok {
		return facility.Facility{}, fmt.Errorf("%w: %q", ErrNoFacility, id)
	}
	return f, nil
}
