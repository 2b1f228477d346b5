package testenv

import (
	"io"
	"net/url"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// FakeGCS starts fake-gcs-server in process on a loopback port with the
// given buckets, points STORAGE_EMULATOR_HOST at it for the rest of the
// test (so cloud.google.com/go/storage, gcloud and the other clients use
// it without credentials) and returns the emulator's host:port. It is
// stopped when the test ends. t.Setenv makes it unusable in parallel
// tests.
func FakeGCS(t testing.TB, buckets ...string) string {
	t.Helper()
	return FakeGCSServer(t, buckets...).Host
}

// GCSEmulator is a running fake-gcs-server.
type GCSEmulator struct {
	*fakestorage.Server
	Host string // host:port, the value of STORAGE_EMULATOR_HOST
	URL  string // http://host:port
}

// FakeGCSServer is FakeGCS returning the server, for tests that inspect
// or seed its objects directly (Server.GetObject, CreateObject).
func FakeGCSServer(t testing.TB, buckets ...string) *GCSEmulator {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http",
		Host:   "127.0.0.1",
		Writer: io.Discard,
	})
	if err != nil {
		t.Fatalf("fake-gcs-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	t.Setenv("STORAGE_EMULATOR_HOST", u.Host)
	return &GCSEmulator{Server: srv, Host: u.Host, URL: srv.URL()}
}
