// Package hf publishes a folder to a Hugging Face Hub dataset repo through
// the Hub's HTTP API as the official clients (huggingface_hub,
// @huggingface/hub) use it: whoami-v2, repos/create, preupload, the Git
// LFS batch API with basic transfer for what the Hub stores in LFS
// (sha256 oids, content streamed from disk), and one NDJSON commit. Files
// the repo already holds with the same content are not sent, and nothing
// changed means no commit.
package hf

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
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

// apiError is a Hub answer that is not a success.
type apiError struct {
	Status  int
	Message string // the Hub's "error" field, or the body
	Op      string
	Hint    string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// StatusCode is the HTTP status of a Hub error in err's chain, or 0.
func StatusCode(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func (c *client) newError(op string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(b))
	var j struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &j) == nil && (j.Error != "" || j.Message != "") {
		msg = j.Error + j.Message
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	e := &apiError{Status: resp.StatusCode, Message: msg, Op: op}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		e.Hint = fmt.Sprintf("the token from %s was refused: it is wrong, expired or revoked; make one with write access at %s/settings/tokens and set HF_TOKEN (or run `hf auth login`)", c.TokenSource, c.Endpoint)
	case http.StatusForbidden:
		e.Hint = fmt.Sprintf("the token from %s may not write to datasets/%s: give it write access to that namespace (a fine-grained token needs repo write permission) or publish under your own user", c.TokenSource, c.repo)
	case http.StatusNotFound:
		e.Hint = fmt.Sprintf("datasets/%s or its revision %q was not found: check NAMESPACE/NAME and that the token from %s can see it", c.repo, c.Revision, c.TokenSource)
	case http.StatusConflict, http.StatusPreconditionFailed:
		e.Hint = "the repo changed while publishing (another writer): run the command again"
	case http.StatusTooManyRequests:
		e.Hint = fmt.Sprintf("the Hub is rate-limiting this token after %d retries: wait a few minutes and run again", c.Retries)
	default:
		if resp.StatusCode >= 500 {
			e.Hint = fmt.Sprintf("the Hub failed %d times in a row: try again later", c.Retries+1)
		}
	}
	return e
}

// do sends the request build makes, again on a dropped connection, 429
// (after Retry-After) and 5xx (after a doubling backoff), and returns the
// last answer; the caller closes its body.
func (c *client) do(ctx context.Context, op string, build func() (*http.Request, error)) (*http.Response, error) {
	wait := c.Backoff
	for attempt := 0; ; attempt++ {
		req, err := build()
		if err != nil {
			return nil, err
		}
		req = req.WithContext(ctx)
		if req.Header.Get("Authorization") == "" && strings.HasPrefix(req.URL.String(), c.Endpoint+"/") {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		req.Header.Set("User-Agent", "tuneline")
		resp, err := c.HTTP.Do(req)
		var why string
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			why = "connection failed: " + scrub(err.Error())
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			why = resp.Status
		default:
			return resp, nil
		}
		if attempt >= c.Retries {
			if err != nil {
				return nil, fmt.Errorf("%s: %s (after %d retries)", op, why, c.Retries)
			}
			return resp, nil
		}
		d := wait
		if resp != nil {
			if ra := retryAfter(resp.Header.Get("Retry-After")); ra > 0 {
				d = ra
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if c.Log != nil {
			fmt.Fprintf(c.Log, "hf: %s: %s; retrying in %s (%d of %d)\n", op, why, d.Round(time.Millisecond), attempt+1, c.Retries)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// scrub keeps URLs' query strings (signed upload URLs carry credentials)
// out of messages.
func scrub(s string) string {
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, `"':,`)
		if u, err := url.Parse(f); err == nil && u.RawQuery != "" && u.Host != "" {
			s = strings.ReplaceAll(s, f, u.Scheme+"://"+u.Host+u.Path)
		}
	}
	return s
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

func jsonRequest(method, u string, body any) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		var r io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return nil, err
			}
			r = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, u, r)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}
}

func (c *client) getJSON(ctx context.Context, op string, build func() (*http.Request, error), ok func(int) bool, v any) (int, error) {
	resp, err := c.do(ctx, op, build)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if !ok(resp.StatusCode) {
		return resp.StatusCode, c.newError(op, resp)
	}
	if v != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: the Hub's answer: %w", op, err)
		}
	}
	return resp.StatusCode, nil
}

func is2xx(s int) bool { return s/100 == 2 }

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

