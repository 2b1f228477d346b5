package hfhub

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

type commit struct {
	oid   string
	files map[string]file
}

func (s *Server) preupload(w http.ResponseWriter, r *http.Request, rp *repo, rev string) {
	c, ok := rp.head(rev)
	if !ok {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		fail(w, http.StatusNotFound, "Revision Not Found for url")
		return
	}
	var req struct {
		Files []struct {
			Path   string `json:"path"`
			Size   int64  `json:"size"`
			Sample string `json:"sample"`
		} `json:"files"`
		GitAttributes string `json:"gitAttributes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "Invalid request body: "+err.Error())
		return
	}
	attrs := c.files[".gitattributes"].content
	if req.GitAttributes != "" {
		attrs = []byte(req.GitAttributes)
	}
	pats := lfsPatterns(attrs)
	var out []map[string]any
	for _, f := range req.Files {
		sample, err := base64.StdEncoding.DecodeString(f.Sample)
		if err != nil || len(sample) > 512 {
			fail(w, http.StatusBadRequest, "Invalid sample for "+f.Path)
			return
		}
		mode := "regular"
		if isLFS(pats, f.Path, f.Size, sample) {
			mode = "lfs"
		}
		e := map[string]any{"path": f.Path, "uploadMode": mode, "shouldIgnore": false}
		if old, ok := c.files[f.Path]; ok {
			if old.lfs {
				e["oid"] = sha256hex(old.content)
			} else {
				e["oid"] = gitBlobSHA1(old.content)
			}
		}
		out = append(out, e)
	}
	writeJSON(w, 200, map[string]any{"files": out, "commitOid": c.oid})
}

func (s *Server) lfsBatch(w http.ResponseWriter, r *http.Request, id string) {
	user, ok := s.user(r)
	if !ok {
		fail(w, http.StatusUnauthorized, "Invalid credentials in Authorization header")
		return
	}
	if !strings.HasPrefix(id, strings.SplitN(id, "/", 2)[0]+"/"+user+"/") {
		fail(w, http.StatusForbidden, "You don't have write access to "+id)
		return
	}
	var req struct {
		Operation string   `json:"operation"`
		Transfers []string `json:"transfers"`
		HashAlgo  string   `json:"hash_algo"`
		Objects   []struct {
			OID  string `json:"oid"`
			Size int64  `json:"size"`
		} `json:"objects"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Operation != "upload" {
		fail(w, http.StatusBadRequest, "Invalid LFS batch request")
		return
	}
	if req.HashAlgo != "" && req.HashAlgo != "sha_256" && req.HashAlgo != "sha256" {
		fail(w, http.StatusBadRequest, "Unsupported hash algorithm "+req.HashAlgo)
		return
	}
	if len(req.Transfers) > 0 && !slices.Contains(req.Transfers, "basic") {
		fail(w, http.StatusBadRequest, "Only the basic transfer is supported")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var objs []map[string]any
	for _, o := range req.Objects {
		e := map[string]any{"oid": o.OID, "size": o.Size, "authenticated": true}
		if len(o.OID) != 64 {
			e["error"] = map[string]any{"code": 422, "message": "Invalid oid"}
		} else if _, ok := s.lfs[o.OID]; !ok {
			e["actions"] = map[string]any{
				"upload": map[string]any{"href": fmt.Sprintf("%s/lfs/%s?size=%d", s.URL, o.OID, o.Size), "header": map[string]string{}},
				"verify": map[string]any{"href": s.URL + "/lfs-verify", "header": map[string]string{}},
			}
		}
		objs = append(objs, e)
	}
	w.Header().Set("Content-Type", "application/vnd.git-lfs+json")
	json.NewEncoder(w).Encode(map[string]any{"transfer": "basic", "objects": objs})
}

func (s *Server) lfsPut(w http.ResponseWriter, r *http.Request, oid string) {
	h := sha256.New()
	var buf bytes.Buffer
	if _, err := io.Copy(io.MultiWriter(h, &buf), r.Body); err != nil {
		return // connection dropped: nothing stored
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != oid {
		fail(w, http.StatusBadRequest, "sha256 of the content is "+got+", not "+oid)
		return
	}
	if want := r.URL.Query().Get("size"); want != "" && want != fmt.Sprint(buf.Len()) {
		fail(w, http.StatusBadRequest, "size is "+fmt.Sprint(buf.Len())+", not "+want)
		return
	}
	s.mu.Lock()
	s.lfs[oid] = buf.Bytes()
	s.puts++
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) lfsVerify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OID  string `json:"oid"`
		Size int    `json:"size"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	b, ok := s.lfs[req.OID]
	s.mu.Unlock()
	if !ok || len(b) != req.Size {
		fail(w, http.StatusNotFound, "Object not found")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request, id string, rp *repo, rev string) {
	head, ok := rp.head(rev)
	if !ok {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		fail(w, http.StatusNotFound, "Revision Not Found for url")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
		fail(w, http.StatusBadRequest, "Content-Type must be application/x-ndjson, not "+ct)
		return
	}
	files := make(map[string]file, len(head.files))
	for k, v := range head.files {
		files[k] = v
	}
	var summary string
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 1<<30)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var line struct {
			Key   string `json:"key"`
			Value struct {
				Summary      string `json:"summary"`
				ParentCommit string `json:"parentCommit"`
				Path         string `json:"path"`
				Content      string `json:"content"`
				Encoding     string `json:"encoding"`
				Algo         string `json:"algo"`
				OID          string `json:"oid"`
				Size         int    `json:"size"`
			} `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			fail(w, http.StatusBadRequest, fmt.Sprintf("line %d: %v", n+1, err))
			return
		}
		n++
		v := line.Value
		switch line.Key {
		case "header":
			if n != 1 {
				fail(w, http.StatusBadRequest, "the header must be the first line")
				return
			}
			summary = v.Summary
			if v.ParentCommit != "" && v.ParentCommit != head.oid {
				fail(w, http.StatusPreconditionFailed, "A commit has happened since. Please refresh and try again.")
				return
			}
		case "file":
			if v.Encoding != "base64" {
				fail(w, http.StatusBadRequest, "unsupported encoding "+v.Encoding)
				return
			}
			b, err := base64.StdEncoding.DecodeString(v.Content)
			if err != nil {
				fail(w, http.StatusBadRequest, "bad base64 for "+v.Path)
				return
			}
			files[v.Path] = file{content: b}
		case "lfsFile":
			b, ok := s.lfs[v.OID]
			if !ok || len(b) != v.Size {
				fail(w, http.StatusUnprocessableEntity, "LFS file "+v.Path+": object "+v.OID+" was not uploaded")
				return
			}
			files[v.Path] = file{content: b, lfs: true}
		case "deletedFile":
			delete(files, v.Path)
		default:
			fail(w, http.StatusBadRequest, "unknown key "+line.Key)
			return
		}
	}
	if err := sc.Err(); err != nil {
		return // dropped
	}
	if summary == "" {
		fail(w, http.StatusBadRequest, "missing commit summary in the header line")
		return
	}
	s.commits++
	c := commit{oid: s.newOID(id), files: files}
	rp.branches[rev] = append(rp.branches[rev], c)
	url := s.URL + "/" + id + "/commit/" + c.oid
	writeJSON(w, 200, map[string]any{"success": true, "commitOid": c.oid, "commitUrl": url, "hookOutput": ""})
}

func (s *Server) resolve(w http.ResponseWriter, r *http.Request, id, rev, p string) {
	s.mu.Lock()
	rp := s.repos[id]
	var f file
	var ok bool
	if rp != nil {
		if c, found := rp.head(rev); found {
			f, ok = c.files[p]
		}
	}
	s.mu.Unlock()
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		fail(w, http.StatusNotFound, "Entry not found")
		return
	}
	etag := `"` + gitBlobSHA1(f.content) + `"`
	if f.lfs {
		etag = `"` + sha256hex(f.content) + `"`
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, path.Base(p), time.Time{}, bytes.NewReader(f.content))
}
