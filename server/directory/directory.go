// Package directory says which municipalities one server process serves
// and where each one's data is: its tenant on a PostgreSQL cluster, its
// key files, and the host names its residents and tablets reach it by.
// A prefecture or a vendor runs several small municipalities on one
// process and places each on the cluster that holds it; one city on one
// machine needs none of this (-data, or -store with -tenant).
//
// The file is JSON, read once at start. Route sends each request to the
// municipality its Host names, so tablets, phones and the admin screen of
// one municipality never reach another's data: each has its own store,
// hub, devices, staff and audit chain.
package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
)

// Municipality is one municipality this process serves.
type Municipality struct {
	// Tenant names the municipality in its cluster (a code or a
	// romanised name): lower-case letters, digits, - and _.
	Tenant string `json:"tenant"`
	// Prefecture, City and Mayor are as its residents' card addresses
	// and its donation receipts name them (石川県, 加賀市, 加賀市長).
	Prefecture string `json:"prefecture"`
	City       string `json:"city"`
	Mayor      string `json:"mayor"`
	// Hosts are the host names (no port) its people reach it by.
	Hosts []string `json:"hosts"`
	// Store is the PostgreSQL database of its cluster (postgres://…).
	Store string `json:"store"`
	// Data is its own directory on this machine: the admin socket, and
	// the key files unless KeyFile and VaultKeyFile name others.
	Data         string `json:"data"`
	KeyFile      string `json:"key_file,omitempty"`
	VaultKeyFile string `json:"vault_key_file,omitempty"`
}

// Directory is the municipalities of one process.
type Directory struct {
	Municipalities []Municipality `json:"municipalities"`
}

// tenantRE bounds a tenant's name: it appears in logs and the tenants
// table.
var tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// hostRE is a host name as a Host header carries it, lower-cased.
var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// ValidTenant reports whether name may name a tenant.
func ValidTenant(name string) bool { return tenantRE.MatchString(name) }

// Error is a directory file that cannot be used: which municipality
// (its position, and its tenant when it has one) and what is wrong.
type Error struct {
	Index  int // 0-based; -1 for the file as a whole
	Tenant string
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Index < 0:
		return fmt.Sprintf("directory: %v", e.Err)
	case e.Tenant != "":
		return fmt.Sprintf("directory: municipality %d (%s): %v", e.Index+1, e.Tenant, e.Err)
	}
	return fmt.Sprintf("directory: municipality %d: %v", e.Index+1, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// What can be wrong with a directory, wrapped in an *Error.
var (
	ErrEmpty     = errors.New("names no municipality")
	ErrTenant    = errors.New("tenant must be lower-case letters, digits, - and _ (at most 63)")
	ErrDuplicate = errors.New("named twice")
	ErrNoHost    = errors.New("needs at least one host name")
	ErrHost      = errors.New("a host is a lower-case name without port or scheme (kaga.pass.example)")
	ErrStore     = errors.New("store must be a PostgreSQL URL, postgres://… (a Badger store holds one municipality)")
	ErrData      = errors.New("data must name its own directory")
	ErrPlace     = errors.New("prefecture and city must be given, as card addresses name them")
)

// maxFile bounds the file read (a directory of every municipality in
// Japan is well under it).
const maxFile = 4 << 20

// Parse reads a directory file: unknown fields refused (a misspelt key
// would otherwise be silently ignored), every municipality checked, no
// tenant, host or data directory named twice.
func Parse(b []byte) (*Directory, error) {
	if len(b) > maxFile {
		return nil, &Error{Index: -1, Err: fmt.Errorf("the file is larger than %d bytes", maxFile)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Directory
	if err := dec.Decode(&d); err != nil {
		return nil, &Error{Index: -1, Err: err}
	}
	if dec.More() {
		return nil, &Error{Index: -1, Err: errors.New("text after the directory's object")}
	}
	if len(d.Municipalities) == 0 {
		return nil, &Error{Index: -1, Err: ErrEmpty}
	}
	tenants, hosts, dirs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, m := range d.Municipalities {
		fail := func(err error) error { return &Error{Index: i, Tenant: m.Tenant, Err: err} }
		switch {
		case !ValidTenant(m.Tenant):
			return nil, fail(ErrTenant)
		case tenants[m.Tenant]:
			return nil, fail(fmt.Errorf("tenant %w", ErrDuplicate))
		case len(m.Hosts) == 0:
			return nil, fail(ErrNoHost)
		case !strings.HasPrefix(m.Store, "postgres://") && !strings.HasPrefix(m.Store, "postgresql://"):
			return nil, fail(ErrStore)
		case m.Data == "":
			return nil, fail(ErrData)
		case dirs[m.Data]:
			return nil, fail(fmt.Errorf("data %q %w", m.Data, ErrDuplicate))
		case strings.TrimSpace(m.Prefecture) == "" || strings.TrimSpace(m.City) == "":
			return nil, fail(ErrPlace)
		}
		for _, h := range m.Hosts {
			if !hostRE.MatchString(h) || len(h) > 253 {
				return nil, fail(fmt.Errorf("%w: %q", ErrHost, h))
			}
			if hosts[h] {
				return nil, fail(fmt.Errorf("host %q %w", h, ErrDuplicate))
			}
			hosts[h] = true
		}
		tenants[m.Tenant], dirs[m.Data] = true, true
	}
	return &d, nil
}

// Route returns the handler that sends each request to its
// municipality's handler (by tenant) as its Host names it, and answers
// any other host 404 in words: a request never reaches a municipality
// it did not name.
func (d *Directory) Route(handlers map[string]http.Handler) http.Handler {
	byHost := map[string]http.Handler{}
	for _, m := range d.Municipalities {
		for _, h := range m.Hosts {
			byHost[h] = handlers[m.Tenant]
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := byHost[HostOf(r.Host)]; h != nil {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "このアドレスの自治体はこのサーバーにありません。No municipality is served at this address.", http.StatusNotFound)
	})
}

// HostOf is the host name a Host header names, without its port,
// lower-cased ("" when it names none).
func HostOf(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
