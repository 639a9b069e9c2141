// Package audit is the server's audit log: an append-only, hash-chained
// record of who did what to which record (device enrollments and
// revocations, enrollment codes, sync sessions, backups; identifications
// and reads of personal data as those screens arrive). Each entry holds
// the hash of the one before it, so removing, reordering or editing any
// entry breaks the chain at that point, which Verify reports.
//
// Entries live in the op log's private keyspace: encrypted at rest like
// everything else, included in backups, never served to devices.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"smartpass.city/smartpass/server/store"
)

// kind names the entries in the private keyspace; ids are the sequence
// as 16 hex digits, so they sort in order.
const kind = "audit"

// The indexes, so that a resident's own history and a device's last
// session do not walk the whole log: for each entry, a record of kind
// bySubject(subject) and one of kind byActor(actor, action), each with
// the entry's id. kindIndexed's record "upto" holds the last entry
// indexed; entries written before the indexes existed are indexed at the
// first read (catchUp).
const (
	kindIndexed = "audit.indexed"
	// maxIndexed bounds the names indexed: ids, not sentences.
	maxIndexed = 64
)

// bySubject and byActor name the index kinds (hex: any bytes, no
// separator).
func bySubject(subject string) string {
	return "audit.by." + hex.EncodeToString([]byte(subject))
}

func byActor(actor, action string) string {
	return "audit.act." + hex.EncodeToString([]byte(actor+"\x00"+action))
}

// index records e in the indexes when everything before it is indexed.
func index(tx store.Tx, e Entry) error {
	upto, err := indexedUpto(tx)
	if err != nil || upto != e.Seq-1 {
		return err // an older log not caught up yet: catchUp will do it
	}
	if e.Subject != "" && len(e.Subject) <= maxIndexed {
		if err := tx.Put(bySubject(e.Subject), id(e.Seq), nil); err != nil {
			return err
		}
	}
	if len(e.Actor) <= maxIndexed && len(e.Action) <= maxIndexed {
		if err := tx.Put(byActor(e.Actor, e.Action), id(e.Seq), nil); err != nil {
			return err
		}
	}
	return tx.Put(kindIndexed, "upto", []byte(id(e.Seq)))
}

func indexedUpto(tx store.Tx) (uint64, error) {
	v, err := tx.Get(kindIndexed, "upto")
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	_, err = fmt.Sscanf(string(v), "%x", &n)
	return n, err
}

