package gcs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/publish"
	"github.com/tuneline/tuneline/publish/gcs"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, bucket, prefix, err string }{
		{"gs://b/p/q/", "b", "p/q", ""},
		{"gs://b", "b", "", ""},
		{"gs://b/", "b", "", ""},
		{"s3://b/p", "", "", "not a gs://"},
		{"gs:///p", "", "", "names no bucket"},
	} {
		b, p, err := gcs.ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || b != tc.bucket || p != tc.prefix {
			t.Errorf("%s: %q %q %v, want %q %q", tc.in, b, p, err, tc.bucket, tc.prefix)
		}
	}
	if got := (gcs.Result{Bucket: "b", Prefix: "x/y"}).URI("train.jsonl"); got != "gs://b/x/y/train.jsonl" {
		t.Errorf("URI = %s", got)
	}
}

// vertexExport writes a real vertex export of the LLaMA-Factory SFT demo
// (two files of a few hundred KB, larger than a 256 KiB chunk).
func vertexExport(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "vertex")
	opt := format.Options{Target: "vertex", OutDir: out, Name: "t"}
	format.DefaultConfig().Apply(&opt)
	if _, err := format.Export(context.Background(), []string{testenv.Corpus("chat-samples", "llama-factory", "v1_sft_demo.jsonl")}, opt); err != nil {
		t.Fatal(err)
	}
	return out
}

// readBack fetches an object's bytes and metadata with plain HTTP through
// the JSON API, not through the storage client that wrote it.
func readBack(t *testing.T, base, bucket, name string) ([]byte, map[string]any) {
	t.Helper()
	u := base + "/storage/v1/b/" + bucket + "/o/" + url.PathEscape(name)
	resp, err := http.Get(u + "?alt=media")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", u, resp.Status, body)
	}
	resp, err = http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
		t.Fatal(err)
	}
	return body, meta
}

func TestUploadDirFakeGCS(t *testing.T) {
	testenv.Integration(t, "fake-gcs-server")
	dir := vertexExport(t)
	emu := testenv.FakeGCSServer(t, "bkt")
	ctx := context.Background()
	var calls, last, lastTotal int64
	res, err := gcs.UploadDir(ctx, "gs://bkt/runs/one/", dir, gcs.Options{ChunkSize: 256 << 10, Progress: func(done, total int64) {
		atomic.AddInt64(&calls, 1)
		last, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := publish.Files(dir)
	if res.Uploaded != len(files) || res.Unchanged != 0 || len(res.Objects) != len(files) {
		t.Fatalf("first upload: %+v, want %d files uploaded", res, len(files))
	}
	if last != lastTotal || last != res.Bytes || calls < 3 {
		t.Errorf("progress ended at %d of %d after %d calls; %d bytes uploaded", last, lastTotal, calls, res.Bytes)
	}
	gens := map[string]string{}
	for _, o := range res.Objects {
		want, err := os.ReadFile(filepath.Join(dir, o.File))
		if err != nil {
			t.Fatal(err)
		}
		got, meta := readBack(t, emu.URL, "bkt", o.Name)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes read back differ from the file's %d", o.Name, len(got), len(want))
		}
		if meta["crc32c"] != o.CRC32C || meta["generation"] != fmt.Sprint(o.Generation) {
			t.Errorf("%s: service says crc32c %v generation %v, result %s %d", o.Name, meta["crc32c"], meta["generation"], o.CRC32C, o.Generation)
		}
		if !strings.HasPrefix(o.Name, "runs/one/") {
			t.Errorf("object %s is not under the prefix", o.Name)
		}
		gens[o.Name] = fmt.Sprint(meta["generation"])
	}
	if res.URI("train.jsonl") != "gs://bkt/runs/one/train.jsonl" {
		t.Errorf("URI = %s", res.URI("train.jsonl"))
	}

	// Unchanged: nothing is written, every generation stays.
	res2, err := gcs.UploadDir(ctx, "gs://bkt/runs/one", dir, gcs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Uploaded != 0 || res2.Unchanged != len(files) || res2.Bytes != 0 {
		t.Errorf("second upload: %+v, want nothing uploaded", res2)
	}
	for name, g := range gens {
		if _, meta := readBack(t, emu.URL, "bkt", name); fmt.Sprint(meta["generation"]) != g {
			t.Errorf("%s rewritten: generation %v, was %s", name, meta["generation"], g)
		}
	}

	// One file changed: only it is written.
	if err := os.WriteFile(filepath.Join(dir, "validation.jsonl"), []byte(`{"contents":[]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res3, err := gcs.UploadDir(ctx, "gs://bkt/runs/one", dir, gcs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res3.Uploaded != 1 || res3.Unchanged != len(files)-1 {
		t.Errorf("after changing one file: %+v", res3)
	}
	got, _ := readBack(t, emu.URL, "bkt", "runs/one/validation.jsonl")
	if string(got) != `{"contents":[]}`+"\n" {
		t.Errorf("changed file read back as %q", got)
	}
}

func TestUploadDirMissingBucket(t *testing.T) {
	testenv.Integration(t, "fake-gcs-server")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	testenv.FakeGCS(t)
	_, err := gcs.UploadDir(context.Background(), "gs://nope/x", dir, gcs.Options{})
	if err == nil || !strings.Contains(err.Error(), "bucket nope does not exist") {
		t.Fatalf("err = %v, want one that says the bucket does not exist", err)
	}
}

// TestUploadDirDroppedConnection cuts the connection in the middle of the
// first chunk of a resumable upload: the client resumes and the object
// lands whole, once.
func TestUploadDirDroppedConnection(t *testing.T) {
	testenv.Integration(t, "fake-gcs-server")
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB: three 256 KiB chunks
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)
	emu := testenv.FakeGCSServer(t, "bkt")
	target, _ := url.Parse(emu.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var dropped atomic.Bool
	var front *httptest.Server
	// The emulator's resumable session URL names its own address: point
	// it back at the proxy.
	proxy.ModifyResponse = func(r *http.Response) error {
		if loc := r.Header.Get("Location"); loc != "" {
			r.Header.Set("Location", strings.Replace(loc, emu.URL, front.URL, 1))
		}
		return nil
	}
	front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("upload_id") != "" && dropped.CompareAndSwap(false, true) {
			io.CopyN(io.Discard, r.Body, 100<<10)
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
			return
		}
		r.Host = target.Host
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(front.URL, "http://"))
	res, err := gcs.UploadDir(context.Background(), "gs://bkt/p", dir, gcs.Options{ChunkSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if !dropped.Load() {
		t.Fatal("no chunk was dropped: the test did not test a resume")
	}
	got, meta := readBack(t, emu.URL, "bkt", "p/big.bin")
	if !bytes.Equal(got, big) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(big))
	}
	if fmt.Sprint(meta["generation"]) != fmt.Sprint(res.Objects[0].Generation) {
		t.Errorf("generation %v, result says %d", meta["generation"], res.Objects[0].Generation)
	}
}
