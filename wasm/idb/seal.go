package idb

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"smartpass.city/smartpass/syncproto"
)

// sealer encrypts op records at rest: face templates, names and every
// other op body a terminal keeps are personal data, and a tablet left in
// a shelter can be taken. The data key is AES-256-GCM, held only in
// memory; what IndexedDB keeps is that key wrapped by a non-extractable
// WebCrypto key, which a copy of the browser's files does not give up
// through any script. Each record is bound to its place ([device, seq])
// as additional data, so records cannot be swapped between keys.
type sealer struct {
	aead cipher.AEAD
}

// errDamaged is wrapped when a stored record does not decrypt or parse.
var errDamaged = errors.New("idb: stored op is damaged")

func newSealer(key []byte) (sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, fmt.Errorf("idb: data key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, fmt.Errorf("idb: data key: %w", err)
	}
	return sealer{aead: aead}, nil
}

// place is the additional data binding a record to its key.
func place(device string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(device), 0), seq)
}

// seal returns op's record: a random nonce, then the encrypted JSON.
func (s sealer) seal(op syncproto.Op) ([]byte, error) {
	plain, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, place(op.Device, op.Seq)), nil
}

// open decrypts the record stored under [device, seq].
func (s sealer) open(device string, seq uint64, rec []byte) (syncproto.Op, error) {
	var op syncproto.Op
	n := s.aead.NonceSize()
	if len(rec) < n+s.aead.Overhead() {
		return op, fmt.Errorf("%w: %d bytes", errDamaged, len(rec))
	}
	plain, err := s.aead.Open(nil, rec[:n], rec[n:], place(device, seq))
	if err != nil {
		return op, fmt.Errorf("%w: %v", errDamaged, err)
	}
	if err := json.Unmarshal(plain, &op); err != nil {
		return op, fmt.Errorf("%w: %v", errDamaged, err)
	}
	if op.Device != device || op.Seq != seq {
		return op, fmt.Errorf("%w: op %s/%d stored as %s/%d", errDamaged, op.Device, op.Seq, device, seq)
	}
	return op, nil
}
