// Package sealed encrypts a stream, such as a backup of the store, with
// AES-256-GCM in chunks, so a file can be written and read in constant
// memory and any change, reordering or truncation of it is detected.
//
// Badger encrypts its files at rest, but its backups are plaintext: a
// backup leaving the server must be sealed on its own.
//
// Format: the magic "SPSEAL1\n", an 8-byte random nonce prefix, then
// chunks. A chunk is a 4-byte big-endian length and that many sealed bytes
// (at most ChunkSize of plaintext plus the 16-byte tag). The nonce of chunk
// i is the prefix followed by i as 4 bytes; its additional data says
// whether it is the last chunk, so a file cut at a chunk boundary fails too.
package sealed

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ChunkSize is the plaintext carried by one chunk.
const ChunkSize = 64 << 10

const magic = "SPSEAL1\n"

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

// NewWriter returns a Writer sealing to w with the 32-byte key.
func NewWriter(w io.Writer, key []byte) (*Writer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	prefix := make([]byte, 8)
	if _, err := rand.Read(prefix); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	if _, err := io.WriteString(w, magic); err != nil {
		return nil, fmt.Errorf("sealed: write header: %w", err)
	}
	if _, err := w.Write(prefix); err != nil {
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

// NewReader returns a Reader of the sealed stream r with the 32-byte key.
func NewReader(r io.Reader, key []byte) (*Reader, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	hdr := make([]byte, len(magic)+8)
	if _, err := io.ReadFull(br, hdr); err != nil || string(hdr[:len(magic)]) != magic {
		return nil, ErrNotSealed
	}
	return &Reader{r: br, aead: aead, prefix: hdr[len(magic):]}, nil
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
