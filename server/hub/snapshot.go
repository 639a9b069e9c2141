package hub

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/syncproto"
)

// chunkBytes is the room for ops in one Chunk frame, leaving space for the
// chunk's own header.
const chunkBytes = syncproto.MaxFrameSize - 4096

// snapshot sends the chunks of feed's snapshot at the global sequence at
// (the log's head when at is zero), from chunk from on, and returns the
// cursor to follow the feed from. It reports false when the session ended
// or the server failed, after telling the device.
func (s *session) snapshot(ctx context.Context, feed string, at, from uint64) (uint64, bool) {
	if at == 0 {
		at = s.hub.log.Head()
	}
	chunks, err := buildSnapshot(s.hub.log, feed, at)
	if err != nil {
		s.logger().Error("sync: build snapshot", "feed", feed, "err", err)
		s.refuse(ctx, syncproto.CodeInternal, "the server could not read its records; reconnect later", true)
		s.ws.Close()
		return 0, false
	}
	if from >= uint64(len(chunks)) {
		s.refuse(ctx, syncproto.CodeInvalid, fmt.Sprintf("snapshot of %s at %d has %d chunks; chunk %d does not exist", feed, at, len(chunks), from), false)
		return 0, false
	}
	s.logger().Info("sync: snapshot", "feed", feed, "at", at, "chunks", len(chunks), "from", from)
	for i := from; i < uint64(len(chunks)); i++ {
		c := &syncproto.Chunk{Feed: feed, At: at, Index: i, Last: i == uint64(len(chunks))-1, Ops: chunks[i]}
		if s.send(ctx, c) != nil {
			return 0, false
		}
	}
	return at, true
}

// buildSnapshot compacts feed as of at: the newest op of each record (by
// hybrid clock, device and seq, as the fold orders them), tombstones
// included, ordered by record key and cut into chunks that fit a frame.
// The same log and at always give the same chunks, which is what makes a
// snapshot resumable. There is always at least one chunk, maybe empty.
func buildSnapshot(log Log, feed string, at uint64) ([][]syncproto.Op, error) {
	latest := make(map[string]syncproto.Op)
	for after := uint64(0); after < at; {
		ops, err := log.Since(feed, after, 4096, 8<<20)
		if err != nil {
			return nil, err
		}
		if len(ops) == 0 {
			break
		}
		for _, op := range ops {
			if op.Global > at {
				after = at
				break
			}
			k := scope.SnapshotKey(op)
			if old, ok := latest[k]; !ok || newer(op, old) {
				latest[k] = op
			}
			after = op.Global
		}
	}
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	chunks := [][]syncproto.Op{nil}
	size := 0
	for _, k := range keys {
		op := latest[k]
		n := len(op.Device) + len(op.Kind) + len(op.Body) + syncproto.ChunkOverhead
		if size+n > chunkBytes && len(chunks[len(chunks)-1]) > 0 {
			chunks = append(chunks, nil)
			size = 0
		}
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], op)
		size += n
	}
	return chunks, nil
}

func newer(a, b syncproto.Op) bool {
	return cmp.Or(cmp.Compare(a.HLC, b.HLC), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq)) > 0
}
