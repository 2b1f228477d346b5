package hf_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tuneline/tuneline/format"
	"github.com/tuneline/tuneline/internal/standin/hfhub"
	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/publish"
	"github.com/tuneline/tuneline/publish/hf"
)

// hfExport writes a real hf export (Parquet shards, card, report) of the
// LLaMA-Factory SFT demo.
func hfExport(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hf")
	opt := format.Options{Target: "hf", OutDir: out, Name: "demo"}
	format.DefaultConfig().Apply(&opt)
	if _, err := format.Export(context.Background(), []string{testenv.Corpus("chat-samples", "llama-factory", "v1_sft_demo.jsonl")}, opt); err != nil {
		t.Fatal(err)
	}
	return out
}

func opts() hf.Options {
	return hf.Options{Token: "hf_alice", TokenSource: "HF_TOKEN", Backoff: 10 * time.Millisecond, Message: "tuneline test build"}
}

// checkLanded compares every file of dir with the repo's copy.
func checkLanded(t *testing.T, srv *hfhub.Server, dir string) {
	t.Helper()
	files, _ := publish.Files(dir)
	for _, f := range files {
		want, _ := os.ReadFile(filepath.Join(dir, f))
		got, lfs, ok := srv.File("datasets/alice/demo", "main", f)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: in the repo %v, %d bytes; the file has %d", f, ok, len(got), len(want))
		}
		if strings.HasSuffix(f, ".parquet") != lfs {
			t.Errorf("%s: in LFS %v", f, lfs)
		}
	}
}

