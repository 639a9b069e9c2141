package httpguard

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Client is who a request's caller counts as, worked out once by the
// guard (ClientOf) so that the API's back-off and refusal counts, the
// audit log and the sync hub all name a caller the same way.
type Client struct {
	// Host is the caller's address without a port (the remote address
	// as given when it is not an IP address): what logs and the audit
	// log name.
	Host string
	// Key is what the caller is counted by: an IPv4 address; an IPv6
	// address's /64 (one household's or one host's network: a client
	// has all of it to pick from); every loopback address, 127.0.0.0/8
	// and ::1, as one.
	Key string
	// Loopback is set for a caller on the server's own machine.
	Loopback bool
}

// forwardedFor is the header a reverse proxy appends the address it was
// called from to.
const forwardedFor = "X-Forwarded-For"

// Resolve is the caller of a request that came from remote (host:port,
// or a bare host) with the X-Forwarded-For header lines forwarded. The
// header is believed only from a proxy in trusted, and then only its
// last address (the one that proxy appended: the earlier ones are the
// caller's to write); a header that does not end in an address is
// ignored. Without trusted proxies the header is never read: anyone can
// send it.
func Resolve(remote string, forwarded []string, trusted []netip.Prefix) Client {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err == nil && len(forwarded) > 0 && trusts(trusted, ip) {
		all := strings.Split(strings.Join(forwarded, ","), ",")
		if last, perr := netip.ParseAddr(strings.TrimSpace(all[len(all)-1])); perr == nil {
			ip, host = last, last.String()
		}
	}
	if err != nil {
		return Client{Host: host, Key: host}
	}
	ip = ip.Unmap().WithZone("")
	c := Client{Host: host, Key: ip.String()}
	switch {
	case ip.IsLoopback():
		c.Key, c.Loopback = "loopback", true
	case ip.Is6():
		p, _ := ip.Prefix(64)
		c.Key = p.String()
	}
	return c
}

// trusts reports whether ip is one of the trusted proxies.
func trusts(trusted []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientKey is the request context's key of its Client.
type clientKey struct{}

// withClient returns r with its caller resolved once, for ClientOf.
func withClient(r *http.Request, trusted []netip.Prefix) (*http.Request, Client) {
	c := Resolve(r.RemoteAddr, r.Header.Values(forwardedFor), trusted)
	return r.WithContext(context.WithValue(r.Context(), clientKey{}, c)), c
}

// ClientOf is the caller of r as the guard resolved it; a request that
// did not pass the guard (a handler tested alone) is resolved from its
// remote address, trusting no proxy.
func ClientOf(r *http.Request) Client {
	if c, ok := r.Context().Value(clientKey{}).(Client); ok {
		return c
	}
	return Resolve(r.RemoteAddr, nil, nil)
}
