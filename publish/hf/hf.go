// Package hf publishes a folder to a Hugging Face Hub dataset repo through
// the Hub's HTTP API as the official clients (huggingface_hub,
// @huggingface/hub) use it: whoami-v2, repos/create, preupload, the Git
// LFS batch API with basic transfer for what the Hub stores in LFS
// (sha256 oids, content streamed from disk), and one NDJSON commit. Files
// the repo already holds with the same content are not sent, and nothing
// changed means no commit.
package hf

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tuneline/tuneline/publish"
)

// DefaultEndpoint is the Hub's address when HF_ENDPOINT is not set.
const DefaultEndpoint = "https://huggingface.co"

// Endpoint is the Hub's address: HF_ENDPOINT, as huggingface_hub reads
// it, else DefaultEndpoint.
func Endpoint() string {
	if e := strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"); e != "" {
		return e
	}
	return DefaultEndpoint
}

// TokenFile is where huggingface_hub keeps the token `hf auth login`
// saves: $HF_HOME/token, HF_HOME defaulting to $XDG_CACHE_HOME/huggingface
// or ~/.cache/huggingface.
func TokenFile() string {
	if p := os.Getenv("HF_TOKEN_PATH"); p != "" {
		return p
	}
	home := os.Getenv("HF_HOME")
	if home == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			h, _ := os.UserHomeDir()
			cache = filepath.Join(h, ".cache")
		}
		home = filepath.Join(cache, "huggingface")
	}
	return filepath.Join(home, "token")
}

// Token finds the access token as huggingface_hub does: HF_TOKEN, else the
// token file. source names where it came from, for messages (never the
// token itself).
func Token() (token, source string, err error) {
	if t := strings.TrimSpace(os.Getenv("HF_TOKEN")); t != "" {
		return t, "HF_TOKEN", nil
	}
	p := TokenFile()
	b, err := os.ReadFile(p)
	if err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), "the token file " + p, nil
	}
	return "", "", fmt.Errorf("no Hugging Face token: set HF_TOKEN to a token with write access (%s/settings/tokens), or log in with `hf auth login`, which writes %s", Endpoint(), p)
}

// Options configure Publish.
type Options struct {
	// Endpoint is the Hub's address (default Endpoint()).
	Endpoint string
	// Token and TokenSource (where it came from, for messages); empty:
	// found with Token().
	Token, TokenSource string
	Private            bool
	// Revision is the branch to commit to (default main; created from
	// main when missing).
	Revision string
	// Message is the commit's summary (default names the files).
	Message     string
	Description string
	// Files are the folder's paths to publish (slash-separated); nil:
	// every file publish.Files lists.
	Files []string
	// HTTP is the client (default: one with no overall timeout, since an
	// upload may take long; each request ends with ctx).
	HTTP *http.Client
	// Progress, when set, gets the bytes sent so far and the total to send.
	Progress func(done, total int64)
	// Log gets one line per retry (may be nil).
	Log io.Writer
	// Retries of one request on 429, 5xx or a dropped connection
	// (default 5); Backoff is the first wait (default 1 s, doubled each
	// time, at most 30 s) when the Hub gives no Retry-After.
	Retries int
	Backoff time.Duration
}

// File is what became of one file.
type File struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	LFS  bool   `json:"lfs"`
	// OID is the sha256 of an LFS file, the git blob sha1 of another.
	OID string `json:"oid"`
	// Uploaded is false when the repo already held this content.
	Uploaded bool `json:"uploaded"`
}

// Result is what Publish did.
type Result struct {
	Repo     string `json:"repo"` // namespace/name
	Revision string `json:"revision"`
	// Commit is the revision's head after publishing: the new commit, or
	// the head that already held every file.
	Commit    string `json:"commit"`
	CommitURL string `json:"commit_url,omitempty"`
	Committed bool   `json:"committed"`
	Files     []File `json:"files"`
	// Uploaded counts the files sent; LFSUploaded the LFS objects the Hub
	// did not have yet; Bytes the bytes sent for them.
	Uploaded    int   `json:"uploaded"`
	LFSUploaded int   `json:"lfs_uploaded"`
	Bytes       int64 `json:"bytes_sent"`
}

// URL is the dataset's page.
func (r Result) URL(endpoint string) string { return endpoint + "/datasets/" + r.Repo }

type client struct {
	Options
	repo string // namespace/name
}

