package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestOpenEngineRefusesMisnamedStores: the flags that choose the engine
// are checked before anything is opened, and say what is wrong.
func TestOpenEngineRefusesMisnamedStores(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	tests := []struct {
		name     string
		storeURL string
		tenant   string
		want     string
	}{
		{"tenant without a store", "", "kaga", "-tenant needs -store"},
		{"not a PostgreSQL URL", "mysql://db/x", "kaga", "PostgreSQL URL"},
		{"no tenant", "postgres://db/x", "", "-store needs -tenant"},
		{"a tenant name that is not one", "postgres://db/x", "Kaga City", "-store needs -tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config{data: t.TempDir(), storeURL: tt.storeURL, tenant: tt.tenant}
			s, err := openEngine(context.Background(), c, key, nil)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
	// The URL, which may hold a password, is never in a message.
	if name := (config{storeURL: "postgres://u:secret@db/x", tenant: "kaga"}).storeName(); strings.Contains(name, "secret") {
		t.Fatalf("storeName shows the URL: %s", name)
	}
}
