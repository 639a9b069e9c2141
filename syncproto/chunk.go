package syncproto

import (
	"encoding/binary"
	"fmt"
)

// Chunk is one piece of a feed's snapshot: the latest op of each record
// of a read-mostly feed (face templates) as of the global sequence At,
// cut into frames. Index counts the chunks of one snapshot from zero; Last
// marks the final one, after which the device's cursor for Feed is At.
//
// Chunks are the protocol's one binary body, because they carry tens of
// thousands of templates to a terminal on a slow link:
//
//	uvarint len(feed), feed
//	uvarint at, uvarint index, byte last, uvarint count
//	count times: uvarint len + bytes for device, then uvarint seq, hlc,
//	global, then uvarint len + bytes for kind and for body
//
// Every length is checked against what remains of the frame before
// anything is allocated, so a truncated or forged chunk is refused with
// ErrMalformed, never read past its end.
type Chunk struct {
	Feed  string
	At    uint64
	Index uint64
	Last  bool
	Ops   []Op
}

// Type implements Frame.
func (*Chunk) Type() Type { return TypeChunk }

func (c *Chunk) validate() error {
	if err := validateFeed(c.Feed); err != nil {
		return err
	}
	for i := range c.Ops {
		if err := c.Ops[i].Validate(); err != nil {
			return fmt.Errorf("op %d: %w", i, err)
		}
		if c.Ops[i].Global == 0 || c.Ops[i].Global > c.At {
			return fmt.Errorf("%w: op %d has global %d outside the snapshot at %d", ErrInvalid, i, c.Ops[i].Global, c.At)
		}
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (c *Chunk) appendBinary(b []byte) []byte {
	b = appendString(b, c.Feed)
	b = binary.AppendUvarint(b, c.At)
	b = binary.AppendUvarint(b, c.Index)
	last := byte(0)
	if c.Last {
		last = 1
	}
	b = append(b, last)
	b = binary.AppendUvarint(b, uint64(len(c.Ops)))
	for _, op := range c.Ops {
		b = appendString(b, op.Device)
		b = binary.AppendUvarint(b, op.Seq)
		b = binary.AppendUvarint(b, op.HLC)
		b = binary.AppendUvarint(b, op.Global)
		b = appendString(b, op.Kind)
		b = appendString(b, string(op.Body))
	}
	return b
}

// ChunkOverhead bounds the bytes a chunk spends on one op besides its
// device, kind and body: what a server needs to cut chunks under the
// frame limit.
const ChunkOverhead = 6 * binary.MaxVarintLen64

// reader walks a binary body, remembering the first failure.
type reader struct {
	p   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.p)
	if n <= 0 {
		r.err = fmt.Errorf("%w: truncated or overlong number", ErrMalformed)
		return 0
	}
	r.p = r.p[n:]
	return v
}

func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.p)) || n > uint64(limit) {
		r.err = fmt.Errorf("%w: a field of %d bytes where %d remain (limit %d)", ErrMalformed, n, len(r.p), limit)
		return nil
	}
	out := r.p[:n:n]
	r.p = r.p[n:]
	return out
}

func (c *Chunk) decodeBinary(p []byte) error {
	r := &reader{p: p}
	c.Feed = string(r.bytes(MaxFeedLen))
	c.At = r.uvarint()
	c.Index = r.uvarint()
	if r.err == nil && len(r.p) == 0 {
		r.err = fmt.Errorf("%w: truncated", ErrMalformed)
	}
	if r.err == nil {
		switch r.p[0] {
		case 0:
		case 1:
			c.Last = true
		default:
			r.err = fmt.Errorf("%w: last flag %d", ErrMalformed, r.p[0])
		}
		r.p = r.p[1:]
	}
	n := r.uvarint()
	// Each op takes at least 6 bytes: no count can promise more ops than
	// the frame has room for.
	if r.err == nil && n > uint64(len(r.p)/6) {
		r.err = fmt.Errorf("%w: %d ops promised in %d bytes", ErrMalformed, n, len(r.p))
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		op := Op{Device: string(r.bytes(MaxDeviceLen))}
		op.Seq, op.HLC, op.Global = r.uvarint(), r.uvarint(), r.uvarint()
		op.Kind = string(r.bytes(MaxKindLen))
		if body := r.bytes(MaxOpBody); len(body) > 0 {
			op.Body = append([]byte(nil), body...)
		}
		c.Ops = append(c.Ops, op)
	}
	if r.err == nil && len(r.p) != 0 {
		r.err = fmt.Errorf("%w: %d bytes after the last op", ErrMalformed, len(r.p))
	}
	return r.err
}
