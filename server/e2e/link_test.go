package e2e

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// link is a terminal's network to the server: a reverse proxy on
// loopback through which the browser reaches the server, and which the
// test cuts as a shelter's uplink is cut. While cut, every request and
// every open connection dies as on a dead network (closed without an
// answer, so fetch rejects and the service worker serves its cache),
// except the demo card reader's socket: on a real tablet that is a USB
// cable, not the network, and the simulated card lives on the server.
type link struct {
	URL   string // what the browser opens: http://host:port
	proxy *httputil.ReverseProxy

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool // upgraded connections, true for the card reader's
	// What went through: response bytes as sent (compressed where the
	// server compressed them, headers and websockets not counted), and
	// requests by path.
	bytes int64
	paths map[string]int
}

// traffic returns the response bytes sent so far and how many requests
// asked for a path under prefix.
func (l *link) traffic(prefix string) (bytes int64, requests int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p, n := range l.paths {
		if strings.HasPrefix(p, prefix) {
			requests += n
		}
	}
	return l.bytes, requests
}

// demoUSBPath is the demo reader's socket (demo.USBPath), which a
// cut leaves alone.
const demoUSBPath = "/demo/usb"

// newLink starts a link to the server at addr.
func newLink(t *testing.T, addr string) *link {
	t.Helper()
	target, _ := url.Parse("http://" + addr)
	l := &link{proxy: httputil.NewSingleHostReverseProxy(target), conns: map[net.Conn]bool{}, paths: map[string]int{}}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	l.URL = srv.URL
	return l
}

// Cut takes the terminal off the network: open connections drop, new
// ones fail, the card reader stays.
func (l *link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c, usb := range l.conns {
		if !usb {
			c.Close()
			delete(l.conns, c)
		}
	}
}

// Restore brings the network back.
func (l *link) Restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = false
}

func (l *link) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	usb := r.URL.Path == demoUSBPath
	l.mu.Lock()
	cut := l.cut
	if !cut {
		l.paths[r.URL.Path]++
	}
	l.mu.Unlock()
	if cut && !usb {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	l.proxy.ServeHTTP(&tracked{ResponseWriter: w, l: l, usb: usb}, r)
}

// tracked remembers the connection the proxy takes over for a websocket,
// so that Cut can drop it.
type tracked struct {
	http.ResponseWriter
	l   *link
	usb bool
}

func (w *tracked) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return c, rw, err
	}
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	if w.l.cut && !w.usb { // cut while the upgrade was on its way
		c.Close()
		return nil, nil, net.ErrClosed
	}
	w.l.conns[c] = w.usb
	return c, rw, nil
}

func (w *tracked) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.l.mu.Lock()
	w.l.bytes += int64(n)
	w.l.mu.Unlock()
	return n, err
}

func (w *tracked) Unwrap() http.ResponseWriter { return w.ResponseWriter }
