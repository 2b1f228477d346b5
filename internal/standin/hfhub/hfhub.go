// Package hfhub is a small stand-in for the Hugging Face Hub's HTTP API,
// built from the endpoints the official clients (huggingface_hub,
// @huggingface/hub) call to push files: whoami-v2, repos/create, the
// repo's info and tree, preupload, the Git LFS batch API with basic
// transfer (and its verify action), the NDJSON commit, branch creation and
// resolve (downloads, with ranges). It keeps everything in memory, serves
// on loopback only, and lets tests inject faults. A test drives the
// official npm client against it so it cannot drift from the service.
package hfhub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// LFSThreshold is the size from which the Hub stores a file in LFS
// whatever its name (10 MB, as huggingface_hub documents).
const LFSThreshold = 10 << 20

// Server is a running stand-in.
type Server struct {
	URL string
	ts  *httptest.Server

	// Fault, when set, sees every request first; returning true means it
	// answered (or dropped) the request itself.
	Fault func(w http.ResponseWriter, r *http.Request) bool

	mu      sync.Mutex
	tokens  map[string]string // token -> user name
	repos   map[string]*repo  // "datasets/ns/name" -> repo
	lfs     map[string][]byte // sha256 hex -> content
	puts    int               // LFS PUTs completed
	commits int               // commits made, all repos
}

type file struct {
	content []byte
	lfs     bool
}

type repo struct {
	private  bool
	branches map[string][]commit // newest last
}

func (r *repo) head(branch string) (commit, bool) {
	cs, ok := r.branches[branch]
	if !ok || len(cs) == 0 {
		return commit{}, ok
	}
	return cs[len(cs)-1], true
}

// Start serves a stand-in on a loopback port; tokens maps each accepted
// token to its user's name. Close stops it.
func Start(tokens map[string]string) *Server {
	s := &Server{tokens: tokens, repos: map[string]*repo{}, lfs: map[string][]byte{}}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

// LFSUploads counts the LFS objects uploaded so far.
func (s *Server) LFSUploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

// Commits counts the commits made so far (every repo).
func (s *Server) Commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// File returns the content of path at the head of branch in repo
// ("datasets/ns/name"), and whether it is stored in LFS.
func (s *Server) File(repoID, branch, p string) (content []byte, lfs, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoID]
	if r == nil {
		return nil, false, false
	}
	c, _ := r.head(branch)
	f, ok := c.files[p]
	return f.content, f.lfs, ok
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func (s *Server) user(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	name, ok := s.tokens[tok]
	return name, ok
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.Fault != nil && s.Fault(w, r) {
		return
	}
	s.Serve(w, r)
}

// Serve answers r as the Hub would, without Fault: a fault that lets a
// request take effect and then loses the answer calls it.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/api/whoami-v2" && r.Method == http.MethodGet:
		s.whoami(w, r)
		return
	case p == "/api/repos/create" && r.Method == http.MethodPost:
		s.createRepo(w, r)
		return
	case strings.HasPrefix(p, "/lfs/") && r.Method == http.MethodPut:
		s.lfsPut(w, r, strings.TrimPrefix(p, "/lfs/"))
		return
	case p == "/lfs-verify" && r.Method == http.MethodPost:
		s.lfsVerify(w, r)
		return
	}
	// /api/{type}s/{ns}/{name}/{action}/{rev}[/path]
	if rest, ok := strings.CutPrefix(p, "/api/"); ok {
		parts := strings.SplitN(rest, "/", 5)
		if len(parts) < 3 {
			fail(w, http.StatusNotFound, "Not Found")
			return
		}
		id := parts[0] + "/" + parts[1] + "/" + parts[2]
		action, tail := "", ""
		if len(parts) > 3 {
			action = parts[3]
		}
		if len(parts) > 4 {
			tail = parts[4]
		}
		s.repoAPI(w, r, id, action, tail)
		return
	}
	// /{type}s/{ns}/{name}.git/info/lfs/objects/batch, /{type}s/{ns}/{name}/resolve/{rev}/{path}
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 6)
	if len(parts) >= 3 && strings.HasSuffix(parts[2], ".git") && strings.HasSuffix(p, "/info/lfs/objects/batch") {
		s.lfsBatch(w, r, parts[0]+"/"+parts[1]+"/"+strings.TrimSuffix(parts[2], ".git"))
		return
	}
	if len(parts) == 6 && parts[3] == "resolve" {
		s.resolve(w, r, parts[0]+"/"+parts[1]+"/"+parts[2], parts[4], parts[5])
		return
	}
	fail(w, http.StatusNotFound, "Not Found")
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	name, ok := s.user(r)
	if !ok {
		fail(w, http.StatusUnauthorized, "Invalid credentials in Authorization header")
		return
	}
	writeJSON(w, 200, map[string]any{
		"type": "user", "id": "u-" + name, "name": name, "fullname": name, "orgs": []any{},
		"auth": map[string]any{"type": "access_token", "accessToken": map[string]any{"displayName": "standin", "role": "write", "createdAt": "2026-01-01T00:00:00.000Z"}},
	})
}

