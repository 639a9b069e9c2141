package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

type appendReq struct {
	device string
	ops    []syncproto.Op
	// feeds, when set, are each op's feeds as the caller read them
	// (AppendRouted); a nil entry is read here.
	feeds   [][]string
	records func(store.Tx) error
	// next numbers the ops in the commit (AppendNext).
	next   bool
	stored []syncproto.Op
	mark   uint64
	err    error
	done   chan struct{}
}

// AppendNew is AppendBatch without records.
func (s *Store) AppendNew(ctx context.Context, device string, ops []syncproto.Op) (uint64, []syncproto.Op, error) {
	return s.AppendBatch(ctx, device, ops, nil)
}

// AppendBatch stores ops as device's, skipping those held, with records
// in the same transaction (store.Log). It returns after COMMIT returned;
// ctx bounds the wait for the writer to take the batch, never the commit
// itself: a commit waiting for the standby is not cancelled, so an
// acknowledgement is never withheld from a commit that happened.
func (s *Store) AppendBatch(ctx context.Context, device string, ops []syncproto.Op, records func(store.Tx) error) (uint64, []syncproto.Op, error) {
	return s.append(ctx, &appendReq{device: device, ops: ops, records: records})
}

// AppendRouted is AppendBatch with the ops' feeds read by the caller
// (store.Log.AppendRouted).
func (s *Store) AppendRouted(ctx context.Context, device string, ops []syncproto.Op, feeds [][]string, records func(store.Tx) error) (uint64, []syncproto.Op, error) {
	if err := store.CheckRouting(ops, feeds); err != nil {
		return 0, nil, fmt.Errorf("pgstore: append: %w", err)
	}
	return s.append(ctx, &appendReq{device: device, ops: ops, feeds: feeds, records: records})
}

// AppendNext is AppendBatch with the ops numbered inside the commit, each
// with device's next free seq (store.Log.AppendNext): the commit holds
// the tenant's head row, so two servers' writers never take one seq.
func (s *Store) AppendNext(ctx context.Context, device string, ops []syncproto.Op, records func(store.Tx) error) ([]syncproto.Op, error) {
	_, stored, err := s.append(ctx, &appendReq{device: device, ops: ops, records: records, next: true})
	return stored, err
}

