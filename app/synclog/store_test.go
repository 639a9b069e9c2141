package synclog_test

import (
	"testing"

	"smartpass.city/smartpass/app/synclog"
	"smartpass.city/smartpass/app/synclog/storetest"
)

func TestMemStore(t *testing.T) {
	storetest.Run(t, func() synclog.Store { return synclog.NewMemStore("dev-1") }, nil)
}
