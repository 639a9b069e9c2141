// Package sealed encrypts a stream, such as a backup of the store, with
// AES-256-GCM in chunks, so a file can be written and read in constant
// memory and any change, reordering or truncation of it is detected.
//
// Badger encrypts its files at rest, but its backups are plaintext: a
// backup leaving the server must be sealed on its own.
//
// Format 2 (written): the magic "SPSEAL2\n", a 32-byte random salt, an
// 8-byte random nonce prefix, then chunks. The chunks are sealed with a
// key of the file's own, HKDF-SHA256 of the key given, the salt and the
// label "smartpass sealed v2": the key given (the store's master key)
// never seals anything here itself, and no two files share a key.
//
// Format 1 (still read, for backups made before): the magic "SPSEAL1\n",
// the nonce prefix, then chunks sealed with the key given as it is.
//
// A chunk is a 4-byte big-endian length and that many sealed bytes (at
// most ChunkSize of plaintext plus the 16-byte tag). The nonce of chunk i
// is the prefix followed by i as 4 bytes; its additional data says
// whether it is the last chunk, so a file cut at a chunk boundary fails
// too.
package sealed

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ChunkSize is the plaintext carried by one chunk.
const ChunkSize = 64 << 10

const (
	magic1 = "SPSEAL1\n"
	magic  = "SPSEAL2\n"
	// saltSize is format 2's salt.
	saltSize = 32
	// label tells format 2's file keys apart from any other key derived
	// from the same master key.
	label = "smartpass sealed v2"
)

// fileKey derives a format-2 file's key from the key given and its salt.
func fileKey(key, salt []byte) ([]byte, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealed: key must be 32 bytes, not %d", len(key))
	}
	k, err := hkdf.Key(sha256.New, key, salt, label, 32)
	if err != nil {
		return nil, fmt.Errorf("sealed: derive the file key: %w", err)
	}
	return k, nil
}

// Errors returned by the reader. Use errors.Is.
var (
	ErrNotSealed = errors.New("sealed: not a sealed file")
	ErrTruncated = errors.New("sealed: file is truncated")
	// ErrAuth means the key is wrong, or the file was changed.
	ErrAuth = errors.New("sealed: wrong key, or the file was changed")
)

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealed: key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return cipher.NewGCM(block)
}

func nonce(prefix []byte, i uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), prefix...), i)
}

func additional(last bool) []byte {
	if last {
		return []byte{1}
	}
	return []byte{0}
}

// Writer seals what is written to it. Close writes the last chunk: a
// Writer that is not closed leaves a file the reader calls truncated.
type Writer struct {
	w      io.Writer
	aead   cipher.AEAD
	prefix []byte
	n      uint32
	buf    []byte
	err    error
}

// NewWriter returns a Writer sealing to w (format 2) with a file key
// derived from the 32-byte key.
func NewWriter(w io.Writer, key []byte) (*Writer, error) {
	hdr := make([]byte, len(magic)+saltSize+8)
	copy(hdr, magic)
	if _, err := rand.Read(hdr[len(magic):]); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	salt, prefix := hdr[len(magic):len(magic)+saltSize], hdr[len(magic)+saltSize:]
	fk, err := fileKey(key, salt)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(fk)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("sealed: write header: %w", err)
	}
	return &Writer{w: w, aead: aead, prefix: prefix, buf: make([]byte, 0, ChunkSize)}, nil
}

// Write implements io.Writer.
func (s *Writer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 && s.err == nil {
		if len(s.buf) == ChunkSize {
			s.flush(false)
		}
		n := copy(s.buf[len(s.buf):ChunkSize], p)
		s.buf = s.buf[:len(s.buf)+n]
		p, written = p[n:], written+n
	}
	return written, s.err
}

func (s *Writer) flush(last bool) {
	sealed := s.aead.Seal(nil, nonce(s.prefix, s.n), s.buf, additional(last))
	s.n++
	if s.n == 0 {
		s.err = errors.New("sealed: stream too long")
		return
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(sealed)))
	if _, err := s.w.Write(hdr[:]); err != nil {
		s.err = fmt.Errorf("sealed: write: %w", err)
		return
	}
	if _, err := s.w.Write(sealed); err != nil {
		s.err = fmt.Errorf("sealed: write: %w", err)
	}
	s.buf = s.buf[:0]
}

// Close seals the last chunk. It does not close the underlying writer.
func (s *Writer) Close() error {
	if s.err == nil {
		s.flush(true)
	}
	return s.err
}

// Reader opens what a Writer sealed.
type Reader struct {
	r      *bufio.Reader
	aead   cipher.AEAD
	prefix []byte
	n      uint32
	buf    []byte
	done   bool
	err    error
}

// NewReader returns a Reader of the sealed stream r (either format) with
// the 32-byte key.
func NewReader(r io.Reader, key []byte) (*Reader, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealed: key must be 32 bytes, not %d", len(key))
	}
	br := bufio.NewReader(r)
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(br, m); err != nil {
		return nil, ErrNotSealed
	}
	switch string(m) {
	case magic1: // the key as it is
	case magic:
		salt := make([]byte, saltSize)
		if _, err := io.ReadFull(br, salt); err != nil {
			return nil, ErrNotSealed
		}
		var err error
		if key, err = fileKey(key, salt); err != nil {
			return nil, err
		}
	default:
		return nil, ErrNotSealed
	}
	prefix := make([]byte, 8)
	if _, err := io.ReadFull(br, prefix); err != nil {
		return nil, ErrNotSealed
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Reader{r: br, aead: aead, prefix: prefix}, nil
}

// Read implements io.Reader. It returns io.EOF only after the last chunk
// authenticated; a stream that ends early returns ErrTruncated.
func (s *Reader) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		s.next()
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func (s *Reader) next() {
	var hdr [4]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		s.err = ErrTruncated
		return
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size < uint32(s.aead.Overhead()) || size > ChunkSize+uint32(s.aead.Overhead()) {
		s.err = fmt.Errorf("%w: chunk %d has length %d", ErrAuth, s.n, size)
		return
	}
	sealed := make([]byte, size)
	if _, err := io.ReadFull(s.r, sealed); err != nil {
		s.err = ErrTruncated
		return
	}
	for _, last := range []bool{false, true} {
		plain, err := s.aead.Open(sealed[:0:0], nonce(s.prefix, s.n), sealed, additional(last))
		if err == nil {
			s.n++
			s.buf, s.done = plain, last
			if last {
				if _, err := s.r.ReadByte(); err != io.EOF {
					s.err = fmt.Errorf("%w: data after the last chunk", ErrAuth)
				}
			}
			return
		}
	}
	s.err = fmt.Errorf("%w (chunk %d)", ErrAuth, s.n)
}
