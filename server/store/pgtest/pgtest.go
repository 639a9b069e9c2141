// Package pgtest starts throwaway PostgreSQL clusters for tests: initdb in
// a temporary directory, the server listening on a unix socket in that
// directory only (no TCP port to collide with another test or helper),
// fsync on so a crash test measures what production keeps, stopped and
// removed at the test's cleanup.
//
// The binaries come from PATH or Debian's /usr/lib/postgresql/*/bin
// (scripts/deps.sh installs the package). Without them a test skips,
// except in CI (CI=true), where it fails: the Postgres store must not go
// untested silently.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"smartpass.city/smartpass/server/procstat"
)

// Cluster is one running throwaway PostgreSQL server.
type Cluster struct {
	// Dir holds the data directory, the socket and the log.
	Dir string
	// Data is the cluster's data directory.
	Data string
	bin  string
	cred *syscall.Credential
	// Port names the socket file (.s.PGSQL.Port in Dir); nothing listens
	// on TCP.
	Port int
}

// ErrNoPostgres means no PostgreSQL binaries were found.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL is not installed (initdb not in PATH nor in /usr/lib/postgresql/*/bin); install Debian's postgresql package (scripts/deps.sh)")

// Bin returns the directory holding initdb, pg_ctl and postgres.
func Bin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Debian links some binaries into PATH; the rest (pg_basebackup,
		// psql for a test) sit beside the real one.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", ErrNoPostgres
	}
	// The newest major version installed.
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return vi < vj
	})
	return filepath.Dir(found[len(found)-1]), nil
}

// Need returns the binaries' directory, or ends the test: a skip on a
// developer's machine without PostgreSQL, a failure in CI.
func Need(t testing.TB) string {
	t.Helper()
	bin, err := Bin()
	return need(t, bin, err, os.Getenv("CI"))
}

func need(t testing.TB, bin string, err error, ci string) string {
	t.Helper()
	if err == nil {
		return bin
	}
	if ci == "true" {
		t.Fatalf("%v: CI must run the PostgreSQL store's tests", err)
		return ""
	}
	t.Skipf("%v: skipping (CI=true makes this a failure)", err)
	return ""
}

