package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/shelter"
	"smartpass.city/smartpass/server/api"
	"smartpass.city/smartpass/server/audit"
	"smartpass.city/smartpass/server/cli"
	"smartpass.city/smartpass/server/commands"
	"smartpass.city/smartpass/server/demo"
	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/server/store"
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

// The demo facilities the tests' devices belong to.
const (
	testShelter = "shelter-daishoji"
	testHQ      = "kaga-hq"
)

// testOps are check-ins at the test shelter with seqs from..to.
func testOps(from, to uint64) []syncproto.Op {
	var ops []syncproto.Op
	for s := from; s <= to; s++ {
		body := fmt.Sprintf(`{"shelter":%q,"kana":"テスト","birth_year":%d}`, testShelter, 1950+s%70)
		ops = append(ops, syncproto.Op{Seq: s, HLC: s, Kind: shelter.OpEvacueeAdd, Body: []byte(body)})
	}
	return ops
}

// demoHead is the log's head once a demo server has seeded its data
// (commands.DemoHead).
var demoHead = func() uint64 {
	head, err := commands.DemoHead()
	if err != nil {
		panic(err) // the embedded demo feed is checked by its own tests
	}
	return head
}()

// An acknowledged op survives SIGKILL right after the ack: the log writes
// with SyncWrites, and acks only after the commit.
func TestAckedOpSurvivesSIGKILL(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "not", "yet", "there") // created on start
	var key syncproto.Signer
	for round := uint64(0); round < 3; round++ {
		p := startServer(t, addr, "-data", data, "-dev", "-demo")
		p.WaitHealthy(t)
		if key == nil {
			key = p.Enroll(t, "tab-kill", testShelter, "shelter")
		}
		c, w := serverproc.Dial(t, addr, "tab-kill", key)
		if w.Acked != round*10 {
			t.Fatalf("round %d: welcome acked %d, want %d", round, w.Acked, round*10)
		}
		c.Send(&syncproto.Push{Ops: testOps(round*10+1, round*10+10)})
		if a, ok := c.Recv().(*syncproto.Ack); !ok || a.Acked != round*10+10 {
			t.Fatalf("round %d: no ack for the push", round)
		}
		p.Signal(syscall.SIGKILL)
		p.Wait(t)
	}
	p := startServer(t, addr, "-data", data, "-dev")
	p.WaitHealthy(t)
	if got := len(p.Ops(t)); got != int(demoHead)+30 {
		t.Fatalf("pulled %d ops after kills, want the %d server ops and 30 check-ins", got, demoHead)
	}
}