// preupload asks the Hub how each file is stored (LFS or not) and what it
// holds at the revision's head, and returns the plan: Uploaded set for
// the files whose content differs. parent is the head it saw.
func (c *client) preupload(ctx context.Context, locals []local) ([]File, string, error) {
	plan := make([]File, len(locals))
	var parent string
	for start := 0; start < len(locals); start += 100 {
		batch := locals[start:min(start+100, len(locals))]
		type pf struct {
			Path   string `json:"path"`
			Size   int64  `json:"size"`
			Sample string `json:"sample"`
		}
		var req struct {
			Files []pf `json:"files"`
		}
		for _, l := range batch {
			req.Files = append(req.Files, pf{l.path, l.size, base64.StdEncoding.EncodeToString(l.sample)})
		}
		var ans struct {
			Files []struct {
				Path         string `json:"path"`
				UploadMode   string `json:"uploadMode"`
				ShouldIgnore bool   `json:"shouldIgnore"`
				OID          string `json:"oid"`
			} `json:"files"`
			CommitOID string `json:"commitOid"`
		}
		if _, err := c.getJSON(ctx, "preupload", jsonRequest("POST", c.repoAPI("preupload"), req), is2xx, &ans); err != nil {
			return nil, "", err
		}
		if parent == "" {
			parent = ans.CommitOID
		}
		byPath := map[string]int{}
		for i, f := range ans.Files {
			byPath[f.Path] = i
		}
		for i, l := range batch {
			j, ok := byPath[l.path]
			if !ok {
				return nil, "", fmt.Errorf("preupload: the Hub's answer has no entry for %s", l.path)
			}
			a := ans.Files[j]
			f := File{Path: l.path, Size: l.size, LFS: a.UploadMode == "lfs", OID: l.sha1}
			if f.LFS {
				f.OID = l.sha256
			}
			f.Uploaded = !a.ShouldIgnore && a.OID != f.OID
			plan[start+i] = f
		}
	}
	if parent == "" {
		var info struct {
			SHA string `json:"sha"`
		}
		if _, err := c.getJSON(ctx, "revision", jsonRequest("GET", c.repoAPI("revision"), nil), is2xx, &info); err != nil {
			return nil, "", err
		}
		parent = info.SHA
	}
	return plan, parent, nil
}

type lfsAction struct {
	Href   string            `json:"href"`
	Header map[string]string `json:"header"`
}

// uploadLFS sends the changed LFS files the Hub does not have yet
// (basic transfer: one PUT of the whole file, streamed from disk, then the
// verify action when the Hub asks for it).
func (c *client) uploadLFS(ctx context.Context, dir string, plan []File, progress func(int64)) (int, int64, error) {
	type obj struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	}
	var objs []obj
	byOID := map[string]File{}
	for _, f := range plan {
		if f.Uploaded && f.LFS {
			if _, dup := byOID[f.OID]; !dup {
				objs = append(objs, obj{f.OID, f.Size})
			}
			byOID[f.OID] = f
		}
	}
	var uploaded int
	var sent int64
	for start := 0; start < len(objs); start += 100 {
		batch := objs[start:min(start+100, len(objs))]
		body := map[string]any{"operation": "upload", "transfers": []string{"basic"}, "hash_algo": "sha_256",
			"ref": map[string]string{"name": "refs/heads/" + c.Revision}, "objects": batch}
		build := func() (*http.Request, error) {
			b, _ := json.Marshal(body)
			req, err := http.NewRequest("POST", c.Endpoint+"/datasets/"+c.repo+".git/info/lfs/objects/batch", bytes.NewReader(b))
			if err == nil {
				req.Header.Set("Accept", "application/vnd.git-lfs+json")
				req.Header.Set("Content-Type", "application/vnd.git-lfs+json")
			}
			return req, err
		}
		var ans struct {
			Transfer string `json:"transfer"`
			Objects  []struct {
				OID     string `json:"oid"`
				Size    int64  `json:"size"`
				Actions struct {
					Upload *lfsAction `json:"upload"`
					Verify *lfsAction `json:"verify"`
				} `json:"actions"`
				Error *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			} `json:"objects"`
		}
		if _, err := c.getJSON(ctx, "LFS batch", build, is2xx, &ans); err != nil {
			return uploaded, sent, err
		}
		if ans.Transfer != "" && ans.Transfer != "basic" {
			return uploaded, sent, fmt.Errorf("LFS batch: the Hub chose transfer %q; tuneline speaks basic", ans.Transfer)
		}
		for _, o := range ans.Objects {
			f, ok := byOID[o.OID]
			if !ok {
				return uploaded, sent, fmt.Errorf("LFS batch: the Hub answered for an object not asked for (%s)", o.OID)
			}
			if o.Error != nil {
				return uploaded, sent, fmt.Errorf("LFS batch: %s: %d %s", f.Path, o.Error.Code, o.Error.Message)
			}
			if o.Actions.Upload == nil {
				progress(f.Size) // the Hub has it already
				continue
			}
			n, err := c.put(ctx, dir, f, o.Actions.Upload, progress)
			sent += n
			if err != nil {
				return uploaded, sent, err
			}
			uploaded++
			if v := o.Actions.Verify; v != nil {
				b, _ := json.Marshal(obj{f.OID, f.Size})
				build := func() (*http.Request, error) {
					req, err := http.NewRequest("POST", v.Href, bytes.NewReader(b))
					if err != nil {
						return nil, err
					}
					for k, val := range v.Header {
						req.Header.Set(k, val)
					}
					req.Header.Set("Content-Type", "application/vnd.git-lfs+json")
					return req, nil
				}
				if _, err := c.getJSON(ctx, "LFS verify "+f.Path, build, is2xx, nil); err != nil {
					return uploaded, sent, err
				}
			}
		}
	}
	return uploaded, sent, nil
}

