// Package serverproc runs the Smart Pass server as a child process for
// tests that must treat it as a real process: kill it with SIGKILL, stop it
// with SIGTERM, restart it on the same data, read what it logged.
package serverproc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/server/procstat"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// Proc is one running server.
type Proc struct {
	Addr string
	Data string // the -data directory, when given
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}

	auditorID string
	auditor   syncproto.KeySigner
	// do runs an admin command line in process (Attach); nil: through
	// the admin socket of the process.
	do func(line string) ([]byte, error)
}

// Attach returns a Proc for a server running in the test's own process
// at addr (an httptest server of the API), whose admin commands run
// through do (a command line in, its JSON answer out): Code, Enroll, Ops
// and Count work on it as on a child process.
func Attach(addr string, do func(line string) ([]byte, error)) *Proc {
	return &Proc{Addr: addr, do: do}
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, so a restarted server can come back on the same address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs bin with -addr addr and args, with env added to the
// environment. The process is killed when the test ends.
func Start(t testing.TB, bin string, env []string, addr string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Env = append(cmd.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{Addr: addr, cmd: cmd, done: make(chan struct{})}
	for i, a := range args {
		if a == "-data" && i+1 < len(args) {
			p.Data = args[i+1]
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// WaitHealthy waits until GET /healthz answers 200.
func (p *Proc) WaitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("server exited early:\n%s", p.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server not healthy in time:\n%s", p.Log())
}

// Log returns what the server wrote to stderr so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Signal sends sig to the server.
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits for the server to exit and returns its exit code.
func (p *Proc) Wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not exit:\n%s", p.Log())
	}
	return p.cmd.ProcessState.ExitCode()
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	p.Signal(syscall.SIGTERM)
	if code := p.Wait(t); code != 0 {
		t.Fatalf("server exit code %d after SIGTERM:\n%s", code, p.Log())
	}
}

// ModuleRoot returns the directory of the project's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("serverproc: find module root: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// Build compiles ./server, with the demo (build tag demo: a test may
// start it with -demo), into dir and returns the binary's path. Tests
// that run the server as a process call it once from TestMain.
func Build(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "smartpass-server")
	cmd := exec.Command("go", "build", "-tags", "demo", "-o", bin, "./server")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("serverproc: build server: %w\n%s", err, out)
	}
	return bin, nil
}

// RunTests builds the server into a temporary directory, sets *bin to its
// path, runs the package's tests and exits: the whole TestMain of a package
// that runs the server as a process.
func RunTests(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "smartpass-server-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin, err = Build(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// PeakRSS returns the server's peak resident memory in bytes (VmHWM),
// read from /proc while it runs.
func (p *Proc) PeakRSS() (int64, error) { return procstat.PeakRSS(p.cmd.Process.Pid) }

// CPUSeconds returns the CPU time the server process has used so far:
// what a benchmark charges the server, apart from its own clients.
func (p *Proc) CPUSeconds() (float64, error) { return procstat.CPU(p.cmd.Process.Pid) }

// Facility adds or changes a facility through the admin socket, as
// `server facility` does.
func (p *Proc) Facility(t testing.TB, f facility.Facility) {
	t.Helper()
	b, _ := json.Marshal(f)
	var reply struct{}
	p.admin(t, "facility "+base64.RawURLEncoding.EncodeToString(b), &reply)
}

// admin sends one command line to the server's admin socket and decodes
// its JSON answer into reply, failing the test on an error.
func (p *Proc) admin(t testing.TB, line string, reply any) {
	t.Helper()
	var raw json.RawMessage
	if p.do != nil {
		b, err := p.do(line)
		if err != nil {
			t.Fatalf("serverproc: %s: %v", line, err)
		}
		raw = b
	} else {
		conn, err := net.Dial("unix", filepath.Clean(p.Data)+".sock")
		if err != nil {
			t.Fatalf("serverproc: admin socket: %v", err)
		}
		defer conn.Close()
		fmt.Fprintln(conn, line)
		if err := json.NewDecoder(conn).Decode(&raw); err != nil {
			t.Fatalf("serverproc: %s: %v", line, err)
		}
	}
	var e struct{ Error string }
	if json.Unmarshal(raw, &e); e.Error != "" {
		t.Fatalf("serverproc: %s: %s", line, e.Error)
	}
	if err := json.Unmarshal(raw, reply); err != nil {
		t.Fatalf("serverproc: %s: %v", line, err)
	}
}

// Code issues a one-time enrollment code through the server's admin
// socket, as `server device-code` does.
func (p *Proc) Code(t testing.TB, facility, role string) string {
	t.Helper()
	var reply struct{ Code string }
	p.admin(t, fmt.Sprintf("code %s %s 1h", facility, role), &reply)
	return reply.Code
}

// Routes returns the running server's route table through the admin
// socket ("routes"): every pattern its packages registered.
func (p *Proc) Routes(t testing.TB) []string {
	t.Helper()
	var reply struct{ Routes []string }
	p.admin(t, "routes", &reply)
	return reply.Routes
}

// Revoke revokes a device through the admin socket, as `server revoke`
// does.
func (p *Proc) Revoke(t testing.TB, device string) {
	t.Helper()
	var reply struct{}
	p.admin(t, "revoke "+device, &reply)
}

// Staff adds a staff account through the admin socket, as `server staff
// -add` does, and returns its first password.
func (p *Proc) Staff(t testing.TB, s admin.Staff) string {
	t.Helper()
	b, _ := json.Marshal(s)
	var reply struct{ Password string }
	p.admin(t, "staff-add "+base64.RawURLEncoding.EncodeToString(b), &reply)
	return reply.Password
}

// Enroll registers device at facility as role with a new key, the way a
// tablet does with a code from the admin, and returns its signer.
func (p *Proc) Enroll(t testing.TB, device, facility, role string) syncproto.KeySigner {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	req := syncproto.RegisterRequest{Code: p.Code(t, facility, role), Device: device, PublicKey: pub}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := syncproto.Register(ctx, http.DefaultClient, "http://"+p.Addr, req); err != nil {
		t.Fatalf("serverproc: enroll %s: %v", device, err)
	}
	return syncproto.KeySigner{Key: priv}
}

// Auditor is the demo HQ facility, where Ops enrolls its reader.
const Auditor = "kaga-hq"

// Ops returns every op the server holds, read over a fresh sync session
// of an audit device it enrolls: what a test compares against the devices to
// prove nothing was lost or stored twice. The server must hold the demo
// facilities (-demo).
func (p *Proc) Ops(t testing.TB) []syncproto.Op {
	t.Helper()
	if p.auditor.Key == nil {
		p.auditorID = fmt.Sprintf("auditor-%d", time.Now().UnixNano())
		p.auditor = p.Enroll(t, p.auditorID, Auditor, "audit")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ops, err := wsconn.PullAll(ctx, "ws://"+p.Addr+"/sync", p.auditorID, p.auditor)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// Count returns how many ops of kind the server holds (Ops).
func (p *Proc) Count(t testing.TB, kind string) int {
	t.Helper()
	n := 0
	for _, op := range p.Ops(t) {
		if op.Kind == kind {
			n++
		}
	}
	return n
}

// Post posts body as JSON to url and returns the answer's status and
// body.
func Post(t testing.TB, url string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Client is a test's sync session with the server, frame by frame; any
// failure fails the test.
type Client struct {
	t testing.TB
	c *wsconn.Conn
}

// Dial opens a session with the server at addr as device, signed with
// key, closed when the test ends.
func Dial(t testing.TB, addr, device string, key syncproto.Signer) (*Client, *syncproto.Welcome) {
	t.Helper()
	c, err := wsconn.Dial(context.Background(), "ws://"+addr+"/sync")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w, err := syncproto.Handshake(context.Background(), c, device, "test", key)
	if err != nil {
		t.Fatalf("handshake as %s: %v", device, err)
	}
	return &Client{t, c}, w
}

// Send sends one frame.
func (c *Client) Send(f syncproto.Frame) {
	c.t.Helper()
	b, err := syncproto.Encode(f)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.c.Send(context.Background(), b); err != nil {
		c.t.Fatal(err)
	}
}

// Recv waits up to 10 seconds for the next frame.
func (c *Client) Recv() syncproto.Frame {
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

// Conn is the session's connection, for a test that reads it raw.
func (c *Client) Conn() *wsconn.Conn { return c.c }
