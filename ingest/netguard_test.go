package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// The policy, on addresses only (no packet is sent to any of them).
func TestDialPolicy(t *testing.T) {
	for _, tt := range []struct {
		ip, host, user string
		allow          bool
		ok             bool
	}{
		{"93.184.215.14", "example.org", "example.org", false, true},
		{"fe80::1", "evil.example", "example.org", false, false},
		{"fe80::1", "fe80::1", "fe80::1", false, false}, // never, even asked for
		{"fe80::2", "x", "x", false, false},
		{"fd12:3456::1", "x", "example.org", false, false}, // unique-local: private
		{"fd12:3456::1", "ula", "ULA", false, true},
		{"10.0.0.5", "intranet", "example.org", false, false},
		{"192.168.1.1", "router", "example.org", false, false},
		{"100.100.100.100", "tailnet", "example.org", false, false},
		{"127.0.0.1", "localhost", "example.org", false, false},
		{"0.0.0.0", "0.0.0.0", "example.org", false, false},
		{"::ffff:127.0.0.1", "x", "example.org", false, false},
		{"10.0.0.5", "intranet", "INTRANET", false, true}, // the user's own host
		{"127.0.0.1", "127.0.0.1", "127.0.0.1", false, true},
		{"fe80::1", "x", "example.org", true, true},
		{"10.0.0.5", "intranet", "example.org", true, true},
	} {
		err := dialPolicy(netip.MustParseAddr(tt.ip), tt.host, tt.user, tt.allow)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrPrivateNetwork) {
			t.Errorf("%s for %s (user's URL on %s, allow %v): %v", tt.ip, tt.host, tt.user, tt.allow, err)
		}
	}
}

// A page on 127.0.0.1 that redirects to another host on the loopback
// network (127.0.0.2, standing for a private service or a metadata
// endpoint), directly or through a name that resolves there, is refused
// at connect time; a redirect on the same host is followed, and
// --allow-private-network follows them all (issue 29, case 8).
func TestRedirectToPrivateRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	secret := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "the secret of the private service")
	}))
	secret.Listener.Close()
	secret.Listener = ln
	secret.Start()
	defer secret.Close()
	var page *httptest.Server
	page = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-private":
			http.Redirect(w, r, secret.URL+"/", http.StatusFound)
		case "/to-name":
			http.Redirect(w, r, strings.Replace(page.URL, "127.0.0.1", "localhost", 1)+"/page", http.StatusFound)
		case "/same-host":
			http.Redirect(w, r, "/page", http.StatusFound)
		default:
			fmt.Fprint(w, "a public page")
		}
	}))
	defer page.Close()
	for _, tt := range []struct {
		path  string
		allow bool
		want  string // "" when refused
	}{
		{"/to-private", false, ""},
		{"/to-name", false, ""},
		{"/same-host", false, "a public page"},
		{"/to-private", true, "the secret of the private service"},
	} {
		b, _, err := fetch(context.Background(), page.URL+tt.path, Options{MaxBytes: 1 << 20, HTTP: guardedClient(tt.allow)})
		if tt.want == "" && !errors.Is(err, ErrPrivateNetwork) {
			t.Errorf("%s: %q, %v; want it refused", tt.path, b, err)
		}
		if tt.want != "" && (err != nil || string(b) != tt.want) {
			t.Errorf("%s (allow %v): %q, %v; want %q", tt.path, tt.allow, b, err, tt.want)
		}
	}
}

// The URL limit is on the bytes received: an 8 MB windows-1252 page of
// euro signs is 24 MB in UTF-8 and was refused as larger than 20 MB
// (issue 29, case 15).
func TestURLLimitOnBytesReceived(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=windows-1252")
		w.Write([]byte(strings.Repeat("\x80", 8<<20)))
	}))
	defer srv.Close()
	b, _, err := fetch(context.Background(), srv.URL, Options{MaxBytes: 200 << 20, HTTP: guardedClient(false)})
	if err != nil || len(b) != 24<<20 || !strings.HasPrefix(string(b), "€€") {
		t.Errorf("%d bytes, %v; want 24 MiB of euro signs", len(b), err)
	}
}
