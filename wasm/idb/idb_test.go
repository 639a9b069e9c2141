//go:build js && wasm

package idb

import (
	"context"
	"testing"

	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/synclog/storetest"
)

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, "storetest-"+t.Name())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.Run(t,
		func() synclog.Store { return open() },
		func(s synclog.Store) synclog.Store {
			s.(*Store).Close()
			return open()
		})
}