func TestGracefulShutdownAndRestart(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := t.TempDir()
	p := startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	key := p.Enroll(t, "tab-1", testShelter, "shelter")
	c, w := serverproc.Dial(t, addr, "tab-1", key)
	if w.Head != demoHead || w.Facility != testShelter || w.Role != "shelter" {
		t.Fatalf("demo seed: welcome %+v, want head %d at %s as shelter", w, demoHead, testShelter)
	}
	c.Send(&syncproto.Push{Ops: testOps(1, 2)})
	c.Recv()
	p.Stop(t)
	if !strings.Contains(p.Log(), "stopped cleanly") {
		t.Fatalf("no clean stop in the log:\n%s", p.Log())
	}
	// A second start with -demo finds every record and seeds nothing again.
	p = startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	_, w = serverproc.Dial(t, addr, "tab-1", key)
	if w.Head != demoHead+2 || w.Acked != 2 {
		t.Fatalf("after restart: head %d acked %d, want %d and 2", w.Head, w.Acked, demoHead+2)
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
	p := startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	key := p.Enroll(t, "tab-1", testShelter, "shelter")
	c, w := serverproc.Dial(t, addr, "tab-1", key)
	c.Send(&syncproto.Push{Ops: testOps(1, 20)})
	c.Recv()

	backup := filepath.Join(dir, "city.backup")
	out, err := command(t, "backup", "-data", data, "-out", backup)
	if err != nil {
		t.Fatalf("online backup: %v\n%s", err, out)
	}
	// The server logs the backup after the last byte reached the
	// command, which may have exited already: wait for the line a while.
	for i := 0; !strings.Contains(p.Log(), "online backup written"); i++ {
		if i == 50 {
			t.Fatalf("backup did not go through the running server:\n%s", p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	raw, _ := os.ReadFile(backup)
	if bytes.Contains(raw, []byte(shelter.OpEvacueeAdd)) || bytes.Contains(raw, []byte(testShelter)) {
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
	// The device's enrollment came back with the data: its key still opens
	// a session.
	_, w2 := serverproc.Dial(t, addr, "tab-1", key)
	if w2.Head != demoHead+20 || w2.Acked != 20 || w2.Epoch == w.Epoch {
		t.Fatalf("restored server: head %d acked %d epoch %s; want %d, 20 and a new epoch (old %s)", w2.Head, w2.Acked, w2.Epoch, demoHead+20, w.Epoch)
	}
}

// TestDeviceAdministration walks a device's life through the commands an
// admin types: a code, the tablet's registration, the device list, a
// revocation that cuts the live session, and the same list with no server
// running.
func TestDeviceAdministration(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	ctx := context.Background()

	out, err := command(t, "device-code", "-data", data, "-facility", testShelter, "-role", "shelter", "-url", "https://pass.example/")
	m := regexp.MustCompile(`once\): (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("device-code: %v\n%s", err, out)
	}
	code := m[1]
	// Also as a QR code of the set-up page's address with the code.
	if !strings.Contains(out, "█") || !strings.Contains(out, "(https://pass.example/setup?code="+code+")") {
		t.Fatalf("device-code prints no QR code of the set-up address:\n%s", out)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	req := syncproto.RegisterRequest{Code: code, Device: "tab-admin", PublicKey: pub, Name: "受付1"}
	reg, err := syncproto.Register(ctx, http.DefaultClient, "http://"+addr, req)
	if err != nil || reg.Facility != testShelter || reg.Role != "shelter" {
		t.Fatalf("register with %q: %+v, %v", code, reg, err)
	}
	req.Device = "tab-thief"
	_, err = syncproto.Register(ctx, http.DefaultClient, "http://"+addr, req)
	var ef *syncproto.Error
	if !errors.As(err, &ef) || ef.Code != api.CodeBadCode {
		t.Fatalf("second use of a code: %v, want %s", err, api.CodeBadCode)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"device-code", "-data", data, "-facility", "kaga-playpark", "-role", "shelter"}, "role"},
		{[]string{"device-code", "-data", data, "-facility", "nowhere", "-role", "shelter"}, "no such facility"},
		{[]string{"device-code", "-data", data, "-facility", testShelter, "-role", "shelter", "-ttl", "-1h"}, "duration"},
		{[]string{"revoke", "-data", data, "-device", "nobody"}, "unknown device"},
	} {
		if out, err := command(t, bad.args...); err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("%v: err %v, output %q; want a failure mentioning %q", bad.args, err, out, bad.want)
		}
	}

	c, _ := serverproc.Dial(t, addr, "tab-admin", syncproto.KeySigner{Key: priv})
	if out, err := command(t, "audit-verify", "-data", data); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("audit-verify on the running server: %v\n%s", err, out)
	}
	if out, err := command(t, "revoke", "-data", data, "-device", "tab-admin"); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	// The live session is cut at once...
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Conn().Recv(rctx); err == nil {
		t.Fatal("the revoked device's session stayed open")
	}
	// ...and the next connect is refused with a reason.
	wc, err := wsconn.Dial(ctx, "ws://"+addr+"/sync")
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	_, err = syncproto.Handshake(ctx, wc, "tab-admin", "test", syncproto.KeySigner{Key: priv})
	if !errors.As(err, &ef) || ef.Code != syncproto.CodeRevoked {
		t.Fatalf("connect after revoke: %v, want %s", err, syncproto.CodeRevoked)
	}
	p.Stop(t)

	// With no server running, the commands work on the store itself.
	out, err = command(t, "devices", "-data", data)
	if err != nil || !strings.Contains(out, "tab-admin") || !strings.Contains(out, "受付1") {
		t.Fatalf("devices offline: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`tab-admin\s+shelter-daishoji\s+shelter\s+受付1\s+\S+ \S+\s+\d{4}-\S+ \S+\s+\d{4}-\S+ \S+`).MatchString(out) {
		t.Fatalf("devices does not show tab-admin as revoked, with its last sync:\n%s", out)
	}
	// Every step is in the audit log, whose chain holds: the code, the
	// registration, the refused second use, the session, the revocation
	// and the refused reconnect.
	out, err = command(t, "audit-verify", "-data", data)
	m = regexp.MustCompile(`audit log intact: (\d+) entries`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("audit-verify: %v\n%s", err, out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 6 {
		t.Fatalf("the audit log holds %d entries, want at least the 6 steps", n)
	}
}

// TestDemoCodes: a demo server hands out a working code for every demo
// facility and role with a screen (the HQ's registrar desk too, not the
// auditor); a normal server has no such page.
func TestDemoCodes(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	p := startServer(t, addr, "-data", filepath.Join(t.TempDir(), "data"), "-dev", "-demo")
	p.WaitHealthy(t)
	resp, err := http.Get("http://" + addr + syncproto.DemoCodesPath)
	if err != nil {
		t.Fatal(err)
	}
	var codes []syncproto.DemoCode
	json.NewDecoder(resp.Body).Decode(&codes)
	resp.Body.Close()
	if len(codes) != len(facility.Demo())+1 || !slices.ContainsFunc(codes, func(c syncproto.DemoCode) bool { return c.Role == "registrar" }) {
		t.Fatalf("demo codes: %+v, want one per demo facility and the registrar's", codes)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	for i, c := range codes {
		reg, err := syncproto.Register(context.Background(), http.DefaultClient, "http://"+addr,
			syncproto.RegisterRequest{Code: c.Code, Device: fmt.Sprintf("demo-%d", i), PublicKey: pub})
		if err != nil || reg.Facility != c.Facility || reg.Role != c.Role {
			t.Fatalf("register with the demo code for %s: %+v, %v", c.Facility, reg, err)
		}
	}
	p.Stop(t)

	p = startServer(t, addr, "-data", filepath.Join(t.TempDir(), "data"), "-dev")
	p.WaitHealthy(t)
	resp, err = http.Get("http://" + addr + syncproto.DemoCodesPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("a server without -demo hands out enrollment codes")
	}
}

// TestAuditVerifyFindsTampering: somebody with the key edits one stored
// audit entry (hides which device was revoked); `audit-verify` fails and
// names the entry's position, and says nothing is wrong before the edit.
func TestAuditVerifyFindsTampering(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServer(t, addr, "-data", data, "-dev", "-demo")
	p.WaitHealthy(t)
	p.Enroll(t, "tab-1", testShelter, "shelter")
	p.Revoke(t, "tab-1")
	p.Stop(t)
	n := auditEntries(t, data)
	// The admin reads the log, filtered: the revocation, by whom.
	out, err := command(t, "audit", "-data", data, "-action", "device.revoke")
	if err != nil || !regexp.MustCompile(`\d+\s+\S+ \S+\s+admin\s+device.revoke\s+tab-1`).MatchString(out) || !strings.Contains(out, "(1 shown;") {
		t.Fatalf("audit -action device.revoke: %v\n%s", err, out)
	}
	if out, err := command(t, "audit", "-data", data, "-last", "0"); err == nil {
		t.Fatalf("audit -last 0 was taken:\n%s", out)
	}

	log, err := cli.OpenStore(data, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var at uint64
	err = log.Update(func(tx store.Tx) error {
		for seq := uint64(1); seq <= uint64(n); seq++ {
			id := fmt.Sprintf("%016x", seq)
			v, err := tx.Get("audit", id)
			if err != nil {
				return err
			}
			var e audit.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Action == "device.revoke" {
				at, e.Subject = seq, "tab-2"
				b, _ := json.Marshal(e)
				return tx.Put("audit", id, b)
			}
		}
		return fmt.Errorf("no revocation among %d entries", n)
	})
	if cerr := log.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err = command(t, "audit-verify", "-data", data)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out, fmt.Sprintf("entry %d was changed", at)) {
		t.Fatalf("audit-verify after editing entry %d: %v\n%s", at, err, out)
	}
}

// TestFacilityCommands: a city with no demo data sets up its facilities
// from the command line, the server running or not; a facility of a kind
// that does not exist is refused with the reason; a device code can then
// be issued for the new shelter, whose record every device receives.
func TestFacilityCommands(t *testing.T) {
	addr := serverproc.FreeAddr(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServer(t, addr, "-data", data, "-dev")
	p.WaitHealthy(t)
	out, err := command(t, "facility", "-data", data, "-id", "shelter-kumasaka", "-kind", "shelter", "-name-ja", "熊坂 地区会館", "-capacity", "80")
	if err != nil || !regexp.MustCompile(`shelter-kumasaka\s+shelter\s+熊坂 地区会館\s+80`).MatchString(out) {
		t.Fatalf("facility: %v\n%s", err, out)
	}
	if out, err := command(t, "facility", "-data", data, "-id", "museum-1", "-kind", "museum", "-name-ja", "博物館"); err == nil || !strings.Contains(out, "kind") {
		t.Fatalf("a museum was taken: %v\n%s", err, out)
	}
	if out, err := command(t, "device-code", "-data", data, "-facility", "shelter-kumasaka", "-role", "shelter"); err != nil {
		t.Fatalf("device-code for the new shelter: %v\n%s", err, out)
	}
	// The HQ, where the test's audit device is enrolled.
	if out, err := command(t, "facility", "-data", data, "-id", "kaga-hq", "-kind", "hq", "-name-ja", "災害対策本部"); err != nil {
		t.Fatalf("facility hq: %v\n%s", err, out)
	}
	found := false
	for _, op := range p.Ops(t) {
		found = found || op.Kind == facility.OpUpsert && strings.Contains(string(op.Body), "shelter-kumasaka")
	}
	if !found {
		t.Fatal("the new shelter is not on the public feed")
	}
	p.Stop(t)
	// Offline, on the store: its capacity changes.
	if out, err := command(t, "facility", "-data", data, "-id", "shelter-kumasaka", "-kind", "shelter", "-name-ja", "熊坂 地区会館", "-capacity", "120"); err != nil {
		t.Fatalf("facility offline: %v\n%s", err, out)
	}
	out, err = command(t, "facilities", "-data", data)
	if err != nil || !regexp.MustCompile(`shelter-kumasaka\s+shelter\s+熊坂 地区会館\s+120`).MatchString(out) {
		t.Fatalf("facilities: %v\n%s", err, out)
	}
}

// The test binary is the server the tests start: with the demo, as a
// build tagged demo has it.
func init() {
	newDemo = func(log store.Store, logger *slog.Logger) (cli.Demo, error) { return demo.New(log, logger) }
}

// auditEntries runs `server audit-verify` on data and returns how many
// entries the log holds.
func auditEntries(t *testing.T, data string) int {
	t.Helper()
	out, err := command(t, "audit-verify", "-data", data)
	m := regexp.MustCompile(`intact: (\d+) entries`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("audit-verify: %v\n%s", err, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
