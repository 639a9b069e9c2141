// Package numbervault is the one place the server keeps the individual
// number (個人番号), and only for the hometown-tax one-stop application,
// which the city forwards to the donor's municipality of residence.
//
// The vault seals each number under a key of its own (not the store's,
// so the store's key alone opens none, and a backup holds them sealed),
// keyed by the application, with the municipality it goes to; the city
// exports one municipality's batch as a file and the vault deletes those
// numbers once the file is written. Every put, export and deletion is
// audited, without the number.
package numbervault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"smartpass.city/smartpass/app/mynumber"
	"smartpass.city/smartpass/server/store"
)

// ErrKey means the vault's key is not 32 bytes, or not the key the
// numbers were sealed with.
var ErrKey = errors.New("numbervault: the vault key is wrong")

// recordKind names the vault's records in the store.
const recordKind = "mynumber.vault"

// entry is what the vault seals per application.
type entry struct {
	Digits       string    `json:"n"`
	Municipality string    `json:"m"` // where the application is forwarded
	Stored       time.Time `json:"t"`
}

// Vault keeps the numbers of one-stop applications.
type Vault struct {
	rec  store.Records
	aead cipher.AEAD
	// Audit records each access (actor, action, subject, detail); the
	// number is never among them.
	Audit func(actor, action, subject, detail string)
	Now   func() time.Time
}

// New returns the vault over rec, sealing with key (32 bytes, the
// vault's own: not the store's key, so the store's key alone opens no
// number).
func New(rec store.Records, key []byte) (*Vault, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: %d bytes, want 32", ErrKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("numbervault: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("numbervault: %w", err)
	}
	return &Vault{rec: rec, aead: aead, Audit: func(string, string, string, string) {}, Now: time.Now}, nil
}

func (v *Vault) seal(app string, e entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	// The application id is the additional data: a sealed number moved
	// to another application's record does not open.
	return v.aead.Seal(nonce, nonce, b, []byte(app)), nil
}

func (v *Vault) open(app string, b []byte) (entry, error) {
	ns := v.aead.NonceSize()
	if len(b) < ns {
		return entry{}, fmt.Errorf("%w: record %s is too short", ErrKey, app)
	}
	plain, err := v.aead.Open(nil, b[:ns], b[ns:], []byte(app))
	if err != nil {
		return entry{}, fmt.Errorf("%w: record %s does not open", ErrKey, app)
	}
	var e entry
	if err := json.Unmarshal(plain, &e); err != nil {
		return entry{}, fmt.Errorf("numbervault: record %s: %w", app, err)
	}
	return e, nil
}

// Put keeps n for application app, to be forwarded to municipality;
// actor is who stored it (the donor's account). A second Put for the
// same application replaces the first (the donor corrected it).
func (v *Vault) Put(actor, app, municipality string, n mynumber.Number) error {
	if n.IsZero() || app == "" || municipality == "" {
		return fmt.Errorf("%w: an application, a municipality and a number are needed", mynumber.ErrInvalid)
	}
	b, err := v.seal(app, entry{Digits: n.Reveal(), Municipality: municipality, Stored: v.Now().UTC()})
	if err != nil {
		return fmt.Errorf("numbervault: seal: %w", err)
	}
	if err := v.rec.Update(func(tx store.Tx) error { return tx.Put(recordKind, app, b) }); err != nil {
		return fmt.Errorf("numbervault: put: %w", err)
	}
	v.Audit(actor, "mynumber.put", app, "to "+municipality)
	return nil
}

// Pending returns how many applications wait for export, per
// municipality (for the city's report: no number is opened for it
// beyond the municipality).
func (v *Vault) Pending() (map[string]int, error) {
	out := make(map[string]int)
	err := v.rec.View(func(tx store.Tx) error {
		return tx.Each(recordKind, func(app string, b []byte) error {
			e, err := v.open(app, b)
			if err != nil {
				return err
			}
			out[e.Municipality]++
			return nil
		})
	})
	return out, err
}

// ExportFormat names the export file's format, written on its first
// line: a CSV in UTF-8 with the columns application, individual number.
const ExportFormat = "smartpass-onestop-mynumber-v1"

// Export writes municipality's batch to w and then deletes those numbers
// from the vault; it returns how many it exported. When w fails nothing
// is deleted. When the deletion fails after w took the file, the numbers
// stay and the next export sends them again: the receiving municipality
// takes an application once by its id, and nothing is lost.
func (v *Vault) Export(actor, municipality string, w io.Writer) (int, error) {
	type row struct{ app, digits string }
	var rows []row
	err := v.rec.View(func(tx store.Tx) error {
		return tx.Each(recordKind, func(app string, b []byte) error {
			e, err := v.open(app, b)
			if err != nil {
				return err
			}
			if e.Municipality == municipality {
				rows = append(rows, row{app, e.Digits})
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("numbervault: export: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{ExportFormat, municipality, fmt.Sprint(len(rows))}); err != nil {
		return 0, fmt.Errorf("numbervault: export: %w", err)
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.app, r.digits}); err != nil {
			return 0, fmt.Errorf("numbervault: export: %w", err)
		}
	}
	if cw.Flush(); cw.Error() != nil {
		return 0, fmt.Errorf("numbervault: export: %w", cw.Error())
	}
	v.Audit(actor, "mynumber.export", municipality, fmt.Sprintf("%d applications", len(rows)))
	apps := make([]string, len(rows))
	for i, r := range rows {
		apps[i] = r.app
	}
	if err := v.Delete(actor, apps...); err != nil {
		return len(rows), fmt.Errorf("numbervault: exported, but not deleted (the next export sends them again): %w", err)
	}
	return len(rows), nil
}

// Delete removes the numbers of apps (exported, or withdrawn by the
// donor).
func (v *Vault) Delete(actor string, apps ...string) error {
	if len(apps) == 0 {
		return nil
	}
	apps = slices.Clone(apps)
	if err := v.rec.Update(func(tx store.Tx) error {
		for _, a := range apps {
			if err := tx.Delete(recordKind, a); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, a := range apps {
		v.Audit(actor, "mynumber.delete", a, "")
	}
	return nil
}
