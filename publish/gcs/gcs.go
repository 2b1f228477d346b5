// Package gcs uploads a folder to a Google Cloud Storage prefix with
// cloud.google.com/go/storage: Application Default Credentials (or the
// emulator named by STORAGE_EMULATOR_HOST, as the Go client reads it),
// resumable uploads for files larger than one chunk, the CRC32C of every
// file sent with it and checked by the service, and objects whose content
// is already there left alone.
package gcs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/storage"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/tuneline/tuneline/publish"
)

// DefaultChunkSize is the size of one request of a resumable upload: a
// file larger than this goes up in chunks, and a dropped connection
// resends only the chunk it broke.
const DefaultChunkSize = 8 << 20

// DefaultParallel is how many files go up at once.
const DefaultParallel = 4

// Options configure UploadDir.
type Options struct {
	// Client talks to GCS; nil makes one with NewClient.
	Client *storage.Client
	// Files are the paths (slash-separated, relative to the folder) to
	// upload; nil means every file publish.Files lists.
	Files []string
	// ChunkSize of resumable uploads (default DefaultChunkSize; the client
	// rounds it up to a multiple of 256 KiB).
	ChunkSize int
	// Parallel uploads (default DefaultParallel).
	Parallel int
	// Progress, when set, is called with the bytes uploaded so far (all
	// files) and the total to upload.
	Progress func(done, total int64)
}

// Object is one file's object after UploadDir.
type Object struct {
	File       string `json:"file"`   // path in the folder, slash-separated
	Name       string `json:"name"`   // object name in the bucket
	Size       int64  `json:"size"`   // bytes
	CRC32C     string `json:"crc32c"` // base64 of the big-endian CRC32C, as GCS shows it
	Generation int64  `json:"generation"`
	// Uploaded is false when the object already held this content.
	Uploaded bool `json:"uploaded"`
}

// Result is what UploadDir did.
type Result struct {
	Bucket    string   `json:"bucket"`
	Prefix    string   `json:"prefix"`
	Objects   []Object `json:"objects"`
	Uploaded  int      `json:"uploaded"`
	Unchanged int      `json:"unchanged"`
	Bytes     int64    `json:"bytes_uploaded"`
}

// URI is the gs:// address of the object for file (a path relative to the
// uploaded folder, slash-separated).
func (r Result) URI(file string) string {
	return "gs://" + r.Bucket + "/" + objectName(r.Prefix, file)
}

