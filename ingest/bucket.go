package ingest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/tuneline/tuneline/internal/bucket"
)

// expandBucket lists a gs:// or s3:// source: the object it names, or
// every object under it when it is a prefix (a folder), in name order.
// Objects whose last path element starts with a dot are skipped, as
// hidden files are in a folder.
func expandBucket(out []string, u string) ([]string, error) {
	objs, err := bucket.List(context.Background(), u)
	if err != nil {
		return nil, fmt.Errorf("source %w", err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("source %s: no object there", u)
	}
	for _, o := range objs {
		if !hidden(o.URL) {
			out = append(out, o.URL)
		}
	}
	return out, nil
}

func hidden(u string) bool { return strings.HasPrefix(path.Base(u), ".") }

// openFile opens a file or a bucket object; load bounds both alike.
func openFile(ctx context.Context, src string) (io.ReadCloser, error) {
	if !bucket.IsURL(src) {
		return os.Open(src)
	}
	r, _, err := bucket.Open(ctx, src)
	return r, err
}

// SourceVersion says which version of a source a run reads, for
// incremental re-ingest: a bucket object's generation or ETag; "" for
// files and URLs (their content is hashed instead).
func SourceVersion(ctx context.Context, src string) (string, error) {
	if !bucket.IsURL(src) {
		return "", nil
	}
	return bucket.Version(ctx, src)
}