// Start starts a new cluster, stopped and removed at t's cleanup.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin := Need(t)
	c, err := newCluster(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.remove)
	if err := c.initdb(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// newCluster makes the cluster's directory. PostgreSQL refuses to run as
// root, so under root (a CI container) the server runs as the postgres
// user the Debian package creates, and the directory is given to it.
func newCluster(bin string) (*Cluster, error) {
	// The socket lives in the directory, and a unix socket's path is
	// limited to 107 bytes: a long TMPDIR gives way to /tmp.
	parent := os.TempDir()
	if len(parent) > 60 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c := &Cluster{Dir: dir, Data: filepath.Join(dir, "data"), bin: bin, Port: 5432}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	return c, nil
}

func (c *Cluster) remove() { os.RemoveAll(c.Dir) }

// cmd runs one of the cluster's binaries as the user the server runs as.
func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *Cluster) run(name string, args ...string) error {
	out, err := c.cmd(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (c *Cluster) initdb() error {
	// --no-sync: initdb's own files need not survive a crash of the
	// test machine; the server runs with fsync on.
	return c.run("initdb", "-D", c.Data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
}

// Start starts the server (again, after Stop or Kill) and waits until it
// accepts connections.
func (c *Cluster) Start() error {
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=200 -c shared_buffers=64MB", c.Dir, c.Port)
	return c.run("pg_ctl", "-D", c.Data, "-l", filepath.Join(c.Dir, "log"), "-w", "-t", "60", "-o", opts, "start")
}

// Stop stops the server quickly (what is committed is on disk: the
// immediate mode is a crash as far as the server knows).
func (c *Cluster) Stop() error {
	if _, err := os.Stat(filepath.Join(c.Data, "postmaster.pid")); err != nil {
		return nil
	}
	return c.run("pg_ctl", "-D", c.Data, "-w", "-m", "immediate", "stop")
}

// Kill SIGKILLs the postmaster, as a power cut would stop it, and waits
// until its children are gone.
func (c *Cluster) Kill() error {
	b, err := os.ReadFile(filepath.Join(c.Data, "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("pgtest: kill: %w", err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		return fmt.Errorf("pgtest: kill: postmaster.pid: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("pgtest: kill %d: %w", pid, err)
	}
	// The children notice the postmaster's death and exit; the socket's
	// lock file stays, which a restart clears.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for syscall.Kill(pid, 0) == nil && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// URL returns a connection string for database db (postgres exists from
// the start).
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", db, c.Dir, c.Port)
}

// Log returns the server's log, for a failing test to show.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
	return string(b)
}

// SQL runs sql with psql on database postgres and returns its output.
func (c *Cluster) SQL(sql string) (string, error) {
	out, err := c.cmd("psql", "-X", "-A", "-t", "-h", c.Dir, "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", "postgres", "-c", sql).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pgtest: psql %q: %w\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Contains reports whether any file of the cluster holds b, after a
// checkpoint has written every page: a test of encryption at rest.
func (c *Cluster) Contains(t testing.TB, b []byte) bool {
	t.Helper()
	if _, err := c.SQL("CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	found := false
	filepath.WalkDir(c.Data, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if data, _ := os.ReadFile(p); bytes.Contains(data, b) {
			t.Logf("%s holds %q", p, b)
			found = true
		}
		return nil
	})
	return found
}

// StartStandby starts a streaming standby of c (pg_basebackup -R) in a
// directory of its own, makes it c's synchronous standby (every commit on
// c waits until the standby has flushed its WAL), and waits until it
// streams. It is stopped and removed at t's cleanup.
func (c *Cluster) StartStandby(t testing.TB) *Cluster {
	t.Helper()
	s, err := newCluster(c.bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.remove)
	if err := s.run("pg_basebackup", "-D", s.Data, "-h", c.Dir, "-p", strconv.Itoa(c.Port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	// The standby names itself so the primary can require it by name.
	conf := fmt.Sprintf("\nprimary_conninfo = 'host=%s port=%d user=postgres application_name=standby'\n", c.Dir, c.Port)
	f, err := os.OpenFile(filepath.Join(s.Data, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		f.Close()
	}
	if err != nil {
		t.Fatalf("pgtest: standby config: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	for _, sql := range []string{"ALTER SYSTEM SET synchronous_standby_names = 'standby'", "SELECT pg_reload_conf()"} {
		if _, err := c.SQL(sql); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		state, err := c.SQL("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")
		if err == nil && state == "sync" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgtest: the standby does not stream synchronously (%q, %v)\n%s", state, err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Promote makes a standby the primary and waits until it accepts writes.
func (c *Cluster) Promote() error {
	return c.run("pg_ctl", "-D", c.Data, "-w", "-t", "60", "promote")
}

// CPUSeconds returns the CPU time the cluster's processes have used: the
// postmaster's own and its reaped children's, and its live children's,
// so a benchmark can count the engine's work beside its own process's.
func (c *Cluster) CPUSeconds() float64 {
	b, err := os.ReadFile(filepath.Join(c.Data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		return 0
	}
	total := 0.0
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		f, err := procstat.Fields(p)
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		ppid, _ := strconv.Atoi(f[3])
		if pid != pm && ppid != pm {
			continue
		}
		// The postmaster counts its reaped children's time too.
		total += procstat.CPUSeconds(f, pid == pm)
	}
	return total
}

// processes returns the pids of the cluster's postmaster and its
// children.
func (c *Cluster) processes() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(c.Data, "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		return nil, fmt.Errorf("pgtest: postmaster.pid: %w", err)
	}
	pids := []int{pm}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		f, err := procstat.Fields(p)
		if err != nil {
			continue
		}
		if ppid, _ := strconv.Atoi(f[3]); ppid == pm {
			pid, _ := strconv.Atoi(f[0])
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Pause stops every process of the cluster (SIGSTOP), as a stalled disk
// or a machine that stopped answering would: a primary whose synchronous
// standby is paused holds its commits until Resume.
func (c *Cluster) Pause() error { return c.signal(syscall.SIGSTOP) }

// Resume continues a paused cluster (SIGCONT).
func (c *Cluster) Resume() error { return c.signal(syscall.SIGCONT) }

func (c *Cluster) signal(sig syscall.Signal) error {
	pids, err := c.processes()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("pgtest: signal %d: %w", pid, err)
		}
	}
	return nil
}

// FailoverURL returns a connection string for database db that names
// every cluster given and asks for the one that takes writes
// (target_session_attrs=read-write): a client given a primary and its
// standby follows a promotion without being told.
func FailoverURL(db string, cs ...*Cluster) string {
	dirs := make([]string, len(cs))
	for i, c := range cs {
		dirs[i] = c.Dir
	}
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable&target_session_attrs=read-write", db, strings.Join(dirs, ","), cs[0].Port)
}
