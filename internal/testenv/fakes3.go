package testenv

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3Emulator is a running gofakes3 (an S3 emulator) in process on a
// loopback port.
type S3Emulator struct {
	*s3mem.Backend
	URL string // the value of AWS_ENDPOINT_URL
}

// FakeS3 starts gofakes3 with the given buckets and points the AWS SDK's
// environment at it for the rest of the test: AWS_ENDPOINT_URL, a region,
// throw-away keys, and empty config files so that the machine's own AWS
// configuration is never read. It is stopped when the test ends.
func FakeS3(t testing.TB, buckets ...string) *S3Emulator {
	t.Helper()
	be := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(be).Server())
	t.Cleanup(srv.Close)
	for _, b := range buckets {
		if err := be.CreateBucket(b); err != nil {
			t.Fatalf("gofakes3: bucket %s: %v", b, err)
		}
	}
	empty := filepath.Join(t.TempDir(), "aws-empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": srv.URL, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	return &S3Emulator{Backend: be, URL: srv.URL}
}