// Entry is one audited event.
type Entry struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`             // a device id, "admin", or "server"
	Action  string    `json:"action"`            // "device.register", "sync.session", ...
	Subject string    `json:"subject,omitempty"` // what it was done to
	Detail  string    `json:"detail,omitempty"`
	Prev    string    `json:"prev"` // hash of the entry before ("" for the first)
	Hash    string    `json:"hash"` // sha256 of this entry with Hash empty
}

// ErrBroken is wrapped by Verify when the chain does not hold.
var ErrBroken = errors.New("audit: the log has been altered")

// Log is the audit log in an op log's private records.
type Log struct {
	log store.Store
	// Now is the clock; tests set it.
	Now func() time.Time
	// Logger receives the failures of Note (slog.Default when nil).
	Logger *slog.Logger
	// mu queues appends, so a burst of them (200 tablets reconnecting)
	// costs one commit each instead of a storm of conflicting retries.
	mu sync.Mutex
	// caughtUp is set once the indexes hold every entry.
	caughtUp atomic.Bool

	// refusals are counted until the next summary (refusals.go).
	refusalsMu sync.Mutex
	refusals   map[string]*tally
}

// New returns the audit log kept in log.
func New(log store.Store) *Log { return &Log{log: log, Now: time.Now} }

func id(seq uint64) string { return fmt.Sprintf("%016x", seq) }

func hash(e Entry) string {
	e.Hash = ""
	b, _ := json.Marshal(e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Printable returns s as it may be printed on one line of a terminal or
// stored in an entry: as it is when every character is visible text
// (Japanese, spaces included), else quoted with Go's escapes, so that a
// newline, a tab, an escape sequence or a bidi control in a field cannot
// forge a line of `server audit` or hide a part of one.
func Printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Append records an event and returns the entry as stored. Every field is
// stored Printable: callers validate what they pass (an id is an id),
// and what slips through still cannot forge an entry when printed.
func (a *Log) Append(actor, action, subject, detail string) (Entry, error) {
	actor, action, subject, detail = Printable(actor), Printable(action), Printable(subject), Printable(detail)
	a.mu.Lock()
	defer a.mu.Unlock()
	var e Entry
	err := a.log.Update(func(tx store.Tx) error {
		e = Entry{Seq: 1, Time: a.Now().UTC(), Actor: actor, Action: action, Subject: subject, Detail: detail}
		_, last, err := tx.Last(kind)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			var prev Entry
			if err := json.Unmarshal(last, &prev); err != nil {
				return fmt.Errorf("read the last entry: %w", err)
			}
			e.Seq, e.Prev = prev.Seq+1, prev.Hash
		}
		// Reading the slot makes a concurrent append of the same seq a
		// conflict, which Update retries: the chain never forks.
		if _, err := tx.Get(kind, id(e.Seq)); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("entry %d exists already: %v", e.Seq, err)
		}
		e.Hash = hash(e)
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := tx.Put(kind, id(e.Seq), b); err != nil {
			return err
		}
		return index(tx, e)
	})
	if err != nil {
		return Entry{}, fmt.Errorf("audit: append %s: %w", action, err)
	}
	return e, nil
}

// Note records an event for an action that goes on even when auditing
// fails (a device registering, a session opening): the failure is
// logged where the operators look, not returned.
func (a *Log) Note(actor, action, subject, detail string) {
	if _, err := a.Append(actor, action, subject, detail); err != nil {
		a.logger().Error("audit: an event could not be recorded", "action", action, "actor", actor, "err", err)
	}
}

func (a *Log) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

// Verify walks the whole chain and returns the number of entries, or an
// error wrapping ErrBroken that names the first entry that does not hold.
func (a *Log) Verify(fn func(Entry)) (int, error) {
	n := 0
	prev := ""
	err := a.log.View(func(tx store.Tx) error {
		return tx.Each(kind, func(key string, v []byte) error {
			n++
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("%w: entry %s does not parse: %v", ErrBroken, key, err)
			}
			switch {
			case key != id(uint64(n)) || e.Seq != uint64(n):
				return fmt.Errorf("%w: entry %d is missing (found %s)", ErrBroken, n, key)
			case e.Prev != prev:
				return fmt.Errorf("%w: entry %d does not follow entry %d", ErrBroken, n, n-1)
			case e.Hash != hash(e):
				return fmt.Errorf("%w: entry %d was changed after it was written", ErrBroken, n)
			}
			prev = e.Hash
			if fn != nil {
				fn(e)
			}
			return nil
		})
	})
	return n, err
}

// About calls fn with every entry whose subject is exactly subject, oldest
// first, read through the index.
func (a *Log) About(subject string, fn func(Entry)) error {
	if err := a.catchUp(); err != nil {
		return fmt.Errorf("audit: index: %w", err)
	}
	return a.log.View(func(tx store.Tx) error {
		return tx.Each(bySubject(subject), func(seq string, _ []byte) error {
			e, err := indexed(tx, seq)
			if err == nil && e.Subject != subject {
				err = fmt.Errorf("%w: entry %s was changed after it was written", ErrBroken, seq)
			}
			if err == nil {
				fn(e)
			}
			return err
		})
	})
}

// Latest returns the newest entry of actor's action (a device's last
// sync session); ok is false when there is none.
func (a *Log) Latest(actor, action string) (e Entry, ok bool, err error) {
	if err := a.catchUp(); err != nil {
		return Entry{}, false, fmt.Errorf("audit: index: %w", err)
	}
	err = a.log.View(func(tx store.Tx) error {
		seq, _, err := tx.Last(byActor(actor, action))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err == nil {
			e, err = indexed(tx, seq)
		}
		if err == nil && (e.Actor != actor || e.Action != action) {
			err = fmt.Errorf("%w: entry %s was changed after it was written", ErrBroken, seq)
		}
		ok = err == nil
		return err
	})
	return e, ok, err
}

// indexed reads the entry an index names, checked against its own hash
// (an edited one fails with ErrBroken); the chain as a whole is
// audit-verify's.
func indexed(tx store.Tx, seq string) (Entry, error) {
	v, err := tx.Get(kind, seq)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: entry %s is missing: %v", ErrBroken, seq, err)
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil || e.Hash != hash(e) || id(e.Seq) != seq {
		return Entry{}, fmt.Errorf("%w: entry %s was changed after it was written", ErrBroken, seq)
	}
	return e, nil
}

// catchUpBatch is how many entries one transaction indexes.
const catchUpBatch = 1000

// catchUp indexes the entries the index does not hold yet: those of a
// log written before it existed. Appends wait meanwhile.
func (a *Log) catchUp() error {
	if a.caughtUp.Load() {
		return nil // Append keeps the indexes whole from then on
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for done := false; !done; {
		err := a.log.Update(func(tx store.Tx) error {
			upto, err := indexedUpto(tx)
			if err != nil {
				return err
			}
			for n := 0; n < catchUpBatch; n++ {
				v, err := tx.Get(kind, id(upto+1))
				if errors.Is(err, store.ErrNotFound) {
					done = true
					return nil
				}
				if err != nil {
					return err
				}
				var e Entry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("%w: entry %d does not parse: %v", ErrBroken, upto+1, err)
				}
				if err := index(tx, e); err != nil {
					return err
				}
				upto++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	a.caughtUp.Store(true)
	return nil
}