// append hands req to the writer's group commit and waits for it.
func (s *Store) append(ctx context.Context, req *appendReq) (uint64, []syncproto.Op, error) {
	if err := store.CheckAppend(req.device, req.ops, req.next); err != nil {
		return 0, nil, fmt.Errorf("pgstore: append: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	req.done = make(chan struct{})
	select {
	case s.reqs <- req:
	case <-s.stop:
		return 0, nil, store.ErrClosed
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	select {
	case <-req.done:
		return req.mark, req.stored, req.err
	case <-s.writerDone:
		select {
		case <-req.done:
			return req.mark, req.stored, req.err
		default:
			return 0, nil, store.ErrClosed
		}
	}
}

// writer group-commits the appends that queue while a commit is in
// flight.
func (s *Store) writer() {
	defer s.done.Done()
	defer close(s.writerDone)
	for {
		var batch []*appendReq
		select {
		case req := <-s.reqs:
			batch = append(batch, req)
		case <-s.stop:
			return
		}
		n := len(batch[0].ops)
	drain:
		for n < maxOpsPerCommit {
			select {
			case req := <-s.reqs:
				batch = append(batch, req)
				n += len(req.ops)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// retryable reports a transaction PostgreSQL aborted for a concurrent one
// (serialisation failure, deadlock): run again on fresh data.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// maxRetries bounds how often one commit or update starts again after
// losing a race, so a livelock surfaces as an error.
const maxRetries = 100

func (s *Store) commit(batch []*appendReq) {
	var c commitResult
	var err error
	for try := 0; ; try++ {
		c, err = s.commitOnce(batch)
		if err == nil || !retryable(err) || try == maxRetries {
			break
		}
		time.Sleep(time.Duration(try) * time.Millisecond)
	}
	if err != nil {
		err = fmt.Errorf("pgstore: commit: %w", err)
	} else if c.head > 0 {
		s.advance(c.head, c.base, c.touched)
		select {
		case s.published <- struct{}{}:
		default: // a publish is pending; it will read the newer head
		}
	}
	for _, req := range batch {
		req.err = err
		if err != nil {
			req.stored, req.mark = nil, 0
		}
		close(req.done)
	}
}

type commitResult struct {
	head    uint64 // the new head, 0 when nothing was stored
	base    uint64 // the head the commit found (under the head row's lock)
	touched map[string]bool
}

// deviceState is what a commit knows of a device: its mark and the seqs
// held beyond it (ahead of a gap).
type deviceState struct {
	mark    uint64
	held    map[uint64]bool
	changed bool
}

const heldQuery = `SELECT d.device, coalesce(m.mark, 0),
	coalesce((SELECT array_agg(o.seq ORDER BY o.seq) FROM ops o
		WHERE o.tenant = $1 AND o.device = d.device AND o.seq > coalesce(m.mark, 0)), '{}')
	FROM unnest($2::text[]) AS d(device)
	LEFT JOIN marks m ON m.tenant = $1 AND m.device = d.device`

// commitOnce writes one group in one transaction: a first round trip
// begins it, locks the tenant's head row and reads the devices' marks;
// the second inserts ops, feed rows and marks, moves the head and
// commits. Records and erasure, when a batch has them, run between the
// two on the same transaction.
func (s *Store) commitOnce(batch []*appendReq) (res commitResult, err error) {
	// Not the requesters' contexts: a commit once sent is seen through.
	ctx := context.Background()
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer pc.Release()
	conn := pc.Conn()
	inTx := false
	defer func() {
		if err != nil && inTx {
			rollback(pc)
		}
	}()

	withRecords := false
	var devices []string
	states := map[string]*deviceState{}
	for _, req := range batch {
		withRecords = withRecords || req.records != nil
		if states[req.device] == nil {
			states[req.device] = &deviceState{}
			devices = append(devices, req.device)
		}
	}
	begin := "BEGIN"
	if withRecords {
		// Records written beside ops race with Update, which is
		// serialisable: so is this transaction then.
		begin = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	}
	b := &pgx.Batch{}
	b.Queue(begin)
	b.Queue("SELECT head FROM tenants WHERE id = $1 FOR UPDATE", s.tenant)
	b.Queue(heldQuery, s.tenant, devices)
	inTx = true
	br := conn.SendBatch(ctx, b)
	var head int64
	if _, err = br.Exec(); err == nil {
		err = br.QueryRow().Scan(&head)
	}
	if err == nil {
		err = readStates(br, states)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}

	next := uint64(head)
	var (
		globals, seqs []int64
		devs          []string
		bodies        [][]byte
		recs          [][]byte
		feedNames     []string
		feedGlobals   []int64
		erasing       []erasingOp
	)
	touched := map[string]bool{store.FeedAll: true}
	for _, req := range batch {
		req.stored = nil
		st := states[req.device]
		seq := st.mark // the last seq given (next)
		for i, op := range req.ops {
			op.Device, op.Global = req.device, 0
			if req.next {
				seq++
				for st.held[seq] { // ops held ahead of a gap keep their seqs
					seq++
				}
				op.Seq = seq
			}
			if op.Seq <= st.mark || st.held[op.Seq] {
				continue // a resend: held already
			}
			next++
			op.Global = next
			st.held[op.Seq] = true
			sealed, err := s.sealOp(op)
			if err != nil {
				return res, err
			}
			globals, seqs, devs, bodies = append(globals, int64(next)), append(seqs, int64(op.Seq)), append(devs, req.device), append(bodies, sealed)
			// The op's record, read once: its rec, and for an erasing
			// op what to redact.
			rec, erases := s.record(op)
			recs = append(recs, s.recHash(rec))
			req.stored = append(req.stored, op)
			if s.feeds != nil {
				feeds := store.Routed(req.feeds, i, op, s.feeds)
				for _, feed := range feeds {
					feedNames, feedGlobals = append(feedNames, feed), append(feedGlobals, int64(next))
					touched[feed] = true
				}
				if erases && rec != "" { // an erasure reaches the earlier ops in their feeds
					erasing = append(erasing, erasingOp{op, feeds})
				}
			}
		}
		for st.held[st.mark+1] {
			delete(st.held, st.mark+1)
			st.mark++
			st.changed = true
		}
		req.mark = st.mark
	}
	var markDevs []string
	var marks []int64
	for _, d := range devices {
		if st := states[d]; st.changed {
			markDevs, marks = append(markDevs, d), append(marks, int64(st.mark))
		}
	}

	b = &pgx.Batch{}
	if len(globals) > 0 {
		b.Queue(`INSERT INTO ops (tenant, global, device, seq, op, rec)
			SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bytea[], $6::bytea[])`, s.tenant, globals, devs, seqs, bodies, recs)
	}
	if len(feedNames) > 0 {
		b.Queue(`INSERT INTO feeds (tenant, feed, global) SELECT $1, * FROM unnest($2::text[], $3::bigint[])`, s.tenant, feedNames, feedGlobals)
	}
	if withRecords || len(erasing) > 0 {
		if err = sendAll(conn, b); err != nil {
			return res, err
		}
		if err = s.erase(ctx, conn, erasing); err != nil {
			return res, err
		}
		tx := &recordTx{s: s, ctx: ctx, q: conn}
		for _, req := range batch {
			if req.records == nil {
				continue
			}
			if err = req.records(tx); err != nil {
				return res, fmt.Errorf("records of %s's batch: %w", req.device, err)
			}
		}
		b = &pgx.Batch{}
	}
	if next != uint64(head) {
		b.Queue("UPDATE tenants SET head = $2 WHERE id = $1", s.tenant, int64(next))
	}
	if len(markDevs) > 0 {
		b.Queue(`INSERT INTO marks (tenant, device, mark) SELECT $1, * FROM unnest($2::text[], $3::bigint[])
			ON CONFLICT (tenant, device) DO UPDATE SET mark = greatest(marks.mark, excluded.mark)`, s.tenant, markDevs, marks)
	}
	b.Queue("COMMIT")
	if err = sendAll(conn, b); err != nil {
		return res, err
	}
	inTx = false
	if next != uint64(head) {
		res = commitResult{head: next, base: uint64(head), touched: touched}
	}
	return res, nil
}

func readStates(br pgx.BatchResults, states map[string]*deviceState) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var device string
		var mark int64
		var held []int64
		if err := rows.Scan(&device, &mark, &held); err != nil {
			return err
		}
		st := states[device]
		st.mark, st.held = uint64(mark), make(map[uint64]bool, len(held))
		for _, h := range held {
			st.held[uint64(h)] = true
		}
	}
	return rows.Err()
}

// sendAll runs every statement of b in one round trip.
func sendAll(conn *pgx.Conn, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	br := conn.SendBatch(context.Background(), b)
	var err error
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// rollback ends a failed transaction; a connection that cannot is
// closed, so the pool never hands out one mid-transaction.
func rollback(pc *pgxpool.Conn) {
	if _, err := pc.Exec(context.Background(), "ROLLBACK"); err != nil {
		pc.Conn().Close(context.Background())
	}
}

// eraseQuery reads the earlier ops about an erased record (by its rec,
// through the record index) that are in one of the erasing op's feeds.
// The feed check is a join whose ON names the outer op: PostgreSQL then
// keeps it a probe of the feeds index per op read. Written as a plain
// EXISTS, it became, once the tables were analysed, a hash join over a
// sequential scan of the whole feeds table: the scan this index removes.
const eraseQuery = `SELECT o.global, o.op FROM ops o
	WHERE o.tenant = $1 AND o.rec = $2 AND o.global < $3
	AND EXISTS (SELECT 1 FROM unnest($4::text[]) AS x(feed)
		JOIN feeds f ON f.tenant = o.tenant AND f.feed = x.feed AND f.global = o.global)
	ORDER BY o.global`

// erasingOp is an op that erases earlier ones, with its feeds as stored.
type erasingOp struct {
	op    syncproto.Op
	feeds []string
}

// erase redacts, in the commit's transaction, the ops that erasing ops
// erase: the earlier ops about the same record in the erasing op's feeds
// (store.Erasure), found through the record index (recindex.go): the
// cost is the record's own ops, not the feeds'. The record of each op
// read is checked, so a hash collision redacts nothing.
func (s *Store) erase(ctx context.Context, conn *pgx.Conn, erasing []erasingOp) error {
	for _, e := range erasing {
		op := e.op
		rec, _ := s.erasure.Record(op)
		var redacted []syncproto.Op
		rows, err := conn.Query(ctx, eraseQuery, s.tenant, s.recs.hash(s.tenant, rec), int64(op.Global), e.feeds)
		if err != nil {
			return fmt.Errorf("erase: %w", err)
		}
		for rows.Next() {
			var global int64
			var sealed []byte
			if err := rows.Scan(&global, &sealed); err != nil {
				rows.Close()
				return fmt.Errorf("erase: %w", err)
			}
			old, err := s.openOp(uint64(global), sealed)
			if err != nil {
				rows.Close()
				return fmt.Errorf("erase: %w", err)
			}
			if r, e := s.erasure.Record(old); r == rec && !e {
				redacted = append(redacted, s.erasure.Redact(old))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("erase: %w", err)
		}
		for _, old := range redacted {
			sealed, err := s.sealOp(old)
			if err != nil {
				return err
			}
			// The rec follows the redacted op's record, as the backfill
			// would compute it.
			if _, err := conn.Exec(ctx, "UPDATE ops SET op = $3, rec = $4 WHERE tenant = $1 AND global = $2", s.tenant, int64(old.Global), sealed, s.recOf(old)); err != nil {
				return fmt.Errorf("erase: op %d: %w", old.Global, err)
			}
		}
	}
	return nil
}

// publisher tells the tenant's other processes, after each commit, the
// durable head (NOTIFY, and the published row the pollers read). It runs
// apart from the writer so the writer's next commit does not wait for it.
func (s *Store) publisher() {
	defer s.done.Done()
	for {
		select {
		case <-s.published:
		case <-s.writerDone:
			s.publishHead() // the last commit's, before the store closes
			return
		}
		s.publishHead()
	}
}

func (s *Store) publishHead() {
	head := int64(s.head.Load())
	// Bounded: a cluster that is gone must not hold up Close; the next
	// publish, or a reopen, publishes the head anyway.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.pool.Exec(ctx, `WITH u AS (UPDATE published SET head = greatest(head, $2) WHERE tenant = $1)
		SELECT pg_notify($3, $4)`, s.tenant, head, s.channel, strconv.FormatInt(head, 10))
	if err != nil {
		s.logger.Warn("pgstore: publishing the head failed; other servers of the tenant learn it later", "head", head, "err", err)
	}
}

// listener follows the heads other processes publish: notifications as
// they come, and the published row every pollEvery (a notification is
// lost with its connection). ready receives the first LISTEN's outcome.
func (s *Store) listener(url string, ready chan<- error) {
	defer s.done.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	polled := make(chan struct{})
	go func() { s.poller(ctx); close(polled) }()
	defer func() { cancel(); <-polled }()
	first := true
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
				conn.Close(context.Background())
			}
		}
		if first {
			first = false
			ready <- err
			if err != nil {
				return
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("pgstore: cannot listen for other servers' commits; polling", "err", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(s.poll):
			}
			continue
		}
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.logger.Warn("pgstore: the notification connection broke; reconnecting", "err", err)
				}
				break
			}
			if h, err := strconv.ParseUint(n.Payload, 10, 64); err == nil {
				s.advance(h, 0, nil)
			}
		}
		conn.Close(context.Background())
	}
}

// poller reads the published head every pollEvery.
func (s *Store) poller(ctx context.Context) {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var head int64
		if err := s.pool.QueryRow(ctx, "SELECT head FROM published WHERE tenant = $1", s.tenant).Scan(&head); err == nil {
			s.advance(uint64(head), 0, nil)
		}
	}
}
