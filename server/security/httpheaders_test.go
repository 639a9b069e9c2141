package security

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/admin"
	"smartpass.city/smartpass/server/serverproc"
)

// headersServer starts a server on addr with args, its data and assets
// in a temporary directory.
func headersServer(t *testing.T, addr string, args ...string) *serverproc.Proc {
	t.Helper()
	dir := t.TempDir()
	return serverproc.Start(t, serverBin, nil, addr, append([]string{"-data", dir + "/data", "-assets", dir}, args...)...)
}

// headersPost posts body with Content-Type ctype to url through client.
func headersPost(t *testing.T, client *http.Client, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}

// headersWant checks the security headers of every answer.
func headersWant(t *testing.T, what string, h http.Header, tls bool) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, want)
		}
	}
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && (f[0] == "script-src" || f[0] == "default-src") {
			for _, v := range f[1:] {
				if v == "'unsafe-eval'" || v == "'unsafe-inline'" || v == "*" || v == "data:" {
					t.Errorf("%s: the CSP's %s allows %s", what, f[0], v)
				}
			}
		}
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	if hsts := h.Get("Strict-Transport-Security"); tls != (hsts != "") {
		t.Errorf("%s: Strict-Transport-Security %q over TLS=%v: want it on TLS only", what, hsts, tls)
	}
}

// Finding 8 (issue 16): no answer carried a Content-Security-Policy,
// frame-ancestors, nosniff or a Referrer-Policy, and none carried HSTS
// under TLS. Failed before the fix (every header missing).
func TestSecurityHeaders(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		p := headersServer(t, serverproc.FreeAddr(t), "-dev", "-demo")
		p.WaitHealthy(t)
		for _, path := range []string{"/", "/admin", "/healthz", "/web/app.css", "/app.js", "/no-such-page"} {
			resp, err := http.Get("http://" + p.Addr + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			headersWant(t, "GET "+path, resp.Header, false)
		}
		resp, _ := headersPost(t, http.DefaultClient, "http://"+p.Addr+admin.SignInPath, "application/json", []byte(`{"id":"x","password":"y"}`))
		headersWant(t, "POST "+admin.SignInPath, resp.Header, false)
	})
	t.Run("tls", func(t *testing.T) {
		cert, key := headersCert(t)
		p := headersServer(t, serverproc.FreeAddr(t), "-tls-cert", cert, "-tls-key", key)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		var resp *http.Response
		var err error
		for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(50 * time.Millisecond) {
			if resp, err = client.Get("https://" + p.Addr + "/healthz"); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("TLS server not up: %v\n%s", err, p.Log())
		}
		resp.Body.Close()
		headersWant(t, "GET /healthz over TLS", resp.Header, true)
		// Over TLS the private endpoints answer from anywhere.
		resp, b := headersPost(t, client, "https://"+p.Addr+admin.SignInPath, "application/json", []byte(`{"id":"nobody","password":"wrong"}`))
		if resp.StatusCode == http.StatusForbidden {
			t.Errorf("sign-in over TLS refused: %s", b)
		}
	})
}

// Finding 8 (issue 16): with no certificate given, the account and admin
// endpoints answered plain HTTP from any address: a staff password, a
// session token crossed the network in clear. Now they answer plain HTTP
// only from loopback in -dev mode (the demo, the tests). Failed before
// the fix (the sign-in answered 401, the account endpoint 400).
func TestPrivateEndpointsNeedTLS(t *testing.T) {
	signIn, _ := json.Marshal(admin.SignIn{ID: "admin", Password: "wrong"})
	paths := []string{admin.SignInPath, admin.OverviewPath, account.CreatePath, account.RecoverPath, account.DeskPath}
	refused := func(t *testing.T, base string, want bool) {
		t.Helper()
		for _, path := range paths {
			resp, b := headersPost(t, http.DefaultClient, base+path, "application/json", signIn)
			var e struct{ Code string }
			json.Unmarshal(b, &e)
			if got := resp.StatusCode == http.StatusForbidden && e.Code == "needs_tls"; got != want {
				t.Errorf("POST %s%s over plain HTTP: %d %s; want refused=%v", base, path, resp.StatusCode, b, want)
			}
		}
	}
	t.Run("loopback without -dev", func(t *testing.T) {
		p := headersServer(t, serverproc.FreeAddr(t))
		p.WaitHealthy(t)
		refused(t, "http://"+p.Addr, true)
	})
	t.Run("loopback with -dev", func(t *testing.T) {
		p := headersServer(t, serverproc.FreeAddr(t), "-dev")
		p.WaitHealthy(t)
		refused(t, "http://"+p.Addr, false)
	})
	t.Run("another address with -dev", func(t *testing.T) {
		ip := headersOwnAddress(t)
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		p := headersServer(t, addr, "-dev")
		p.WaitHealthy(t)
		refused(t, "http://"+addr, true)
	})
}

// headersOwnAddress returns one of this machine's addresses that is not
// loopback: a request to it comes from it too, so the server sees a
// client off loopback.
func headersOwnAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no address but loopback")
	return ""
}

// headersCert writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their files.
func headersCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
