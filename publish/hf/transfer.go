package hf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

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
