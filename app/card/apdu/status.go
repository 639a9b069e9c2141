package apdu

import (
	"errors"
	"fmt"
)

// Sentinel status errors. Use errors.Is; a wrong PIN is the typed
// *WrongPINError (errors.As), which carries the tries left.
var (
	ErrPINBlocked      = errors.New("apdu: the PIN is blocked (69 84)")
	ErrSecurityStatus  = errors.New("apdu: access denied; verify the PIN first (69 82)")
	ErrFileNotFound    = errors.New("apdu: no such file or application (6A 82)")
	ErrWrongLength     = errors.New("apdu: wrong length (67 00)")
	ErrOffsetPastEnd   = errors.New("apdu: offset past the end of the file (6B 00)")
	ErrNotSupported    = errors.New("apdu: instruction not supported (6D 00)")
	ErrConditions      = errors.New("apdu: conditions of use not satisfied (69 85)")
	ErrWrongData       = errors.New("apdu: wrong data (6A 80)")
	ErrReferenceAbsent = errors.New("apdu: referenced data not found (6A 88)")
)

// WrongPINError is a failed VERIFY (63 Cx), or the answer to a VERIFY
// without data, which reports the tries left without using one.
type WrongPINError struct {
	Remaining int
}

func (e *WrongPINError) Error() string {
	return fmt.Sprintf("apdu: wrong PIN, %d tries left (63 C%X)", e.Remaining, e.Remaining)
}

// StatusError is any other status word.
type StatusError struct {
	SW uint16
}

func (e *StatusError) Error() string { return fmt.Sprintf("apdu: card status %04X", e.SW) }

// Err returns the error for a status word other than 9000.
func Err(sw uint16) error {
	switch {
	case sw&0xFFF0 == 0x63C0:
		return &WrongPINError{Remaining: int(sw & 0x0F)}
	case sw == SWPINBlocked:
		return ErrPINBlocked
	case sw == SWSecurityStatus:
		return ErrSecurityStatus
	case sw == SWFileNotFound:
		return ErrFileNotFound
	case sw == SWWrongLength:
		return ErrWrongLength
	case sw == SWWrongP1P2:
		return ErrOffsetPastEnd
	case sw == SWINSNotSupported:
		return ErrNotSupported
	case sw == SWConditions:
		return ErrConditions
	case sw == SWWrongData:
		return ErrWrongData
	case sw == SWReferenceMissing:
		return ErrReferenceAbsent
	}
	return &StatusError{SW: sw}
}
