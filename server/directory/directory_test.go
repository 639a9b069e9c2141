package directory

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const two = `{"municipalities": [
 {"tenant": "kaga", "prefecture": "石川県", "city": "加賀市", "mayor": "加賀市長", "hosts": ["kaga.pass.example", "pass.city.kaga.ishikawa.jp"],
  "store": "postgres://pass@db-hokuriku/pass", "data": "/var/lib/smartpass/kaga"},
 {"tenant": "komatsu", "prefecture": "石川県", "city": "小松市", "mayor": "小松市長", "hosts": ["komatsu.pass.example"],
  "store": "postgres://pass@db-hokuriku/pass", "data": "/var/lib/smartpass/komatsu"}
]}`

func TestParse(t *testing.T) {
	d, err := Parse([]byte(two))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Municipalities) != 2 || d.Municipalities[1].City != "小松市" || d.Municipalities[0].Hosts[1] != "pass.city.kaga.ishikawa.jp" {
		t.Fatalf("parsed %+v", d)
	}
	kaga := `{"tenant": "kaga", "prefecture": "石川県", "city": "加賀市", "hosts": ["kaga.pass.example"], "store": "postgres://db/pass", "data": "/d/kaga"}`
	for _, tt := range []struct {
		name, file string
		want       error
		words      string
	}{
		{"not JSON", `{`, nil, "directory:"},
		{"a misspelt key", `{"municipalites": []}`, nil, "unknown field"},
		{"none", `{"municipalities": []}`, ErrEmpty, ""},
		{"text after", `{"municipalities": [` + kaga + `]} {}`, nil, "text after"},
		{"a tenant with capitals", `{"municipalities": [` + strings.Replace(kaga, `"kaga"`, `"Kaga City"`, 1) + `]}`, ErrTenant, "municipality 1"},
		{"a tenant twice", `{"municipalities": [` + kaga + `,` + strings.Replace(strings.Replace(kaga, "kaga.pass", "k2.pass", 1), "/d/kaga", "/d/k2", 1) + `]}`, ErrDuplicate, "municipality 2 (kaga): tenant named twice"},
		{"a host twice", `{"municipalities": [` + kaga + `,` + strings.Replace(strings.Replace(kaga, `"kaga"`, `"k2"`, 1), "/d/kaga", "/d/k2", 1) + `]}`, ErrDuplicate, `host "kaga.pass.example" named twice`},
		{"a data directory twice", `{"municipalities": [` + kaga + `,` + strings.Replace(strings.Replace(kaga, `"kaga"`, `"k2"`, 1), "kaga.pass", "k2.pass", 1) + `]}`, ErrDuplicate, "data"},
		{"no host", `{"municipalities": [` + strings.Replace(kaga, `["kaga.pass.example"]`, `[]`, 1) + `]}`, ErrNoHost, ""},
		{"a host with a port", `{"municipalities": [` + strings.Replace(kaga, `kaga.pass.example`, `kaga.pass.example:443`, 1) + `]}`, ErrHost, ""},
		{"a host with a scheme", `{"municipalities": [` + strings.Replace(kaga, `kaga.pass.example`, `https://kaga.pass.example`, 1) + `]}`, ErrHost, ""},
		{"a host in capitals", `{"municipalities": [` + strings.Replace(kaga, `kaga.pass.example`, `Kaga.Pass.Example`, 1) + `]}`, ErrHost, ""},
		{"a Badger store", `{"municipalities": [` + strings.Replace(kaga, `postgres://db/pass`, `/var/lib/badger`, 1) + `]}`, ErrStore, "Badger store holds one municipality"},
		{"no data", `{"municipalities": [` + strings.Replace(kaga, `"/d/kaga"`, `""`, 1) + `]}`, ErrData, ""},
		{"no city", `{"municipalities": [` + strings.Replace(kaga, `"加賀市"`, `" "`, 1) + `]}`, ErrPlace, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse: %v, want a *directory.Error", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Parse: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.words) {
				t.Fatalf("Parse: %q does not say %q", err, tt.words)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	d, err := Parse([]byte(two))
	if err != nil {
		t.Fatal(err)
	}
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })
	}
	h := d.Route(map[string]http.Handler{"kaga": named("kaga"), "komatsu": named("komatsu")})
	for _, tt := range []struct {
		host, want string
		code       int
	}{
		{"kaga.pass.example", "kaga", 200},
		{"KAGA.pass.example:8443", "kaga", 200},
		{"pass.city.kaga.ishikawa.jp.", "kaga", 200},
		{"komatsu.pass.example", "komatsu", 200},
		{"nomi.pass.example", "No municipality", 404},
		{"127.0.0.1:8080", "No municipality", 404},
		{"", "No municipality", 404},
	} {
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.Host = tt.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("Host %q: %d %q, want %d %q", tt.host, w.Code, w.Body, tt.code, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(two))
	f.Add([]byte(`{"municipalities": [{"tenant": "a", "hosts": ["a"], "store": "postgres://x", "data": "d", "prefecture": "p", "city": "c"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("an error that is not a *directory.Error: %v", err)
			}
			return
		}
		hosts := map[string]bool{}
		for _, m := range d.Municipalities {
			if !ValidTenant(m.Tenant) || len(m.Hosts) == 0 {
				t.Fatalf("accepted %+v", m)
			}
			for _, h := range m.Hosts {
				if hosts[h] || HostOf(h) != h {
					t.Fatalf("accepted host %q twice or not as a Host header names it", h)
				}
				hosts[h] = true
			}
		}
	})
}
