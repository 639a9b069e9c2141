package store

import (
	"encoding/json"
	"errors"
	"fmt"
)

// GetJSON reads the record kind/id as JSON into a T: ok false (and no
// error) when there is none, so the many record keepers that store JSON
// say "missing" one way.
func GetJSON[T any](tx Tx, kind, id string) (v T, ok bool, err error) {
	b, err := tx.Get(kind, id)
	if errors.Is(err, ErrNotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("store: record %s %s: %w", kind, id, err)
	}
	return v, true, nil
}
