package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// The tests start this test binary as the server in a child process, so a
// SIGKILL hits a real server process and nothing of the test.
func TestMain(m *testing.M) {
	if os.Getenv("SMARTPASS_TEST_SERVER") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startServer(t *testing.T, addr string, args ...string) *serverproc.Proc {
	t.Helper()
	return serverproc.Start(t, os.Args[0], []string{"SMARTPASS_TEST_SERVER=1"}, addr, append([]string{"-assets", t.TempDir()}, args...)...)
}

type client struct {
	t *testing.T
	c *wsconn.Conn
}

func dial(t *testing.T, addr, device string) (*client, *syncproto.Welcome) {
	t.Helper()
	c, err := wsconn.Dial(context.Background(), "ws://"+addr+"/sync")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &client{t, c}
	cl.send(&syncproto.Hello{Proto: syncproto.Version, Device: device})
	w, ok := cl.recv().(*syncproto.Welcome)
	if !ok {
		t.Fatal("no welcome")
	}
	return cl, w
}

func (c *client) send(f syncproto.Frame) {
	c.t.Helper()
	b, err := syncproto.Encode(f)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.c.Send(context.Background(), b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) recv() syncproto.Frame {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := c.c.Recv(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	f, err := syncproto.Decode(b)
	if err != nil {
		c.t.Fatal(err)
	}
	return f
}

func testOps(from, to uint64) []syncproto.Op {
	var ops []syncproto.Op
	for s := from; s <= to; s++ {
		ops = append(ops, syncproto.Op{Seq: s, HLC: s, Kind: "test.note", Body: []byte(fmt.Sprintf(`{"n":%d}`, s))})
	}
	return ops
}

// An acknowledged op survives SIGKILL right after the ack: the log writes
// with SyncWrites, and acks only after the commit.
func TestAckedOpSurvivesSIGKILL(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "not", "yet", "there") // created on start
	for round := uint64(0); round < 3; round++ {
		p := startServer(t, addr, "-data", data, "-dev")
		p.WaitHealthy(t)
		c, w := dial(t, addr, "tab-kill")
		if w.Acked != round*10 {
			t.Fatalf("round %d: welcome acked %d, want %d", round, w.Acked, round*10)
		}
		c.send(&syncproto.Push{Ops: testOps(round*10+1, round*10+10)})
		if a, ok := c.recv().(*syncproto.Ack); !ok || a.Acked != round*10+10 {
			t.Fatalf("round %d: no ack for the push", round)
		}
		p.Signal(syscall.SIGKILL)
		p.Wait(t)
	}
	p := startServer(t, addr, "-data", data, "-dev")
	p.WaitHealthy(t)
	c, w := dial(t, addr, "reader")
	if w.Head != 30 {
		t.Fatalf("after 3 kills: head %d, want 30", w.Head)
	}
	c.send(&syncproto.Pull{Feed: "all"})
	got := c.recv().(*syncproto.Ops)
	if len(got.Ops) != 30 {
		t.Fatalf("pulled %d ops after kills, want 30", len(got.Ops))
	}
}

func TestGracefulShutdownAndRestart(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	p := startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	c, w := dial(t, addr, "tab-1")
	if w.Head != 5 {
		t.Fatalf("demo seed: head %d, want the 5 demo facilities", w.Head)
	}
	c.send(&syncproto.Push{Ops: testOps(1, 2)})
	c.recv()
	p.Stop(t)
	if !strings.Contains(p.Log(), "stopped cleanly") {
		t.Fatalf("no clean stop in the log:\n%s", p.Log())
	}
	// A second start with -demo finds every record and seeds nothing again.
	p = startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	_, w = dial(t, addr, "tab-1")
	if w.Head != 7 || w.Acked != 2 {
		t.Fatalf("after restart: head %d acked %d, want 7 and 2", w.Head, w.Acked)
	}
}

func TestUnusableDataDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, []byte("x"), 0o600)
	p := startServer(t, serverproc.FreeAddr(t), "-data", filepath.Join(file, "data"))
	if code := p.Wait(t); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(p.Log(), "cannot use the data directory") {
		t.Fatalf("log does not say what is wrong:\n%s", p.Log())
	}
}