func TestPublish(t *testing.T) {
	dir := hfExport(t)
	srv := hfhub.Start(map[string]string{"hf_alice": "alice"})
	defer srv.Close()
	o := opts()
	o.Endpoint = srv.URL
	var last, total int64
	o.Progress = func(d, tot int64) { last, total = d, tot }
	res, err := hf.Publish(context.Background(), "alice/demo", dir, o)
	if err != nil {
		t.Fatal(err)
	}
	checkLanded(t, srv, dir)
	files, _ := publish.Files(dir)
	shards := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".parquet") {
			shards++
		}
	}
	if shards == 0 || !res.Committed || res.Uploaded != len(files) || res.LFSUploaded != shards || srv.Commits() != 1 || srv.LFSUploads() != shards {
		t.Errorf("first publish: %+v; %d commits, %d LFS uploads, %d shards", res, srv.Commits(), srv.LFSUploads(), shards)
	}
	if last != total || total != res.Bytes || total == 0 {
		t.Errorf("progress ended at %d of %d; %d bytes sent", last, total, res.Bytes)
	}

	// Unchanged: nothing sent, no commit, the same head.
	res2, err := hf.Publish(context.Background(), "alice/demo", dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Committed || res2.Uploaded != 0 || res2.Bytes != 0 || res2.Commit != res.Commit || srv.Commits() != 1 || srv.LFSUploads() != shards {
		t.Errorf("second publish: %+v; %d commits, %d LFS uploads", res2, srv.Commits(), srv.LFSUploads())
	}

	// The card changed: one regular file in one commit, no LFS upload.
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# changed\n"), 0o644)
	res3, err := hf.Publish(context.Background(), "alice/demo", dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res3.Committed || res3.Uploaded != 1 || srv.Commits() != 2 || srv.LFSUploads() != shards {
		t.Errorf("after changing the card: %+v; %d commits, %d LFS uploads", res3, srv.Commits(), srv.LFSUploads())
	}
	checkLanded(t, srv, dir)
}

func TestPublishFaults(t *testing.T) {
	dir := hfExport(t)
	for _, tc := range []struct {
		name  string
		fault func(srv *hfhub.Server) func(http.ResponseWriter, *http.Request) bool
		check func(t *testing.T, took time.Duration)
	}{
		{"connection dropped mid-upload", func(*hfhub.Server) func(http.ResponseWriter, *http.Request) bool {
			var done atomic.Bool
			return func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPut || !done.CompareAndSwap(false, true) {
					return false
				}
				io.CopyN(io.Discard, r.Body, 4<<10)
				c, _, _ := w.(http.Hijacker).Hijack()
				c.Close()
				return true
			}
		}, nil},
		{"429 with Retry-After", func(*hfhub.Server) func(http.ResponseWriter, *http.Request) bool {
			var n atomic.Int32
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/preupload/") || n.Add(1) > 1 {
					return false
				}
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"error":"slow down"}`, http.StatusTooManyRequests)
				return true
			}
		}, func(t *testing.T, took time.Duration) {
			if took < time.Second {
				t.Errorf("took %s: Retry-After: 1 was not honoured", took)
			}
		}},
		{"5xx on the commit", func(*hfhub.Server) func(http.ResponseWriter, *http.Request) bool {
			var n atomic.Int32
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/commit/") || n.Add(1) > 2 {
					return false
				}
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return true
			}
		}, nil},
		{"commit made, answer lost", func(srv *hfhub.Server) func(http.ResponseWriter, *http.Request) bool {
			var done atomic.Bool
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/commit/") || !done.CompareAndSwap(false, true) {
					return false
				}
				srv.Serve(httptest.NewRecorder(), r)
				c, _, _ := w.(http.Hijacker).Hijack()
				c.Close()
				return true
			}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hfhub.Start(map[string]string{"hf_alice": "alice"})
			defer srv.Close()
			srv.Fault = tc.fault(srv)
			o := opts()
			o.Endpoint = srv.URL
			var log bytes.Buffer
			o.Log = &log
			start := time.Now()
			res, err := hf.Publish(context.Background(), "alice/demo", dir, o)
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, time.Since(start))
			}
			checkLanded(t, srv, dir)
			if srv.Commits() != 1 || !res.Committed && tc.name != "commit made, answer lost" {
				t.Errorf("%d commits (want 1), result %+v", srv.Commits(), res)
			}
			if tc.name != "commit made, answer lost" && !strings.Contains(log.String(), "retrying") {
				t.Errorf("no retry logged: %q", log.String())
			}
			if strings.Contains(log.String(), "hf_alice") {
				t.Errorf("the token is in the log: %q", log.String())
			}
		})
	}
}

func TestPublishErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("x"), 0o644)
	srv := hfhub.Start(map[string]string{"hf_alice": "alice"})
	defer srv.Close()
	for _, tc := range []struct {
		name, repo, token string
		fault             int
		want              []string
	}{
		{"bad token", "alice/demo", "hf_wrong", 0, []string{"401", "token from HF_TOKEN was refused", "/settings/tokens"}},
		{"other namespace", "bob/demo", "hf_alice", 0, []string{"403", "HF_TOKEN", "belongs to alice, not bob"}},
		{"bad repo id", "demo", "hf_alice", 0, []string{"not a repo id", "NAMESPACE/NAME"}},
		{"5xx every time", "alice/demo", "hf_alice", http.StatusServiceUnavailable, []string{"503", "try again later"}},
		{"429 every time", "alice/demo", "hf_alice", http.StatusTooManyRequests, []string{"429", "rate-limiting", "wait"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.Fault = nil
			if tc.fault != 0 {
				srv.Fault = func(w http.ResponseWriter, r *http.Request) bool {
					http.Error(w, "no", tc.fault)
					return true
				}
			}
			o := opts()
			o.Endpoint, o.Token, o.Retries = srv.URL, tc.token, 2
			_, err := hf.Publish(context.Background(), tc.repo, dir, o)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tc.token) && tc.token != "" {
				t.Errorf("error shows the token: %q", err)
			}
		})
	}
}

func TestToken(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_TOKEN_PATH", "")
	t.Setenv("HF_HOME", home)
	if _, _, err := hf.Token(); err == nil || !strings.Contains(err.Error(), "HF_TOKEN") || !strings.Contains(err.Error(), filepath.Join(home, "token")) {
		t.Errorf("no token: %v", err)
	}
	os.WriteFile(filepath.Join(home, "token"), []byte("hf_file\n"), 0o600)
	if tok, src, err := hf.Token(); err != nil || tok != "hf_file" || !strings.Contains(src, filepath.Join(home, "token")) {
		t.Errorf("token file: %q %q %v", tok, src, err)
	}
	t.Setenv("HF_TOKEN", "hf_env")
	if tok, src, err := hf.Token(); err != nil || tok != "hf_env" || src != "HF_TOKEN" {
		t.Errorf("HF_TOKEN: %q %q %v", tok, src, err)
	}
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
	if hf.Endpoint() != "http://127.0.0.1:9" {
		t.Errorf("Endpoint = %s", hf.Endpoint())
	}
}
