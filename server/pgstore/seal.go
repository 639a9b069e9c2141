package pgstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrWrongKey means the tenant's data was sealed with another key.
var ErrWrongKey = errors.New("pgstore: the encryption key does not match the tenant's data")

// ErrSealed means a sealed value could not be opened: altered, moved to
// another row, or sealed with another key.
var ErrSealed = errors.New("pgstore: a sealed value does not open")

// sealer seals op bodies and record values with the store key before they
// reach PostgreSQL, which community builds do not encrypt at rest. The
// additional data names the row (tenant, table, key), so a value copied
// into another row, or another tenant's, does not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("pgstore: the store key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return &sealer{aead}, nil
}

// seal returns nonce || ciphertext of plain, bound to aad.
func (s *sealer) seal(aad, plain []byte) []byte {
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic(fmt.Sprintf("pgstore: no randomness for a nonce: %v", err)) // crypto/rand does not fail on Linux
	}
	return s.aead.Seal(out, out, plain, aad)
}

// open reverses seal.
func (s *sealer) open(aad, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes", ErrSealed, len(sealed))
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// opAAD names an op's row: its tenant and global sequence.
func opAAD(tenant int32, global uint64) []byte {
	b := binary.BigEndian.AppendUint32([]byte("op\x00"), uint32(tenant))
	return binary.BigEndian.AppendUint64(b, global)
}

// recordAAD names a record's row: tenant, kind and id.
func recordAAD(tenant int32, kind, id string) []byte {
	b := binary.BigEndian.AppendUint32([]byte("rec\x00"), uint32(tenant))
	b = append(b, kind...)
	b = append(b, 0)
	return append(b, id...)
}

// checkAAD names the tenant's key check, a value sealed when the tenant is
// created that only the same key opens.
func checkAAD(tenant int32) []byte {
	return binary.BigEndian.AppendUint32([]byte("check\x00"), uint32(tenant))
}