// put streams one file to the upload action; a retry starts the file
// over (basic transfer has no offsets), taking back the progress it made.
func (c *client) put(ctx context.Context, dir string, f File, a *lfsAction, progress func(int64)) (int64, error) {
	var counted int64
	build := func() (*http.Request, error) {
		progress(-counted)
		counted = 0
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, err
		}
		body := &countingReader{r: bufio.NewReaderSize(fh, 256<<10), c: fh, add: func(n int64) { counted += n; progress(n) }}
		req, err := http.NewRequest("PUT", a.Href, body)
		if err != nil {
			fh.Close()
			return nil, err
		}
		req.ContentLength = f.Size
		for k, v := range a.Header {
			req.Header.Set(k, v)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		return req, nil
	}
	resp, err := c.do(ctx, "upload "+f.Path, build)
	if err != nil {
		return counted, err
	}
	defer resp.Body.Close()
	if !is2xx(resp.StatusCode) {
		return counted, c.newError("upload "+f.Path, resp)
	}
	return f.Size, nil
}

type countingReader struct {
	r   io.Reader
	c   io.Closer
	add func(int64)
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.add(int64(n))
	return n, err
}

func (r *countingReader) Close() error { return r.c.Close() }

// commit makes the one NDJSON commit of the changed files on top of
// parent. A failed or dropped commit is checked before it is sent again:
// when the Hub already holds every file (the commit landed and only the
// answer was lost), nothing is sent twice.
func (c *client) commit(ctx context.Context, dir string, locals []local, plan []File, parent string, progress func(int64)) (string, string, error) {
	msg := c.Message
	if msg == "" {
		msg = "Upload dataset with tuneline"
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.Encode(map[string]any{"key": "header", "value": map[string]any{"summary": msg, "description": c.Description, "parentCommit": parent}})
	var regular int64
	for _, f := range plan {
		if !f.Uploaded {
			continue
		}
		if f.LFS {
			enc.Encode(map[string]any{"key": "lfsFile", "value": map[string]any{"path": f.Path, "algo": "sha256", "oid": f.OID, "size": f.Size}})
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return "", "", err
		}
		regular += int64(len(b))
		enc.Encode(map[string]any{"key": "file", "value": map[string]any{"path": f.Path, "encoding": "base64", "content": base64.StdEncoding.EncodeToString(b)}})
	}
	payload := body.Bytes()
	u := c.repoAPI("commit")
	var ans struct {
		CommitOID string `json:"commitOid"`
		CommitURL string `json:"commitUrl"`
	}
	for attempt := 0; ; attempt++ {
		build := func() (*http.Request, error) {
			req, err := http.NewRequest("POST", u, bytes.NewReader(payload))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-ndjson")
			}
			return req, err
		}
		// One attempt per round: what follows a failure is decided here.
		saved := c.Retries
		c.Retries = 0
		status, err := c.getJSON(ctx, "commit", build, is2xx, &ans)
		c.Retries = saved
		if err == nil {
			progress(regular)
			return ans.CommitOID, ans.CommitURL, nil
		}
		retryable := status == 0 || status == http.StatusTooManyRequests || status >= 500 || status == http.StatusPreconditionFailed
		if !retryable || attempt >= c.Retries || ctx.Err() != nil {
			return "", "", err
		}
		// Did it land? Ask the Hub what it holds now.
		now, head, perr := c.preupload(ctx, locals)
		if perr == nil && !anyChanged(now) {
			return head, "", nil
		}
		if perr == nil && head != parent {
			return "", "", fmt.Errorf("%w (and the branch moved to %s meanwhile: run again)", err, head)
		}
		d := min(c.Backoff<<attempt, 30*time.Second)
		if c.Log != nil {
			fmt.Fprintf(c.Log, "hf: commit: %v; retrying in %s (%d of %d)\n", err, d, attempt+1, c.Retries)
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(d):
		}
	}
}