// Publish sends dir's files to the dataset repo repoID (namespace/name),
// creating it when missing.
func Publish(ctx context.Context, repoID, dir string, opts Options) (Result, error) {
	ns, name, ok := strings.Cut(repoID, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return Result{}, fmt.Errorf("%q is not a repo id: want NAMESPACE/NAME (your user or organisation, then the dataset's name)", repoID)
	}
	if opts.Endpoint == "" {
		opts.Endpoint = Endpoint()
	}
	opts.Endpoint = strings.TrimRight(opts.Endpoint, "/")
	if opts.Token == "" {
		t, src, err := Token()
		if err != nil {
			return Result{}, err
		}
		opts.Token, opts.TokenSource = t, src
	}
	if opts.Revision == "" {
		opts.Revision = "main"
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{}
	}
	if opts.Retries == 0 {
		opts.Retries = 5
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Second
	}
	c := &client{Options: opts, repo: repoID}
	res := Result{Repo: repoID, Revision: opts.Revision}

	files := opts.Files
	if files == nil {
		var err error
		if files, err = publish.Files(dir); err != nil {
			return res, err
		}
	}
	if len(files) == 0 {
		return res, fmt.Errorf("%s: no files to publish", dir)
	}
	user, err := c.whoami(ctx)
	if err != nil {
		return res, err
	}
	if err := c.createRepo(ctx, ns, name, user); err != nil {
		return res, err
	}
	if opts.Revision != "main" {
		if err := c.ensureBranch(ctx); err != nil {
			return res, err
		}
	}
	locals := make([]local, len(files))
	for i, f := range files {
		if locals[i], err = hashFile(dir, f); err != nil {
			return res, err
		}
	}
	plan, parent, err := c.preupload(ctx, locals)
	if err != nil {
		return res, err
	}
	res.Files = plan
	if !anyChanged(plan) {
		res.Commit = parent
		return res, nil
	}
	var total int64
	for _, f := range plan {
		if f.Uploaded {
			total += f.Size
		}
	}
	var done atomic.Int64
	progress := func(n int64) {
		d := done.Add(n)
		if opts.Progress != nil {
			opts.Progress(d, total)
		}
	}
	progress(0)
	n, sent, err := c.uploadLFS(ctx, dir, plan, progress)
	res.LFSUploaded, res.Bytes = n, sent
	if err != nil {
		return res, err
	}
	oid, url, err := c.commit(ctx, dir, locals, plan, parent, progress)
	if err != nil {
		return res, err
	}
	for _, f := range plan {
		if f.Uploaded {
			res.Uploaded++
			if !f.LFS {
				res.Bytes += f.Size
			}
		}
	}
	res.Commit, res.CommitURL, res.Committed = oid, url, oid != parent
	return res, nil
}

func anyChanged(plan []File) bool {
	for _, f := range plan {
		if f.Uploaded {
			return true
		}
	}
	return false
}

type local struct {
	path   string
	size   int64
	sha256 string
	sha1   string // git blob sha1
	sample []byte // the first 512 bytes
}

func hashFile(dir, rel string) (local, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	f, err := os.Open(p)
	if err != nil {
		return local{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return local{}, err
	}
	h256, h1 := sha256.New(), sha1.New()
	fmt.Fprintf(h1, "blob %d\x00", st.Size())
	var sample bytes.Buffer
	n, err := io.Copy(io.MultiWriter(h256, h1, &limitWriter{&sample, 512}), f)
	if err != nil {
		return local{}, fmt.Errorf("%s: %w", p, err)
	}
	if n != st.Size() {
		return local{}, fmt.Errorf("%s changed while it was read", p)
	}
	return local{path: rel, size: n, sha256: hex.EncodeToString(h256.Sum(nil)), sha1: hex.EncodeToString(h1.Sum(nil)), sample: sample.Bytes()}, nil
}

type limitWriter struct {
	b *bytes.Buffer
	n int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if room := w.n - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *client) whoami(ctx context.Context) (string, error) {
	var who struct {
		Name string `json:"name"`
		Auth struct {
			AccessToken struct {
				Role string `json:"role"`
			} `json:"accessToken"`
		} `json:"auth"`
	}
	if _, err := c.getJSON(ctx, "whoami", jsonRequest("GET", c.Endpoint+"/api/whoami-v2", nil), is2xx, &who); err != nil {
		return "", err
	}
	if who.Auth.AccessToken.Role == "read" {
		return "", fmt.Errorf("the token from %s is a read-only token of %s: make one with write access at %s/settings/tokens", c.TokenSource, who.Name, c.Endpoint)
	}
	return who.Name, nil
}

func (c *client) createRepo(ctx context.Context, ns, name, user string) error {
	body := map[string]any{"name": name, "organization": ns, "type": "dataset", "private": c.Private}
	status, err := c.getJSON(ctx, "create repo", jsonRequest("POST", c.Endpoint+"/api/repos/create", body),
		func(s int) bool { return is2xx(s) || s == http.StatusConflict }, nil)
	if err != nil && status == http.StatusForbidden && ns != user {
		return fmt.Errorf("%w (the token belongs to %s, not %s)", err, user, ns)
	}
	return err
}

func (c *client) repoAPI(action string) string {
	u := c.Endpoint + "/api/datasets/" + c.repo
	if action != "" {
		u += "/" + action + "/" + url.PathEscape(c.Revision)
	}
	return u
}

func (c *client) ensureBranch(ctx context.Context) error {
	status, err := c.getJSON(ctx, "revision", jsonRequest("GET", c.repoAPI("revision"), nil), func(s int) bool { return is2xx(s) || s == 404 }, nil)
	if err != nil || status != 404 {
		return err
	}
	_, err = c.getJSON(ctx, "create branch "+c.Revision, jsonRequest("POST", c.repoAPI("branch"), map[string]any{}),
		func(s int) bool { return is2xx(s) || s == http.StatusConflict }, nil)
	return err
}
