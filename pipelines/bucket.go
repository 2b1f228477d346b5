package pipelines

import (
	"context"
	"strings"

	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/bucket"
)

// sourceHash is what tells that a source changed: a bucket object's
// generation or ETag (asked of the bucket, nothing downloaded), a file's
// content hash, or "url" for a web page (read again every time).
func sourceHash(f string) (string, error) {
	switch {
	case bucket.IsURL(f):
		return ingest.SourceVersion(context.Background(), f)
	case strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://"):
		return "url", nil
	}
	return hashFile(f)
}

// remoteSource says whether a configured source is read as it is (a URL
// or a bucket address) rather than as a path in the workspace.
func remoteSource(s string) bool {
	return bucket.IsURL(s) || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}
