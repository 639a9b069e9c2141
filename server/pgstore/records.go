package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"smartpass.city/smartpass/server/store"
)

// querier is what a record transaction runs on: a pgx transaction, or
// the connection of a commit that is inside one.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// recordTx is store.Tx on the records table; values are sealed with
// their row's name.
type recordTx struct {
	s   *Store
	ctx context.Context
	q   querier
}

var _ store.Tx = (*recordTx)(nil)

// Get returns the record kind/id, or an error wrapping store.ErrNotFound.
func (t *recordTx) Get(kind, id string) ([]byte, error) {
	var sealed []byte
	err := t.q.QueryRow(t.ctx, "SELECT value FROM records WHERE tenant = $1 AND kind = $2 AND id = $3", t.s.tenant, kind, []byte(id)).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s %s", store.ErrNotFound, kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s %s: %w", kind, id, err)
	}
	return t.open(kind, id, sealed)
}

func (t *recordTx) open(kind, id string, sealed []byte) ([]byte, error) {
	v, err := t.s.seal.open(recordAAD(t.s.tenant, kind, id), sealed)
	if err != nil {
		return nil, fmt.Errorf("pgstore: record %s %s: %w", kind, id, err)
	}
	return v, nil
}

// Put stores the record kind/id.
func (t *recordTx) Put(kind, id string, v []byte) error {
	_, err := t.q.Exec(t.ctx, `INSERT INTO records (tenant, kind, id, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant, kind, id) DO UPDATE SET value = excluded.value`,
		t.s.tenant, kind, []byte(id), t.s.seal.seal(recordAAD(t.s.tenant, kind, id), v))
	if err != nil {
		return fmt.Errorf("pgstore: put %s %s: %w", kind, id, err)
	}
	return nil
}

// Delete removes the record kind/id.
func (t *recordTx) Delete(kind, id string) error {
	if _, err := t.q.Exec(t.ctx, "DELETE FROM records WHERE tenant = $1 AND kind = $2 AND id = $3", t.s.tenant, kind, []byte(id)); err != nil {
		return fmt.Errorf("pgstore: delete %s %s: %w", kind, id, err)
	}
	return nil
}

// Each calls fn with every record of kind in byte order of id.
func (t *recordTx) Each(kind string, fn func(id string, v []byte) error) error {
	rows, err := t.q.Query(t.ctx, "SELECT id, value FROM records WHERE tenant = $1 AND kind = $2 ORDER BY id", t.s.tenant, kind)
	if err != nil {
		return fmt.Errorf("pgstore: each %s: %w", kind, err)
	}
	// Read them all first: fn may use the transaction, which a pending
	// result set holds.
	type rec struct {
		id     string
		sealed []byte
	}
	var recs []rec
	for rows.Next() {
		var id, sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			rows.Close()
			return fmt.Errorf("pgstore: each %s: %w", kind, err)
		}
		recs = append(recs, rec{string(id), sealed})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: each %s: %w", kind, err)
	}
	for _, r := range recs {
		v, err := t.open(kind, r.id, r.sealed)
		if err != nil {
			return err
		}
		if err := fn(r.id, v); err != nil {
			return err
		}
	}
	return nil
}

// Last returns the record of kind with the greatest id.
func (t *recordTx) Last(kind string) (string, []byte, error) {
	var id, sealed []byte
	err := t.q.QueryRow(t.ctx, "SELECT id, value FROM records WHERE tenant = $1 AND kind = $2 ORDER BY id DESC LIMIT 1", t.s.tenant, kind).Scan(&id, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, fmt.Errorf("%w: no %s record", store.ErrNotFound, kind)
	}
	if err != nil {
		return "", nil, fmt.Errorf("pgstore: last %s: %w", kind, err)
	}
	v, err := t.open(kind, string(id), sealed)
	return string(id), v, err
}

// View runs fn in a read-only transaction on one snapshot.
func (s *Store) View(fn func(store.Tx) error) error {
	return s.run(pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// Update runs fn in a serialisable transaction, again on fresh data while
// PostgreSQL aborts it for a concurrent one, so a read-check-write in fn
// is atomic (range reads included: Each and Last see no phantom).
func (s *Store) Update(fn func(store.Tx) error) error {
	return s.run(pgx.TxOptions{IsoLevel: pgx.Serializable}, fn)
}

func (s *Store) run(opts pgx.TxOptions, fn func(store.Tx) error) error {
	ctx := context.Background()
	for try := 0; ; try++ {
		err := s.runOnce(ctx, opts, fn)
		if err == nil || !retryable(err) || try == maxRetries {
			return err
		}
		time.Sleep(time.Duration(try) * time.Millisecond)
	}
}

func (s *Store) runOnce(ctx context.Context, opts pgx.TxOptions, fn func(store.Tx) error) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return store.ErrClosed
	}
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("pgstore: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := fn(&recordTx{s: s, ctx: ctx, q: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	return nil
}
