package security

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// domainServer starts a demo server on its own data directory, plain
// HTTP from loopback (-dev), and waits until it answers.
func domainServer(t *testing.T) *serverproc.Proc {
	t.Helper()
	p := serverproc.Start(t, serverBin, nil, serverproc.FreeAddr(t),
		"-assets", t.TempDir(), "-data", filepath.Join(t.TempDir(), "data"), "-dev", "-demo")
	p.WaitHealthy(t)
	return p
}

// domainPost posts req as JSON to the server's path and returns the
// answer's status and body.
func domainPost(t *testing.T, p *serverproc.Proc, path string, req any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return serverproc.Post(t, "http://"+p.Addr+path, b)
}

// domainSignIn signs a staff member in to the admin API and returns
// their session token, failing the test when refused.
func domainSignIn(t *testing.T, p *serverproc.Proc, id, password string) string {
	t.Helper()
	status, body := domainPost(t, p, admin.SignInPath, admin.SignIn{ID: id, Password: password})
	var s admin.Session
	if status != http.StatusOK || json.Unmarshal(body, &s) != nil || s.Token == "" {
		t.Fatalf("sign in as %s: HTTP %d %s", id, status, body)
	}
	return s.Token
}

// domainDevice is an enrolled device of a test, speaking the sync
// protocol to the server as a tablet does.
type domainDevice struct {
	t   *testing.T
	p   *serverproc.Proc
	id  string
	key syncproto.KeySigner
}

// domainEnroll sets up device at facility as role with a code from the
// owner's admin socket.
func domainEnroll(t *testing.T, p *serverproc.Proc, device, facility, role string) domainDevice {
	t.Helper()
	return domainDevice{t: t, p: p, id: device, key: p.Enroll(t, device, facility, role)}
}

// session opens an authenticated sync session.
func (d domainDevice) session(ctx context.Context) *wsconn.Conn {
	d.t.Helper()
	c, err := wsconn.Dial(ctx, "ws://"+d.p.Addr+"/sync")
	if err != nil {
		d.t.Fatal(err)
	}
	if _, err := syncproto.Handshake(ctx, c, d.id, "security-test", d.key); err != nil {
		c.Close()
		d.t.Fatalf("%s: handshake: %v", d.id, err)
	}
	return c
}

// exchange opens a session, sends f, and hands each frame the server
// answers to take until take reports it is done.
func (d domainDevice) exchange(f syncproto.Frame, take func(syncproto.Frame) (done bool)) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := d.session(ctx)
	defer c.Close()
	d.send(ctx, c, f)
	for !take(d.recv(ctx, c)) {
	}
}

// push sends ops in one frame and returns the server's refusals before
// its acknowledgement, and the mark it acknowledged.
func (d domainDevice) push(ops ...syncproto.Op) (refusals []*syncproto.Error, acked uint64) {
	d.t.Helper()
	d.exchange(&syncproto.Push{Ops: ops}, func(f syncproto.Frame) bool {
		switch f := f.(type) {
		case *syncproto.Ack:
			acked = f.Acked
			return true
		case *syncproto.Error:
			refusals = append(refusals, f)
			return f.Fatal
		}
		return false
	})
	return refusals, acked
}

// pull returns every op of feed the device is served.
func (d domainDevice) pull(feed string) (ops []syncproto.Op) {
	d.t.Helper()
	d.exchange(&syncproto.Pull{Feed: feed}, func(f syncproto.Frame) bool {
		switch f := f.(type) {
		case *syncproto.Ops:
			ops = append(ops, f.Ops...)
			return f.CaughtUp
		case *syncproto.Error:
			d.t.Fatalf("%s: pull %s: %v", d.id, feed, f)
		}
		return false
	})
	return ops
}

func (d domainDevice) send(ctx context.Context, c *wsconn.Conn, f syncproto.Frame) {
	d.t.Helper()
	b, err := syncproto.Encode(f)
	if err == nil {
		err = c.Send(ctx, b)
	}
	if err != nil {
		d.t.Fatalf("%s: send: %v", d.id, err)
	}
}

func (d domainDevice) recv(ctx context.Context, c *wsconn.Conn) syncproto.Frame {
	d.t.Helper()
	b, err := c.Recv(ctx)
	if err != nil {
		d.t.Fatalf("%s: receive: %v", d.id, err)
	}
	f, err := syncproto.Decode(b)
	if err != nil {
		d.t.Fatalf("%s: decode: %v", d.id, err)
	}
	return f
}

// domainOp is op number seq of a device, of kind with body, stamped now.
func domainOp(t *testing.T, seq uint64, kind string, body any) syncproto.Op {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return syncproto.Op{Seq: seq, HLC: hlc.Make(time.Now().UnixMilli(), 0), Kind: kind, Body: b}
}

// domainCommand runs a command of the server binary on p's data
// directory (through the running server's admin socket) and returns
// what it printed.
func domainCommand(t *testing.T, p *serverproc.Proc, args ...string) string {
	t.Helper()
	out, err := exec.Command(serverBin, append(args[:1:1], append([]string{"-data", p.Data}, args[1:]...)...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("server %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// domainAuditIntact fails the test unless the audit log's chain is
// intact after an attack.
func domainAuditIntact(t *testing.T, p *serverproc.Proc) {
	t.Helper()
	if out := domainCommand(t, p, "audit-verify"); !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit-verify: %s", out)
	}
}

// domainClientFrom is an HTTP client whose connections come from ip, a
// loopback address of its own (all of 127/8 is loopback on Linux): to
// the server, another caller.
func domainClientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// domainSignInFrom posts a sign-in from ip and returns the answer's
// status, body and how long it took.
func domainSignInFrom(t *testing.T, p *serverproc.Proc, ip, id, password string) (int, string, time.Duration) {
	t.Helper()
	b, _ := json.Marshal(admin.SignIn{ID: id, Password: password})
	start := time.Now()
	resp, err := domainClientFrom(ip).Post("http://"+p.Addr+admin.SignInPath, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Errorf("sign in from %s: %v", ip, err)
		return 0, "", 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), time.Since(start)
}
