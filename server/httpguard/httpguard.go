// Package httpguard is the server's outer HTTP layer: the security headers
// every answer carries, and the refusals that come before any handler runs.
//
//   - A strict Content-Security-Policy (only the server's own scripts, the
//     WebAssembly the go-app loader compiles, no framing), nosniff, no
//     referrer, and HSTS when the connection is TLS.
//   - A request that changes state (POST, PUT, PATCH, DELETE) must be JSON
//     (415 otherwise) and, when a browser sends it, come from the server's
//     own origin (403 otherwise): a page elsewhere cannot post a form or a
//     text/plain body to the sign-in or to an account endpoint.
//   - The private endpoints (accounts, the admin API) answer over plain
//     HTTP only from loopback in development mode: elsewhere a password or
//     a session token would cross the network in clear.
package httpguard

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strings"
)

// CSP is the Content-Security-Policy of every answer. go-app's page loads
// only scripts of its own origin (wasm_exec.js, app.js, the demo's USB
// shim) with no inline script; compiling app.wasm needs
// 'wasm-unsafe-eval', not 'unsafe-eval'. Styles come from files only:
// the app sets no style attribute (go-app's Style() would need
// style-src-attr 'unsafe-inline'; e2e TestAppRunsUnderCSP tells).
// Pictures are the server's files, QR codes as data: URLs and roster
// exports as blob: URLs; camera frames come from a MediaStream, which CSP
// does not govern. Sync and the demo reader are same-origin websockets
// ('self'); a page may read back a blob: it made (the roster export, which
// the end-to-end tests check that way).
const CSP = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self'; " +
	"img-src 'self' data: blob:; " +
	"media-src 'self' blob:; " +
	"connect-src 'self' blob:; " +
	"worker-src 'self'; " +
	"manifest-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

// HSTS is sent on TLS connections only: over plain HTTP (development on
// loopback) it would be ignored, and a wrong one would lock a browser out
// of a host that has no certificate yet.
const HSTS = "max-age=31536000"

// Options configure the guard.
type Options struct {
	// Dev allows plain HTTP to the private endpoints from loopback
	// addresses (the server's -dev).
	Dev bool
	// Private are the path prefixes that need TLS: a prefix ending in "/"
	// covers the paths under it, any other is matched exactly or as a
	// directory ("/accounts" covers "/accounts" and "/accounts/face").
	Private []string
	// Logger logs each refusal (the default logger when nil).
	Logger *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For
	// names the caller (Resolve); none by default, when the header is
	// never read.
	TrustedProxies []netip.Prefix
}

// Codes of the refusals, in the JSON error answers the PWA already reads
// ({"code": ..., "message": ...}).
const (
	CodeNeedsTLS    = "needs_tls"
	CodeContentType = "content_type"
	CodeCrossOrigin = "cross_origin"
)

// Wrap returns next behind the guard.
func Wrap(next http.Handler, opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, client := withClient(r, opt.TrustedProxies)
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for older browsers
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", HSTS)
		}
		if r.TLS == nil && isPrivate(opt.Private, r.URL.Path) && !(opt.Dev && client.Loopback) {
			refuse(w, r, opt.Logger, http.StatusForbidden, CodeNeedsTLS,
				"この画面は暗号化された接続（https://）でしか使えません。管理者に連絡してください。 / This needs an encrypted connection (https://); plain HTTP is allowed only on the server's own machine in development mode.")
			return
		}
		if changesState(r.Method) {
			if !isJSON(r.Header.Get("Content-Type")) {
				refuse(w, r, opt.Logger, http.StatusUnsupportedMediaType, CodeContentType,
					"送られた内容の形式が違います（JSON のみ受け付けます）。 / The request must be JSON (Content-Type: application/json).")
				return
			}
			if err := cop.Check(r); err != nil {
				refuse(w, r, opt.Logger, http.StatusForbidden, CodeCrossOrigin,
					"ほかのサイトからの送信は受け付けません。 / Requests from another site are refused.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// changesState reports whether method may change state: every method but
// the safe ones.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// isJSON reports whether a Content-Type names JSON (parameters such as
// charset allowed).
func isJSON(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	return err == nil && mt == "application/json"
}

func isPrivate(prefixes []string, path string) bool {
	for _, p := range prefixes {
		if strings.HasSuffix(p, "/") {
			if strings.HasPrefix(path, p) {
				return true
			}
		} else if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func refuse(w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int, code, msg string) {
	logger.Warn("http: refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "code", code)
	writeError(w, status, code, msg)
}

// writeError writes the JSON error answer ({"code", "message"}, as
// syncproto.Error) every endpoint uses.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg})
}

// CodeInternal is the code of a server failure (syncproto.CodeInternal's
// value, which the PWA reads).
const CodeInternal = "internal"

// InternalMessage is all a client learns of a server failure: the cause
// can name files, keys or records, and goes to the server's log instead.
const InternalMessage = "サーバーで問題が起きました。しばらくしてからもう一度お試しください。 / The server had a problem; please try again shortly."

// Internal answers 500 with InternalMessage and logs err, with what the
// server was doing (what) and the request, for the operator.
func Internal(w http.ResponseWriter, r *http.Request, logger *slog.Logger, what string, err error) {
	if logger == nil {
		logger = slog.Default()
	}
	logger.Error(what, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
	writeError(w, http.StatusInternalServerError, CodeInternal, InternalMessage)
}
