package pgstore

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"

	"smartpass.city/smartpass/syncproto"
)

// The record index lets an erasure (store.Erasure) find the earlier ops
// about its record without reading its feeds: a desk registration
// withdraws the face from every other recognising facility, so a scan of
// each feed made every registration slower than the last (oplog has the
// same index). Each op that names a record carries, in ops.rec, a keyed
// hash of the record id, indexed with (tenant, rec, global). The hash,
// not the id: the ops are sealed at rest, and a resident's id in the
// clear would say which ops are theirs.

// recSchema adds the record index to a database from before it: the
// column, its index (partial: most ops name no record), and the tenant's
// flag saying whether every op it holds carries its rec.
const recSchema = `
ALTER TABLE ops ADD COLUMN IF NOT EXISTS rec bytea;
CREATE INDEX IF NOT EXISTS ops_rec ON ops (tenant, rec, global) WHERE rec IS NOT NULL;
ALTER TABLE tenants ADD COLUMN IF NOT EXISTS rec_indexed boolean NOT NULL DEFAULT false;
`

// recHashLen is how much of the HMAC the index keeps: 128 bits make a
// collision improbable, and one only costs erase an op it opens and
// passes over (it checks the op's record), so the index need not hold 32
// bytes an op.
const recHashLen = 16

// backfillChunk is how many ops one statement of the backfill reads.
const backfillChunk = 1000

// recHasher computes the record index's keyed hashes.
type recHasher struct{ key []byte }

// newRecHasher derives the index's HMAC key from the store key, so the
// key that seals the ops is never used for anything else.
func newRecHasher(storeKey []byte) (*recHasher, error) {
	key, err := hkdf.Key(sha256.New, storeKey, nil, "smartpass pgstore record index", sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("pgstore: record index key: %w", err)
	}
	return &recHasher{key: key}, nil
}

// hash is the index's value for record rec of tenant; with the tenant
// in it, one resident's ops do not share a value across tenants.
func (h *recHasher) hash(tenant int32, rec string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write(binary.BigEndian.AppendUint32(nil, uint32(tenant)))
	m.Write([]byte(rec))
	return m.Sum(nil)[:recHashLen]
}

// record is store.Erasure.Record of op: the record it names ("" for
// none, or when the store has no erasure) and whether it erases it.
func (s *Store) record(op syncproto.Op) (string, bool) {
	if s.erasure == nil {
		return "", false
	}
	return s.erasure.Record(op)
}

// recHash is the rec column of an op about record rec: its hash, nil
// (NULL) for none.
func (s *Store) recHash(rec string) []byte {
	if rec == "" {
		return nil
	}
	return s.recs.hash(s.tenant, rec)
}

// recOf returns the rec column of op.
func (s *Store) recOf(op syncproto.Op) []byte {
	rec, _ := s.record(op)
	return s.recHash(rec)
}

// migrateRecords adds the record index to a database from before it.
// The check comes first: ALTER TABLE takes an exclusive lock on ops even
// when the column exists, which would stall every server of every tenant
// at each Open. It runs in load's transaction, under the schema lock.
func migrateRecords(ctx context.Context, tx pgx.Tx) error {
	var has bool
	err := tx.QueryRow(ctx, `SELECT count(*) = 2 FROM pg_attribute
		WHERE (attrelid, attname) IN (('ops'::regclass, 'rec'), ('tenants'::regclass, 'rec_indexed')) AND NOT attisdropped`).Scan(&has)
	if err != nil {
		return fmt.Errorf("pgstore: record index: %w", err)
	}
	if has {
		return nil
	}
	if _, err := tx.Exec(ctx, recSchema); err != nil {
		return fmt.Errorf("pgstore: add the record index: %w", err)
	}
	return nil
}

// recordState reads, in load's transaction, whether the tenant's ops all
// carry their rec, and reports whether Open must backfill them. A store
// without an erasure writes no rec, so it clears the flag: the next
// store with one indexes what it wrote. A tenant without ops has
// nothing to backfill.
func (s *Store) recordState(ctx context.Context, tx pgx.Tx, head int64) (backfill bool, err error) {
	if s.erasure == nil {
		_, err = tx.Exec(ctx, "UPDATE tenants SET rec_indexed = false WHERE id = $1 AND rec_indexed", s.tenant)
	} else {
		var indexed bool
		err = tx.QueryRow(ctx, "SELECT rec_indexed FROM tenants WHERE id = $1", s.tenant).Scan(&indexed)
		if err == nil && !indexed && head == 0 {
			_, err = tx.Exec(ctx, "UPDATE tenants SET rec_indexed = true WHERE id = $1", s.tenant)
			indexed = true
		}
		backfill = !indexed
	}
	if err != nil {
		return false, fmt.Errorf("pgstore: record index state: %w", err)
	}
	return backfill, nil
}

// indexOlderRecords gives the tenant's ops up to upTo (the head at Open)
// that have no rec theirs, a chunk of ops a statement, then marks the
// tenant indexed so later Opens skip it. Later ops carry their rec from
// the INSERT. It is idempotent: two servers opening at once, or one
// interrupted and started again, only redo the work.
func (s *Store) indexOlderRecords(ctx context.Context, upTo uint64) error {
	s.logger.Info("pgstore: indexing the records of ops written before the record index", "tenant", s.tenant, "ops", upTo)
	for after := int64(0); after < int64(upTo); {
		globals, recs, last, err := s.olderRecords(ctx, after, int64(upTo))
		if err != nil {
			return fmt.Errorf("pgstore: index older ops after %d: %w", after, err)
		}
		if last == after {
			break
		}
		after = last
		if len(globals) == 0 {
			continue
		}
		if _, err := s.pool.Exec(ctx, `UPDATE ops SET rec = u.rec FROM unnest($2::bigint[], $3::bytea[]) AS u(global, rec)
			WHERE ops.tenant = $1 AND ops.global = u.global AND ops.rec IS NULL`, s.tenant, globals, recs); err != nil {
			return fmt.Errorf("pgstore: index older ops after %d: %w", after, err)
		}
	}
	if _, err := s.pool.Exec(ctx, "UPDATE tenants SET rec_indexed = true WHERE id = $1", s.tenant); err != nil {
		return fmt.Errorf("pgstore: mark the records indexed: %w", err)
	}
	return nil
}

// olderRecords reads the chunk of ops after after (up to upTo) and
// returns those without a rec that name a record, with their rec, and
// the last global read.
func (s *Store) olderRecords(ctx context.Context, after, upTo int64) (globals []int64, recs [][]byte, last int64, err error) {
	rows, err := s.pool.Query(ctx, `SELECT global, op, rec IS NULL FROM ops WHERE tenant = $1 AND global > $2 AND global <= $3
		ORDER BY global LIMIT $4`, s.tenant, after, upTo, backfillChunk)
	if err != nil {
		return nil, nil, 0, err
	}
	defer rows.Close()
	last = after
	for rows.Next() {
		var global int64
		var sealed []byte
		var missing bool
		if err := rows.Scan(&global, &sealed, &missing); err != nil {
			return nil, nil, 0, err
		}
		last = global
		if !missing {
			continue
		}
		op, err := s.openOp(uint64(global), sealed)
		if err != nil {
			return nil, nil, 0, err
		}
		if rec := s.recOf(op); rec != nil {
			globals, recs = append(globals, global), append(recs, rec)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, 0, err
	}
	return globals, recs, last, nil
}