func (s *Server) createRepo(w http.ResponseWriter, r *http.Request) {
	user, ok := s.user(r)
	if !ok {
		fail(w, http.StatusUnauthorized, "Invalid credentials in Authorization header")
		return
	}
	var req struct {
		Name         string `json:"name"`
		Organization string `json:"organization"`
		Type         string `json:"type"`
		Private      bool   `json:"private"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Name == "" {
		fail(w, http.StatusBadRequest, "Invalid request body")
		return
	}
	ns := req.Organization
	if ns == "" {
		ns = user
	}
	if ns != user {
		fail(w, http.StatusForbidden, "You don't have the rights to create a repo under the namespace "+ns)
		return
	}
	typ := req.Type
	if typ == "" {
		typ = "model"
	}
	id := typ + "s/" + ns + "/" + req.Name
	url := s.URL + "/" + id
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[id]; ok {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "You already created this " + typ + " repo", "url": url})
		return
	}
	rp := &repo{private: req.Private, branches: map[string][]commit{}}
	rp.branches["main"] = []commit{{oid: s.newOID(id), files: map[string]file{
		".gitattributes": {content: []byte(defaultGitAttributes)},
	}}}
	s.repos[id] = rp
	writeJSON(w, 200, map[string]string{"url": url, "name": ns + "/" + req.Name, "id": "r-" + req.Name})
}

// defaultGitAttributes is the start of what the Hub writes in a new repo.
const defaultGitAttributes = `*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
`

func (s *Server) newOID(seed string) string {
	h := sha1.Sum(fmt.Appendf(nil, "%s %d %d", seed, s.commits, time.Now().UnixNano()))
	return hex.EncodeToString(h[:])
}

// lfsPatterns are the path patterns .gitattributes sends to LFS.
func lfsPatterns(attrs []byte) []string {
	var out []string
	for _, line := range strings.Split(string(attrs), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && slices.Contains(f[1:], "filter=lfs") {
			out = append(out, f[0])
		}
	}
	return out
}

func isLFS(patterns []string, p string, size int64, sample []byte) bool {
	if size >= LFSThreshold || bytes.IndexByte(sample, 0) >= 0 {
		return true
	}
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, path.Base(p)); ok {
			return true
		}
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}

func gitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// repoAPI answers /api/{type}s/{ns}/{name}/{action}/{tail}.
func (s *Server) repoAPI(w http.ResponseWriter, r *http.Request, id, action, tail string) {
	user, authed := s.user(r)
	if r.Header.Get("Authorization") != "" && !authed {
		fail(w, http.StatusUnauthorized, "Invalid credentials in Authorization header")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[id]
	if rp == nil || (rp.private && !strings.HasPrefix(id, strings.SplitN(id, "/", 2)[0]+"/"+user+"/")) {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		fail(w, http.StatusNotFound, "Repository not found")
		return
	}
	owner := authed && strings.HasPrefix(id, strings.SplitN(id, "/", 2)[0]+"/"+user+"/")
	rev, rest, _ := strings.Cut(tail, "/")
	switch {
	case action == "" && r.Method == http.MethodGet, action == "revision" && r.Method == http.MethodGet:
		if rev == "" {
			rev = "main"
		}
		c, ok := rp.head(rev)
		if !ok {
			w.Header().Set("X-Error-Code", "RevisionNotFound")
			fail(w, http.StatusNotFound, "Revision Not Found for url")
			return
		}
		var sib []map[string]string
		for _, p := range slices.Sorted(maps.Keys(c.files)) {
			sib = append(sib, map[string]string{"rfilename": p})
		}
		name := strings.SplitN(id, "/", 2)[1]
		writeJSON(w, 200, map[string]any{"id": name, "_id": "r-" + name, "sha": c.oid, "private": rp.private, "siblings": sib})
	case action == "tree" && r.Method == http.MethodGet:
		c, ok := rp.head(rev)
		if !ok {
			w.Header().Set("X-Error-Code", "RevisionNotFound")
			fail(w, http.StatusNotFound, "Revision Not Found for url")
			return
		}
		var out []map[string]any
		for _, p := range slices.Sorted(maps.Keys(c.files)) {
			if rest != "" && !strings.HasPrefix(p, rest+"/") {
				continue
			}
			f := c.files[p]
			e := map[string]any{"type": "file", "path": p, "size": len(f.content), "oid": gitBlobSHA1(f.content)}
			if f.lfs {
				ptr := lfsPointer(f.content)
				e["oid"] = gitBlobSHA1(ptr)
				e["lfs"] = map[string]any{"oid": sha256hex(f.content), "size": len(f.content), "pointerSize": len(ptr)}
			}
			out = append(out, e)
		}
		if out == nil {
			out = []map[string]any{}
		}
		writeJSON(w, 200, out)
	case action == "preupload" && r.Method == http.MethodPost:
		if !owner {
			fail(w, http.StatusForbidden, "You don't have write access to "+id)
			return
		}
		s.preupload(w, r, rp, rev)
	case action == "commit" && r.Method == http.MethodPost:
		if !owner {
			fail(w, http.StatusForbidden, "You don't have write access to "+id)
			return
		}
		s.commit(w, r, id, rp, rev)
	case action == "branch" && r.Method == http.MethodPost:
		if !owner {
			fail(w, http.StatusForbidden, "You don't have write access to "+id)
			return
		}
		if _, ok := rp.branches[rev]; ok {
			fail(w, http.StatusConflict, "Reference already exists")
			return
		}
		c, _ := rp.head("main")
		rp.branches[rev] = []commit{c}
		writeJSON(w, 200, map[string]any{})
	default:
		fail(w, http.StatusNotFound, "Not Found")
	}
}

func lfsPointer(content []byte) []byte {
	return fmt.Appendf(nil, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", sha256hex(content), len(content))
}
