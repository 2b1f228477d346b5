package bucket

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/tuneline/tuneline/publish/gcs"
)

// gs:// through cloud.google.com/go/storage, with the credentials publish
// uses (STORAGE_EMULATOR_HOST for an emulator, else Application Default
// Credentials).
func init() {
	register("gs", func(ctx context.Context) (Store, error) {
		// Reads through the JSON API, as listings and uploads go: the
		// same requests on GCS and on emulators (fake-gcs-server serves
		// the XML API's downloads only at its public host name).
		c, err := gcs.NewClient(ctx, storage.WithJSONReads())
		if err != nil {
			return nil, err
		}
		return gcsStore{c}, nil
	})
}

type gcsStore struct{ c *storage.Client }

func gcsObject(bucket string, a *storage.ObjectAttrs) Object {
	return Object{URL: "gs://" + bucket + "/" + a.Name, Size: a.Size, Version: "generation:" + strconv.FormatInt(a.Generation, 10)}
}

func (g gcsStore) List(ctx context.Context, bucket, prefix string) ([]Object, error) {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		if a, err := g.c.Bucket(bucket).Object(prefix).Attrs(ctx); err == nil {
			return []Object{gcsObject(bucket, a)}, nil
		}
	}
	var out []Object
	it := g.c.Bucket(bucket).Objects(ctx, &storage.Query{Prefix: folder(prefix)})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(a.Name, "/") { // folder placeholders
			out = append(out, gcsObject(bucket, a))
		}
	}
}

func (g gcsStore) Open(ctx context.Context, bucket, name string) (io.ReadCloser, Object, error) {
	r, err := g.c.Bucket(bucket).Object(name).NewReader(ctx)
	if err != nil {
		return nil, Object{}, err
	}
	return r, Object{URL: "gs://" + bucket + "/" + name, Size: r.Attrs.Size, Version: "generation:" + strconv.FormatInt(r.Attrs.Generation, 10)}, nil
}

func (g gcsStore) Stat(ctx context.Context, bucket, name string) (Object, error) {
	a, err := g.c.Bucket(bucket).Object(name).Attrs(ctx)
	if err != nil {
		return Object{}, err
	}
	return gcsObject(bucket, a), nil
}

func (g gcsStore) Put(ctx context.Context, bucket, name string, r io.Reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := g.c.Bucket(bucket).Object(name).NewWriter(ctx)
	if _, err := io.Copy(w, r); err != nil {
		cancel() // the object is not finalized: no partial upload appears
		w.Close()
		return err
	}
	return w.Close()
}
