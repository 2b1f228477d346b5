package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateNetwork is wrapped by the error of a fetch refused for the
// address it would connect to.
var ErrPrivateNetwork = errors.New("refused to connect to a private address")

// cgnat is the shared address space of RFC 6598 (carrier NAT, tailnets).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// addrClass tells what kind of network an address is on: "" for the
// public internet, else "loopback", "private" or "link-local" (cloud
// metadata services live in link-local space, or in IPv6 unique-local
// space, which is "private": refused unless the user's own URL is there).
func addrClass(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsLoopback() || a.IsUnspecified(): // 0.0.0.0 reaches this host
		return "loopback"
	case a.IsPrivate() || cgnat.Contains(a):
		return "private"
	}
	return ""
}

// dialPolicy decides whether a connection to ip may be made for a request
// to host, when the user's own URL named userHost: the public internet
// always; loopback and private addresses only when the user's URL is on
// that same host (a page may not redirect there); link-local never. allow
// (--allow-private-network) permits everything.
func dialPolicy(ip netip.Addr, host, userHost string, allow bool) error {
	if allow {
		return nil
	}
	switch c := addrClass(ip); {
	case c == "":
		return nil
	case c == "link-local":
		return fmt.Errorf("%w: %s is %s (where cloud metadata services answer); --allow-private-network permits it", ErrPrivateNetwork, ip, c)
	case !strings.EqualFold(host, userHost):
		return fmt.Errorf("%w: %s (%s, a %s address) is not the host of the URL given (%s); --allow-private-network permits it", ErrPrivateNetwork, host, ip, c, userHost)
	}
	return nil
}

type userHostKey struct{}

// guardedClient fetches URLs checking every address it connects to with
// dialPolicy, at connect time (the dialer's Control hook sees the address
// DNS gave, so a name that resolves to a private address cannot get round
// it); fetch puts the user's host in the request's context.
func guardedClient(allow bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would be the only address checked
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		userHost, _ := ctx.Value(userHostKey{}).(string)
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
			Control: func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("%w: cannot read the address %q", ErrPrivateNetwork, address)
				}
				return dialPolicy(ap.Addr(), host, userHost, allow)
			}}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("more than 5 redirects")
		}
		return nil
	}}
}
