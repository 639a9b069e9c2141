package pwa

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// gzipText compresses, for a browser that accepts gzip, every whole (200)
// response of a text type that is not compressed already: the pages and
// go-app's scripts, manifest and worker, which it serves from memory, and
// our text assets when the build made no .gz of them. Big binary files
// (app.wasm, the face model) are compressed once, at build time.
func gzipText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(rw, r)
			return
		}
		g := &gzipWriter{ResponseWriter: rw}
		defer g.close()
		next.ServeHTTP(g, r)
	})
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip (and
// does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// compressible reports whether a response of the Content-Type ctype is
// worth compressing: text, scripts, JSON, manifests and SVG.
func compressible(ctype string) bool {
	t, _, _ := strings.Cut(ctype, ";")
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case strings.HasPrefix(t, "text/"):
		return true
	case t == "application/javascript", t == "application/json", t == "application/manifest+json", t == "image/svg+xml":
		return true
	}
	return false
}

// gzipPool reuses compressors: each holds a few hundred kilobytes.
var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// gzipWriter decides at the first header whether to compress.
type gzipWriter struct {
	http.ResponseWriter
	decided bool
	gz      *gzip.Writer
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.decided {
		g.decided = true
		h := g.Header()
		if code == http.StatusOK && h.Get("Content-Encoding") == "" && compressible(h.Get("Content-Type")) {
			h.Del("Content-Length")
			h.Del("Accept-Ranges")
			h.Set("Content-Encoding", "gzip")
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Accept-Encoding") {
				h.Add("Vary", "Accept-Encoding")
			}
			g.gz = gzipPool.Get().(*gzip.Writer)
			g.gz.Reset(g.ResponseWriter)
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.decided {
		if g.Header().Get("Content-Type") == "" {
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

// close ends the compressed stream.
func (g *gzipWriter) close() {
	if g.gz != nil {
		g.gz.Close()
		gzipPool.Put(g.gz)
		g.gz = nil
	}
}
