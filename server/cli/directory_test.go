package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/server/store/pgtest"
)

// TestDirectoryServesEachMunicipality: one process serves two
// municipalities on one PostgreSQL cluster, each on its own tenant, keys
// and admin socket; a request reaches the municipality its host names,
// a facility added through one's admin socket is in its store only, one
// written to a tenant directly reaches its running server, and an
// unknown host is told so.
func TestDirectoryServesEachMunicipality(t *testing.T) {
	c := pgtest.Start(t)
	dir := t.TempDir()
	entry := func(tenant, city, host string) string {
		return fmt.Sprintf(`{"tenant": %q, "prefecture": "石川県", "city": %q, "mayor": %q, "hosts": [%q], "store": %q, "data": %q}`,
			tenant, city, city+"長", host, c.URL("postgres"), filepath.Join(dir, tenant))
	}
	file := filepath.Join(dir, "municipalities.json")
	os.WriteFile(file, []byte(`{"municipalities": [`+entry("kaga", "加賀市", "kaga.test")+`,`+entry("komatsu", "小松市", "komatsu.test")+`]}`), 0o600)

	addr := serverproc.FreeAddr(t)
	cfg := config{addr: addr, directory: file, dev: true, assets: t.TempDir(), limits: defaultLimits}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, Build{Version: "test"}, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("the server stopped with %v", err)
		}
	})

	type health struct {
		Store struct {
			Epoch string
			Head  uint64
		}
	}
	get := func(host string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	healthOf := func(host string) health {
		t.Helper()
		code, body := get(host)
		var h health
		if code != 200 || json.Unmarshal([]byte(body), &h) != nil {
			t.Fatalf("GET /healthz at %s: %d %s", host, code, body)
		}
		return h
	}
	deadline := time.Now().Add(60 * time.Second)
	for code, _ := get("kaga.test"); code != 200; code, _ = get("kaga.test") {
		select {
		case err := <-done:
			t.Fatalf("the server did not start: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not answer in 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	kaga, komatsu := healthOf("kaga.test"), healthOf("komatsu.test:8080")
	if kaga.Store.Epoch == "" || kaga.Store.Epoch == komatsu.Store.Epoch {
		t.Fatalf("epochs %q and %q: want two histories", kaga.Store.Epoch, komatsu.Store.Epoch)
	}
	if code, body := get("nomi.test"); code != 404 || !strings.Contains(body, "自治体") {
		t.Fatalf("an unknown host: %d %q", code, body)
	}

	// A facility added to Kaga through Kaga's admin socket.
	if err := runAdmin("facility", []string{"-data", filepath.Join(dir, "kaga"), "-id", "kaga-hall", "-kind", "shelter", "-name-ja", "加賀ホール", "-name-en", "Kaga Hall", "-capacity", "50"}, io.Discard, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if h := healthOf("kaga.test"); h.Store.Head != kaga.Store.Head+1 {
		t.Fatalf("Kaga's head %d after a facility, want %d", h.Store.Head, kaga.Store.Head+1)
	}
	if h := healthOf("komatsu.test"); h.Store.Head != komatsu.Store.Head {
		t.Fatalf("Komatsu's head moved from %d to %d with Kaga's facility", komatsu.Store.Head, h.Store.Head)
	}

	// A command run on Komatsu's tenant directly (as from another
	// machine, no socket): the running server sees it.
	if err := runAdmin("facility", []string{"-store", c.URL("postgres"), "-tenant", "komatsu", "-data", filepath.Join(dir, "komatsu"),
		"-id", "komatsu-hall", "-kind", "shelter", "-name-ja", "小松ホール", "-name-en", "Komatsu Hall", "-capacity", "80"}, io.Discard, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for h := healthOf("komatsu.test"); h.Store.Head != komatsu.Store.Head+1; h = healthOf("komatsu.test") {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("Komatsu's server shows head %d after a facility written to its store, want %d", h.Store.Head, komatsu.Store.Head+1)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDirectoryRefusals: a directory file the server cannot use stops it
// before it opens any store, saying why.
func TestDirectoryRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"municipalities": [{"tenant": "kaga", "hosts": ["kaga.test"], "store": "/var/lib/badger", "data": "d", "prefecture": "石川県", "city": "加賀市"}]}`), 0o600)
	for _, tt := range []struct {
		name string
		cfg  config
		want string
	}{
		{"with -tenant", config{directory: bad, tenant: "kaga"}, "give none of -demo, -store and -tenant"},
		{"with -demo", config{directory: bad, demo: true}, "give none of -demo"},
		{"no file", config{directory: filepath.Join(dir, "none.json")}, "-directory:"},
		{"a Badger store in it", config{directory: bad}, "a Badger store holds one municipality"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.addr, tt.cfg.limits = "127.0.0.1:0", defaultLimits
			err := run(context.Background(), tt.cfg, Build{Version: "test", NewDemo: func(store.Store, *slog.Logger) (Demo, error) { return nil, nil }}, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run: %v, want %q", err, tt.want)
			}
		})
	}
}
