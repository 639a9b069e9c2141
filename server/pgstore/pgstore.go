// Package pgstore is the store seam (server/store) on PostgreSQL: the
// replicated engine a prefecture or the country runs on, where the
// embedded Badger store (server/oplog) holds one city on one machine.
//
// Every row belongs to a tenant (a municipality). Each tenant has its own
// gapless global sequence, kept in its row of the tenants table and locked
// inside every commit, so numbers follow commit order even when several
// server processes write to one tenant. One writer goroutine per Store
// group-commits the pushes that arrive while the previous commit is in
// flight into one transaction of two round trips, and acknowledges only
// after COMMIT returned (with a synchronous standby: after the WAL is on
// two machines). Readers are served only ops up to the durable head: the
// head this process committed, or one another process published after
// its COMMIT (LISTEN/NOTIFY, with a poll as fall-back), so no device pulls
// an op a failover could lose.
//
// Op bodies and record values are sealed with the store key (AES-256-GCM)
// before they leave the process: community PostgreSQL does not encrypt at
// rest, and its volume encryption is the operator's (see the README).
package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// ErrBackup is returned by Backup: a PostgreSQL store is backed up by the
// engine (a base backup and its WAL archive), not through the server.
var ErrBackup = errors.New("pgstore: back up PostgreSQL with pg_basebackup and WAL archiving (see the README), not through the server")

// maxOpsPerCommit bounds one group commit, as oplog's does.
const maxOpsPerCommit = 4096

// pollEvery is how often a store reads the published head when no
// notification came: the fall-back for a notification lost with its
// connection.
const pollEvery = time.Second

// Options configure Open.
type Options struct {
	// Tenant names the municipality whose data this store holds; a new
	// name creates the tenant, with a new epoch.
	Tenant string
	// Key seals op bodies and record values (AES-256; 32 bytes). It is
	// required: the rows leave the process.
	Key []byte
	// Feeds names the feeds besides store.FeedAll an op belongs to.
	Feeds func(syncproto.Op) []string
	// Erasure, when set, lets an op erase earlier ops (store.Erasure).
	Erasure *store.Erasure
	// Logger receives the store's warnings (a lost notification
	// connection); nil logs to slog.Default.
	Logger *slog.Logger
	// MaxConns bounds the connection pool; 0 means 16.
	MaxConns int32
	// poll replaces pollEvery, so a test can tell notifications from
	// the poll.
	poll time.Duration
	// deaf, in a test, opens a store that neither listens nor polls:
	// only its own commits move its head.
	deaf bool
}

// Store is a tenant's store on PostgreSQL. It is safe for concurrent use,
// and several Stores (in one process or many) may serve one tenant.
type Store struct {
	pool    *pgxpool.Pool
	tenant  int32
	epoch   string
	seal    *sealer
	recs    *recHasher
	feeds   func(syncproto.Op) []string
	erasure *store.Erasure
	logger  *slog.Logger
	channel string
	poll    time.Duration
	// backfill says Open must index the records of older ops
	// (indexOlderRecords); load sets it.
	backfill bool

	reqs chan *appendReq
	stop chan struct{}
	done sync.WaitGroup
	// writerDone is closed when the writer has returned.
	writerDone chan struct{}
	// published wakes the publisher after a commit.
	published chan struct{}

	head    atomic.Uint64
	mu      sync.Mutex
	changed store.Waiters
	closed  bool
}

var _ store.Store = (*Store)(nil)

// schema creates the tables every tenant shares. ids are bytea so records
// sort by their bytes whatever the database's collation.
const schema = `
CREATE TABLE IF NOT EXISTS tenants (
	id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE,
	epoch text NOT NULL,
	key_check bytea NOT NULL,
	head bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS published (
	tenant int PRIMARY KEY REFERENCES tenants(id),
	head bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ops (
	tenant int NOT NULL,
	global bigint NOT NULL,
	device text NOT NULL,
	seq bigint NOT NULL,
	op bytea NOT NULL,
	PRIMARY KEY (tenant, global)
);
CREATE UNIQUE INDEX IF NOT EXISTS ops_device ON ops (tenant, device, seq);
CREATE TABLE IF NOT EXISTS feeds (
	tenant int NOT NULL,
	feed text NOT NULL,
	global bigint NOT NULL,
	PRIMARY KEY (tenant, feed, global)
);
CREATE TABLE IF NOT EXISTS marks (
	tenant int NOT NULL,
	device text NOT NULL,
	mark bigint NOT NULL,
	PRIMARY KEY (tenant, device)
);
CREATE TABLE IF NOT EXISTS records (
	tenant int NOT NULL,
	kind text NOT NULL,
	id bytea NOT NULL,
	value bytea NOT NULL,
	PRIMARY KEY (tenant, kind, id)
);
`