// ParseURL splits gs://BUCKET/PREFIX into the bucket and the prefix
// (without slashes at its ends; empty for the bucket's top).
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "gs://")
	if !ok {
		return "", "", fmt.Errorf("%q is not a gs:// address (want gs://BUCKET/PREFIX)", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket (want gs://BUCKET/PREFIX)", u)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

func objectName(prefix, file string) string {
	if prefix == "" {
		return file
	}
	return prefix + "/" + file
}

// CredentialsSource names where Application Default Credentials come from,
// for messages: the key file in GOOGLE_APPLICATION_CREDENTIALS, gcloud's
// application-default login, or the metadata server.
func CredentialsSource() string {
	if p := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); p != "" {
		return "GOOGLE_APPLICATION_CREDENTIALS=" + p
	}
	if p := wellKnownFile(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return "gcloud application-default credentials (" + p + ")"
		}
	}
	return "the metadata server (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud application-default login)"
}

func wellKnownFile() string {
	if d := os.Getenv("CLOUDSDK_CONFIG"); d != "" {
		return filepath.Join(d, "application_default_credentials.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "gcloud", "application_default_credentials.json")
}

// NewClient makes a storage client: with STORAGE_EMULATOR_HOST set, the
// Go client's own emulator mode (no credentials); otherwise Application
// Default Credentials, found first so that missing ones are an error that
// says how to provide them rather than a 401 later. opts are added to the
// client's.
func NewClient(ctx context.Context, opts ...option.ClientOption) (*storage.Client, error) {
	if os.Getenv("STORAGE_EMULATOR_HOST") != "" {
		return storage.NewClient(ctx, opts...)
	}
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{
		Scopes: []string{storage.ScopeFullControl},
	})
	if err != nil {
		return nil, fmt.Errorf("no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file or run `gcloud auth application-default login` (%w)", err)
	}
	return storage.NewClient(ctx, append([]option.ClientOption{option.WithAuthCredentials(creds)}, opts...)...)
}

// UploadDir uploads the files of dir under dst (gs://BUCKET/PREFIX): file
// F becomes object PREFIX/F. An object that already has the file's size
// and CRC32C is left alone (its generation unchanged); others are written
// with a precondition on the generation seen, so a retried request cannot
// write twice. Each upload sends the file's CRC32C and the service rejects
// content that does not match it.
func UploadDir(ctx context.Context, dst, dir string, opts Options) (Result, error) {
	bucket, prefix, err := ParseURL(dst)
	if err != nil {
		return Result{}, err
	}
	res := Result{Bucket: bucket, Prefix: prefix}
	files := opts.Files
	if files == nil {
		if files, err = publish.Files(dir); err != nil {
			return res, err
		}
	}
	if len(files) == 0 {
		return res, fmt.Errorf("%s: no files to upload", dir)
	}
	client := opts.Client
	if client == nil {
		if client, err = NewClient(ctx); err != nil {
			return res, err
		}
		defer client.Close()
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}

	// Sums first (one read of each file), so the total to upload is known
	// and the unchanged objects are found before anything is sent.
	locals := make([]local, len(files))
	for i, f := range files {
		if locals[i], err = sum(dir, f); err != nil {
			return res, err
		}
	}
	bkt := client.Bucket(bucket)
	objs := make([]Object, len(files))
	var total int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallel)
	for i, l := range locals {
		g.Go(func() error {
			name := objectName(prefix, l.file)
			o := Object{File: l.file, Name: name, Size: l.size, CRC32C: encodeCRC(l.crc)}
			attrs, err := bkt.Object(name).Attrs(gctx)
			if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
				return describe(err, bucket, name)
			}
			if err == nil {
				o.Generation = attrs.Generation
				if attrs.Size == l.size && attrs.CRC32C == l.crc {
					objs[i] = o
					return nil
				}
			}
			o.Uploaded = true
			objs[i] = o
			atomic.AddInt64(&total, l.size)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}

	var done atomic.Int64
	var mu sync.Mutex
	report := func(n int64) {
		if opts.Progress != nil {
			mu.Lock()
			opts.Progress(done.Add(n), total)
			mu.Unlock()
		} else {
			done.Add(n)
		}
	}
	if opts.Progress != nil {
		opts.Progress(0, total)
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallel)
	for i := range objs {
		if !objs[i].Uploaded {
			continue
		}
		g.Go(func() error {
			gen, err := upload(gctx, bkt, dir, &objs[i], locals[i].crc, opts.ChunkSize, report)
			if err != nil {
				return describe(err, bucket, objs[i].Name)
			}
			objs[i].Generation = gen
			return nil
		})
	}
	err = g.Wait()
	for _, o := range objs {
		if o.Uploaded {
			res.Uploaded++
			res.Bytes += o.Size
		} else if o.Name != "" {
			res.Unchanged++
		}
	}
	res.Objects = objs
	return res, err
}

type local struct {
	file string
	size int64
	crc  uint32
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func sum(dir, file string) (local, error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		return local{}, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err != nil {
		return local{}, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return local{file: file, size: n, crc: h.Sum32()}, nil
}

func encodeCRC(c uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

// upload writes one object and returns its new generation. o.Generation
// is the generation seen (0: none), the precondition of the write.
func upload(ctx context.Context, bkt *storage.BucketHandle, dir string, o *Object, crc uint32, chunk int, report func(int64)) (int64, error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(o.File)))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := bkt.Object(o.Name)
	if o.Generation == 0 {
		h = h.If(storage.Conditions{DoesNotExist: true})
	} else {
		h = h.If(storage.Conditions{GenerationMatch: o.Generation})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // an unclosed Writer's upload ends with its context
	w := h.NewWriter(ctx)
	w.ChunkSize = chunk
	w.CRC32C = crc
	w.SendCRC32C = true
	w.ContentType = contentType(o.File)
	var sent int64
	w.ProgressFunc = func(n int64) {
		report(n - sent)
		sent = n
	}
	if _, err := io.Copy(w, f); err != nil {
		return 0, err // the deferred cancel ends the upload
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	if o.Size > sent {
		report(o.Size - sent)
	}
	a := w.Attrs()
	if a.CRC32C != crc || a.Size != o.Size {
		return 0, fmt.Errorf("stored object has CRC32C %s and %d bytes, the file %s and %d bytes", encodeCRC(a.CRC32C), a.Size, encodeCRC(crc), o.Size)
	}
	return a.Generation, nil
}

func contentType(file string) string {
	switch path.Ext(file) {
	case ".jsonl":
		return "application/jsonl"
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".md":
		return "text/markdown; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(file)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// describe adds to a service error what to do about it.
func describe(err error, bucket, name string) error {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return fmt.Errorf("gs://%s/%s: %w", bucket, name, err)
	}
	var hint string
	switch ge.Code {
	case http.StatusUnauthorized:
		hint = "the credentials were refused (from " + CredentialsSource() + "): renew them or point GOOGLE_APPLICATION_CREDENTIALS at a valid key"
	case http.StatusForbidden:
		hint = "the account (from " + CredentialsSource() + ") may not write to bucket " + bucket + ": grant it roles/storage.objectAdmin on the bucket"
	case http.StatusNotFound:
		hint = "bucket " + bucket + " does not exist: create it (gcloud storage buckets create gs://" + bucket + ") or fix the address"
	case http.StatusPreconditionFailed:
		hint = "the object changed while it was uploaded (another writer): run again"
	case http.StatusTooManyRequests:
		hint = "the service is rate-limiting this bucket: wait and run again"
	}
	if hint == "" {
		return fmt.Errorf("gs://%s/%s: %w", bucket, name, err)
	}
	return fmt.Errorf("gs://%s/%s: %w; %s", bucket, name, err, hint)
}
