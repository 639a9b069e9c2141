package security

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"smartpass.city/smartpass/server/serverproc"
	"smartpass.city/smartpass/syncproto"
	"smartpass.city/smartpass/syncproto/wsconn"
)

// timeoutsServer starts a demo server (-dev on loopback) whose connection
// limits are shortened by the serve command's test variable, so an attack
// on them runs in seconds.
func timeoutsServer(t *testing.T, limits string) *serverproc.Proc {
	t.Helper()
	dir := t.TempDir()
	p := serverproc.Start(t, serverBin, []string{"SMARTPASS_TEST_LIMITS=" + limits}, serverproc.FreeAddr(t),
		"-data", dir+"/data", "-assets", dir, "-dev", "-demo")
	p.WaitHealthy(t)
	return p
}

// timeoutsWaitClosed reads conn until the server closes it, and returns
// how long that took from start, or ok false when it is still open at
// deadline.
func timeoutsWaitClosed(conn net.Conn, start, deadline time.Time) (time.Duration, bool) {
	conn.SetReadDeadline(deadline)
	if _, err := io.Copy(io.Discard, conn); isTimeout(err) {
		return 0, false // the deadline passed with the connection open
	}
	return time.Since(start), true // EOF or reset: the server hung up
}

// Finding 4 (issue 16): a request whose body is trickled a byte every two
// seconds held its connection open for as long as the client liked (45 s
// and counting in the review), and 200 of them all stayed open. With the
// read time-out (3 s here) each is cut off. Failed before the fix: all
// 200 connections were still open after 12 s.
func TestTrickledBodiesAreCutOff(t *testing.T) {
	const conns, readLimit = 200, 3 * time.Second
	p := timeoutsServer(t, "header=1s,read=3s,idle=2s")
	start := time.Now()
	deadline := start.Add(12 * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	open, closedAfter := 0, time.Duration(0)
	for range conns {
		wg.Go(func() {
			conn, err := net.Dial("tcp", p.Addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /admin/api/signin HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", p.Addr)
			stop := make(chan struct{})
			go func() { // a byte every two seconds, until the server hangs up
				for {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Second):
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
			took, ok := timeoutsWaitClosed(conn, start, deadline)
			close(stop)
			mu.Lock()
			defer mu.Unlock()
			if !ok {
				open++
			} else {
				closedAfter = max(closedAfter, took)
			}
		})
	}
	wg.Wait()
	if open > 0 {
		t.Fatalf("%d of %d trickling connections still open after %s (read limit %s)", open, conns, time.Since(start).Round(time.Second), readLimit)
	}
	t.Logf("all %d trickling connections closed, the last after %s", conns, closedAfter.Round(100*time.Millisecond))
}

// Finding 4 (issue 16): a kept-alive connection that sends nothing more
// was never closed (no IdleTimeout). Failed before the fix.
func TestIdleConnectionIsClosed(t *testing.T) {
	p := timeoutsServer(t, "idle=2s")
	conn, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", p.Addr)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.SetReadDeadline(start.Add(8 * time.Second))
	if _, err := io.Copy(io.Discard, br); isTimeout(err) {
		t.Fatalf("an idle kept-alive connection is still open after %s: %v", time.Since(start).Round(time.Second), err)
	}
}

// Finding 4 (issue 16): any pong reset the sync socket's read deadline
// before the device authenticated, so 500 sockets that sent Hello and
// then only pongs stayed open past the hello limit; and nothing capped
// how many could wait unauthenticated. Now the hello limit (2 s here) is
// absolute, at most preauth (300 here) sockets are let in unauthenticated
// (the rest get 503 before the upgrade), and once they are gone a device
// connects again. Failed before the fix: all 500 upgraded, and all were
// open after 8 s.
func TestUnauthenticatedSocketsAreCutOff(t *testing.T) {
	const sockets, preAuth, hello = 500, 300, 2 * time.Second
	p := timeoutsServer(t, fmt.Sprintf("hello=%s,preauth=%d", hello, preAuth))
	url := "ws://" + p.Addr + "/sync"
	hi, err := syncproto.Encode(&syncproto.Hello{Proto: syncproto.Version, Device: "attacker"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deadline := start.Add(hello + 6*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	upgraded, busy, open := 0, 0, 0
	for range sockets {
		wg.Go(func() {
			ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
					mu.Lock()
					busy++
					mu.Unlock()
					return
				}
				t.Error(err)
				return
			}
			defer ws.Close()
			mu.Lock()
			upgraded++
			mu.Unlock()
			ws.WriteMessage(websocket.BinaryMessage, hi)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // pongs, as a keep-alive, never a signature
				for {
					select {
					case <-stop:
						return
					case <-time.After(300 * time.Millisecond):
						if ws.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second)) != nil {
							return
						}
					}
				}
			}()
			ws.SetReadDeadline(deadline)
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					if isTimeout(err) {
						mu.Lock()
						open++
						mu.Unlock()
					}
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d upgraded, %d refused as busy, %d still open after %s", upgraded, busy, open, time.Since(start).Round(time.Second))
	if upgraded > preAuth || busy != sockets-upgraded {
		t.Errorf("%d sockets waited unauthenticated at once and %d were refused: want at most %d let in, the rest refused with 503", upgraded, busy, preAuth)
	}
	if open > 0 {
		t.Errorf("%d unauthenticated sockets sending pongs were still open %s after the %s hello limit", open, deadline.Sub(start)-hello, hello)
	}
	// Their places are given back: a device can connect again.
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("after the attack a sync socket cannot open: %v", err)
	}
	ws.Close()
}

// isTimeout reports whether err is a read that timed out on our side:
// the connection was still open.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Finding 4's fix must not cut what is meant to last (issue 16): with the
// read, write and idle limits at one second, a large file under /web/
// read slowly still arrives whole (downloads get their own deadline), and
// an authenticated sync session still answers after three quiet seconds
// (the websocket is not bound by the HTTP limits, nor by the hello limit
// once signed in). A guard against the fix, so it passed before it too.
func TestLongTransfersOutliveTheTimeouts(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	p := serverproc.Start(t, serverBin, []string{"SMARTPASS_TEST_LIMITS=read=1s,write=1s,idle=1s,hello=1s"}, serverproc.FreeAddr(t),
		"-data", dir+"/data", "-assets", dir, "-dev", "-demo")
	p.WaitHealthy(t)

	t.Run("slow download", func(t *testing.T) {
		resp, err := http.Get("http://" + p.Addr + "/web/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		start, n := time.Now(), 0
		buf := make([]byte, 1<<20)
		for {
			k, err := io.ReadFull(resp.Body, buf)
			n += k
			if err != nil {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if n != len(big) {
			t.Fatalf("a slow download got %d of %d bytes in %s", n, len(big), time.Since(start).Round(100*time.Millisecond))
		}
	})
	t.Run("quiet sync session", func(t *testing.T) {
		key := p.Enroll(t, "quiet-tablet", "shelter-daishoji", "shelter")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := wsconn.Dial(ctx, "ws://"+p.Addr+"/sync")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		w, err := syncproto.Handshake(ctx, c, "quiet-tablet", "test", key)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		b, _ := syncproto.Encode(&syncproto.Pull{Feed: w.Feeds[0]})
		if err := c.Send(ctx, b); err != nil {
			t.Fatalf("send after three quiet seconds: %v", err)
		}
		b, err = c.Recv(ctx)
		if err != nil {
			t.Fatalf("the session did not outlive the limits: %v", err)
		}
		if f, err := syncproto.Decode(b); err != nil {
			t.Fatal(err)
		} else if _, ok := f.(*syncproto.Ops); !ok {
			t.Fatalf("answered %T, want the feed's ops", f)
		}
	})
}