// schemaLock is the advisory lock that serialises schema creation among
// processes starting at once.
const schemaLock = 0x5350_0001

// Open connects to the PostgreSQL database at url, creates the schema and
// the tenant when missing, and starts the tenant's writer.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	if opt.Tenant == "" {
		return nil, errors.New("pgstore: name the tenant (the municipality)")
	}
	seal, err := newSealer(opt.Key)
	if err != nil {
		return nil, err
	}
	recs, err := newRecHasher(opt.Key)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	cfg.MaxConns = opt.MaxConns
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{
		pool: pool, seal: seal, recs: recs, feeds: opt.Feeds, erasure: opt.Erasure, logger: opt.Logger,
		reqs: make(chan *appendReq, 256), stop: make(chan struct{}), writerDone: make(chan struct{}),
		published: make(chan struct{}, 1),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.poll = opt.poll; s.poll == 0 {
		s.poll = pollEvery
	}
	if err := s.load(ctx, opt.Tenant); err != nil {
		pool.Close()
		return nil, err
	}
	if s.backfill {
		if err := s.indexOlderRecords(ctx, s.head.Load()); err != nil {
			pool.Close()
			return nil, err
		}
	}
	s.channel = fmt.Sprintf("smartpass_head_%d", s.tenant)
	s.done.Add(2)
	go s.writer()
	go s.publisher()
	if opt.deaf {
		return s, nil
	}
	listening := make(chan error, 1)
	s.done.Add(1)
	go s.listener(url, listening)
	if err := <-listening; err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// load creates the schema and the tenant when missing and reads the
// tenant's id, epoch and head. At open every committed op is durable
// (after a failover, what the promoted standby holds is what counts), so
// the head is published as it is.
func (s *Store) load(ctx context.Context, name string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(schemaLock)); err != nil {
		return fmt.Errorf("pgstore: schema lock: %w", err)
	}
	if _, err := tx.Exec(ctx, schema); err != nil {
		return fmt.Errorf("pgstore: create schema: %w", err)
	}
	if err := migrateRecords(ctx, tx); err != nil {
		return err
	}
	var check []byte
	var head int64
	err = tx.QueryRow(ctx, "SELECT id, epoch, key_check, head FROM tenants WHERE name = $1", name).Scan(&s.tenant, &s.epoch, &check, &head)
	if errors.Is(err, pgx.ErrNoRows) {
		s.epoch = newEpoch()
		// The check is sealed with the tenant's id, known after the insert.
		err = tx.QueryRow(ctx, "INSERT INTO tenants (name, epoch, key_check) VALUES ($1, $2, '') RETURNING id", name, s.epoch).Scan(&s.tenant)
		if err == nil {
			check = s.seal.seal(checkAAD(s.tenant), []byte(name))
			_, err = tx.Exec(ctx, "UPDATE tenants SET key_check = $2 WHERE id = $1", s.tenant, check)
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: tenant %s: %w", name, err)
	}
	if got, err := s.seal.open(checkAAD(s.tenant), check); err != nil || string(got) != name {
		return fmt.Errorf("%w (tenant %s)", ErrWrongKey, name)
	}
	if s.backfill, err = s.recordState(ctx, tx, head); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO published (tenant, head) VALUES ($1, $2)
		ON CONFLICT (tenant) DO UPDATE SET head = greatest(published.head, excluded.head)`, s.tenant, head); err != nil {
		return fmt.Errorf("pgstore: publish head: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: tenant %s: %w", name, err)
	}
	s.head.Store(uint64(head))
	return nil
}

func newEpoch() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewEpoch gives tenant a new epoch, as a restore must: devices that
// synced before see that their cursors no longer apply and resend what
// the restored database may lack. Run it on a restored cluster before a
// server opens it.
func NewEpoch(ctx context.Context, url, tenant string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, "UPDATE tenants SET epoch = $2 WHERE name = $1", tenant, newEpoch())
	if err != nil {
		return fmt.Errorf("pgstore: new epoch: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("pgstore: new epoch: no tenant %q", tenant)
	}
	return nil
}

// Epoch names the tenant's history.
func (s *Store) Epoch() string { return s.epoch }

// Head returns the durable head: the highest global sequence readers are
// served.
func (s *Store) Head() uint64 { return s.head.Load() }

// Changed returns a channel closed at the next commit that adds an op to
// feed; a commit of another process wakes every feed, as its
// notification names only the head.
func (s *Store) Changed(feed string) <-chan struct{} { return s.changed.Changed(feed) }

// advance raises the durable head to head and wakes the waiters on
// touched (every feed when touched is nil). base is the head a commit of
// this process started from (0 for a head learned from another
// process): when the store knew less than base, other processes' ops lie
// between, whose feeds this commit does not know, so every feed wakes.
// Without that, a commit that learned another server's ops through the
// head row raised the head past them, waking only its own feeds, and the
// other server's notification, no longer above the head, woke nobody: a
// device waiting on those ops' feed waited until its next reconnection
// (TestChangedAfterAnotherServersCommit; the chaos round's device that
// never caught up).
func (s *Store) advance(head, base uint64, touched map[string]bool) {
	s.mu.Lock()
	known := s.head.Load()
	if head <= known {
		s.mu.Unlock()
		return
	}
	if base > known {
		touched = nil
	}
	s.head.Store(head)
	s.mu.Unlock()
	s.changed.Wake(touched)
}

// Mark returns device's acknowledged mark.
func (s *Store) Mark(device string) (uint64, error) {
	var mark int64
	err := s.pool.QueryRow(context.Background(), "SELECT mark FROM marks WHERE tenant = $1 AND device = $2", s.tenant, device).Scan(&mark)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: mark of %s: %w", device, err)
	}
	return uint64(mark), nil
}

// Last returns device's op at its mark.
func (s *Store) Last(device string) (syncproto.Op, bool, error) {
	var global int64
	var sealed []byte
	err := s.pool.QueryRow(context.Background(), `SELECT o.global, o.op FROM marks m
		JOIN ops o ON o.tenant = m.tenant AND o.device = m.device AND o.seq = m.mark
		WHERE m.tenant = $1 AND m.device = $2`, s.tenant, device).Scan(&global, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return syncproto.Op{}, false, nil
	}
	if err != nil {
		return syncproto.Op{}, false, fmt.Errorf("pgstore: last op of %s: %w", device, err)
	}
	op, err := s.openOp(uint64(global), sealed)
	if err != nil {
		return syncproto.Op{}, false, fmt.Errorf("pgstore: last op of %s: %w", device, err)
	}
	return op, true, nil
}

func (s *Store) sealOp(op syncproto.Op) ([]byte, error) {
	b, err := op.AppendJSON(nil)
	if err != nil {
		return nil, err
	}
	return s.seal.seal(opAAD(s.tenant, op.Global), b), nil
}

func (s *Store) openOp(global uint64, sealed []byte) (syncproto.Op, error) {
	var op syncproto.Op
	b, err := s.seal.open(opAAD(s.tenant, global), sealed)
	if err != nil {
		return op, fmt.Errorf("op %d: %w", global, err)
	}
	if err := json.Unmarshal(b, &op); err != nil {
		return op, fmt.Errorf("op %d: %w", global, err)
	}
	return op, nil
}

// Since returns up to limit ops of feed after after, up to the durable
// head, stopping once their sealed bodies pass maxBytes (one op at least,
// so a feed always moves).
func (s *Store) Since(feed string, after uint64, limit, maxBytes int) ([]syncproto.Op, error) {
	head := s.head.Load()
	if after >= head || limit <= 0 {
		return nil, nil
	}
	q := `SELECT global, op FROM ops WHERE tenant = $1 AND global > $2 AND global <= $3 ORDER BY global LIMIT $4`
	args := []any{s.tenant, int64(after), int64(head), limit}
	if feed != store.FeedAll {
		q = `SELECT o.global, o.op FROM feeds f JOIN ops o ON o.tenant = f.tenant AND o.global = f.global
			WHERE f.tenant = $1 AND f.global > $2 AND f.global <= $3 AND f.feed = $5 ORDER BY f.global LIMIT $4`
		args = append(args, feed)
	}
	rows, err := s.pool.Query(context.Background(), q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read %s after %d: %w", feed, after, err)
	}
	defer rows.Close()
	var out []syncproto.Op
	size := 0
	for rows.Next() {
		var global int64
		var sealed []byte
		if err := rows.Scan(&global, &sealed); err != nil {
			return nil, fmt.Errorf("pgstore: read %s: %w", feed, err)
		}
		size += len(sealed)
		if size > maxBytes && len(out) > 0 {
			break
		}
		op, err := s.openOp(uint64(global), sealed)
		if err != nil {
			return nil, fmt.Errorf("pgstore: read %s: %w", feed, err)
		}
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: read %s after %d: %w", feed, after, err)
	}
	return out, nil
}

// Backup refuses: see ErrBackup.
func (s *Store) Backup(io.Writer) error { return ErrBackup }

// Close stops the writer (after the commit in flight), the publisher and
// the listener, and closes the pool. Callers stop every reader first.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.done.Wait()
	s.pool.Close()
	return nil
}
