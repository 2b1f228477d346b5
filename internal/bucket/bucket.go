// Package bucket reads and writes objects in cloud buckets — gs:// through
// Google's storage client, s3:// through the AWS SDK — for sources and
// outputs that live there: a prefix is a folder, an object's version
// (generation, ETag) tells a changed object, and an output is uploaded
// whole or not at all. Each store is one file that registers its scheme.
package bucket

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Object is one object of a listing.
type Object struct {
	URL     string // scheme://bucket/name
	Size    int64
	Version string // changes whenever the content does: GCS generation, S3 ETag
}

// Store is one kind of bucket.
type Store interface {
	// List returns the objects under prefix (a folder: "a/b" lists
	// a/b/...; an object named exactly prefix is returned alone).
	List(ctx context.Context, bucket, prefix string) ([]Object, error)
	// Open reads an object.
	Open(ctx context.Context, bucket, name string) (io.ReadCloser, Object, error)
	// Stat returns an object's size and version.
	Stat(ctx context.Context, bucket, name string) (Object, error)
	// Put writes an object from r in one upload: it appears whole or not.
	Put(ctx context.Context, bucket, name string, r io.Reader) error
}

var (
	mu      sync.Mutex
	openers = map[string]func(context.Context) (Store, error){}
	stores  = map[string]Store{}
)

func register(scheme string, open func(context.Context) (Store, error)) { openers[scheme] = open }

// IsURL says whether s names a bucket object or prefix (gs://, s3://).
func IsURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	_, known := openers[scheme]
	return ok && known
}

// Parse splits scheme://bucket/name.
func Parse(u string) (scheme, bucket, name string, err error) {
	scheme, rest, ok := strings.Cut(u, "://")
	if _, known := openers[scheme]; !ok || !known {
		return "", "", "", fmt.Errorf("%q: want gs://BUCKET/PATH or s3://BUCKET/PATH", u)
	}
	bucket, name, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", "", fmt.Errorf("%q names no bucket (want %s://BUCKET/PATH)", u, scheme)
	}
	return scheme, bucket, name, nil
}

// storeFor returns the scheme's store, made once per process.
func storeFor(ctx context.Context, scheme string) (Store, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := stores[scheme]; ok {
		return s, nil
	}
	s, err := openers[scheme](ctx)
	if err != nil {
		return nil, err
	}
	stores[scheme] = s
	return s, nil
}

// Reset forgets the stores made so far (tests point the environment at
// another emulator).
func Reset() {
	mu.Lock()
	defer mu.Unlock()
	stores = map[string]Store{}
}

// List lists the objects under a prefix URL (scheme://bucket/prefix/), in
// name order.
func List(ctx context.Context, u string) ([]Object, error) {
	scheme, b, name, err := Parse(u)
	if err != nil {
		return nil, err
	}
	s, err := storeFor(ctx, scheme)
	if err != nil {
		return nil, err
	}
	objs, err := s.List(ctx, b, name)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", u, err)
	}
	return objs, nil
}

// Open reads the object at u.
func Open(ctx context.Context, u string) (io.ReadCloser, Object, error) {
	scheme, b, name, err := Parse(u)
	if err != nil {
		return nil, Object{}, err
	}
	s, err := storeFor(ctx, scheme)
	if err != nil {
		return nil, Object{}, err
	}
	r, o, err := s.Open(ctx, b, name)
	if err != nil {
		return nil, o, fmt.Errorf("open %s: %w", u, err)
	}
	return r, o, nil
}

// Version is the object's version (GCS generation, S3 ETag).
func Version(ctx context.Context, u string) (string, error) {
	scheme, b, name, err := Parse(u)
	if err != nil {
		return "", err
	}
	s, err := storeFor(ctx, scheme)
	if err != nil {
		return "", err
	}
	o, err := s.Stat(ctx, b, name)
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", u, err)
	}
	return o.Version, nil
}

// Put uploads r as the object at u.
func Put(ctx context.Context, u string, r io.Reader) error {
	scheme, b, name, err := Parse(u)
	if err != nil {
		return err
	}
	if name == "" || strings.HasSuffix(name, "/") {
		return fmt.Errorf("%s: name an object, not a folder", u)
	}
	s, err := storeFor(ctx, scheme)
	if err != nil {
		return err
	}
	if err := s.Put(ctx, b, name, r); err != nil {
		return fmt.Errorf("upload %s: %w", u, err)
	}
	return nil
}

// folder is prefix as a folder: "" or ending in "/".
func folder(prefix string) string {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return prefix
	}
	return prefix + "/"
}