func TestHTTPRoutes(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	p := startServer(t, addr, "-data", t.TempDir(), "-dev")
	p.WaitHealthy(t)

	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Version string
		App     struct{ Built bool }
		Store   struct {
			State string
			Head  uint64
		}
	}
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health.Store.State != "open" || health.Version == "" || health.App.Built {
		t.Fatalf("healthz = %+v, want an open store, a version, and built=false (no app.wasm in the test assets)", health)
	}
	if !strings.Contains(p.Log(), "the PWA is not built") {
		t.Fatalf("missing app.wasm not logged:\n%s", p.Log())
	}

	for _, path := range []string{"/no-such-page", "/web/no-such-file", "/web/../main.go"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/", "/shelter", "/hq", "/manifest.webmanifest", "/app-worker.js"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if !strings.Contains(p.Log(), "path=/no-such-page status=404") {
		t.Fatalf("unknown route not logged:\n%s", p.Log())
	}
}

// command runs a subcommand of the server binary and returns its output.
func command(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SMARTPASS_TEST_SERVER=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestWrongOrMissingKey(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServer(t, addr, "-data", data, "-dev")
	p.WaitHealthy(t)
	p.Stop(t)
	if _, err := os.Stat(data + ".key"); err != nil {
		t.Fatalf("no key file created beside the new store: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	p = startServer(t, addr, "-data", data, "-key-file", other)
	if code := p.Wait(t); code != 1 || !strings.Contains(p.Log(), "does not open the store") {
		t.Fatalf("wrong key: exit %d, log:\n%s", code, p.Log())
	}
	os.Rename(data+".key", data+".key.moved")
	p = startServer(t, addr, "-data", data)
	if code := p.Wait(t); code != 1 || !strings.Contains(p.Log(), "key file") || !strings.Contains(p.Log(), "is missing") {
		t.Fatalf("missing key: exit %d, log:\n%s", code, p.Log())
	}
}

func TestOnlineBackupAndRestore(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startServer(t, addr, "-data", data, "-dev")
	p.WaitHealthy(t)
	c, w := dial(t, addr, "tab-1")
	c.send(&syncproto.Push{Ops: testOps(1, 20)})
	c.recv()

	backup := filepath.Join(dir, "city.backup")
	out, err := command(t, "backup", "-data", data, "-out", backup)
	if err != nil {
		t.Fatalf("online backup: %v\n%s", err, out)
	}
	if !strings.Contains(p.Log(), "online backup written") {
		t.Fatalf("backup did not go through the running server:\n%s", p.Log())
	}
	raw, _ := os.ReadFile(backup)
	if bytes.Contains(raw, []byte(`"kind":"test.note"`)) {
		t.Fatal("backup file holds plaintext")
	}
	p.Stop(t)

	// A truncated copy is refused and leaves nothing behind.
	cut := filepath.Join(dir, "cut.backup")
	os.WriteFile(cut, raw[:len(raw)/2], 0o600)
	restored := filepath.Join(dir, "restored")
	out, err = command(t, "restore", "-data", restored, "-in", cut, "-key-file", data+".key")
	if err == nil || !strings.Contains(out, "truncated") {
		t.Fatalf("restore of a truncated backup: err %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(restored); len(entries) > 0 {
		t.Fatalf("a refused restore left files in %s", restored)
	}

	out, err = command(t, "restore", "-data", restored, "-in", backup, "-key-file", data+".key")
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	p = startServer(t, addr, "-data", restored, "-key-file", data+".key", "-dev")
	p.WaitHealthy(t)
	_, w2 := dial(t, addr, "tab-1")
	if w2.Head != 20 || w2.Acked != 20 || w2.Epoch == w.Epoch {
		t.Fatalf("restored server: head %d acked %d epoch %s; want 20, 20 and a new epoch (old %s)", w2.Head, w2.Acked, w2.Epoch, w.Epoch)
	}
}

// A precompressed copy older than its file (left by an earlier build) is
// not served: the browser would get the old app.
func TestStaleGzipNotServed(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	assets := t.TempDir()
	os.WriteFile(filepath.Join(assets, "app.css"), []byte("new"), 0o644)
	os.WriteFile(filepath.Join(assets, "app.css.gz"), []byte("old"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(assets, "app.css.gz"), old, old)
	p := serverproc.Start(t, os.Args[0], []string{"SMARTPASS_TEST_SERVER=1"}, addr, "-assets", assets, "-data", t.TempDir(), "-dev")
	p.WaitHealthy(t)
	req, _ := http.NewRequest("GET", "http://"+addr+"/web/app.css", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "new" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("served %q with encoding %q, want the current file", body, resp.Header.Get("Content-Encoding"))
	}
}
