package openai

import (
	"bytes"
	"io"
	"net/http"
	"slices"
)

// MaxFileBytes is the service's documented limit on one uploaded file.
const MaxFileBytes = 512 << 20

// Purposes the files endpoint accepts.
var purposes = []string{"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}

type file struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Bytes     int64  `json:"bytes"`
	CreatedAt int64  `json:"created_at"`
	Filename  string `json:"filename"`
	Purpose   string `json:"purpose"`
	Status    string `json:"status"`
	ExpiresAt *int64 `json:"expires_at,omitempty"`
	data      []byte
}

func (s *Server) fileRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/files", s.createFile)
	mux.HandleFunc("GET /v1/files", s.listFiles)
	mux.HandleFunc("GET /v1/files/{id}", s.getFile)
	mux.HandleFunc("DELETE /v1/files/{id}", s.deleteFile)
	mux.HandleFunc("GET /v1/files/{id}/content", s.fileContent)
}

// FileContent returns an uploaded file's bytes (for other API areas, such
// as batches, that read the files the client uploaded).
func (s *Server) FileContent(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok {
		return nil, false
	}
	return f.data, true
}

// AddFile stores data as a file the service made (a batch's output, a
// job's results) and returns its id.
func (s *Server) AddFile(name, purpose string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addFile(name, purpose, data).ID
}

func (s *Server) addFile(name, purpose string, data []byte) *file {
	f := &file{ID: s.id("file"), Object: "file", Bytes: int64(len(data)), CreatedAt: s.clock(), Filename: name, Purpose: purpose, Status: "processed", data: data}
	s.files[f.ID] = f
	s.fileIDs = append(s.fileIDs, f.ID)
	return f
}

func (s *Server) createFile(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFileBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "Expected a multipart/form-data body: "+err.Error(), "invalid_request_error", "", "")
		return
	}
	var purpose, name string
	var data []byte
	seenFile := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "Could not parse multipart form: "+err.Error(), "invalid_request_error", "", "")
			return
		}
		switch p.FormName() {
		case "purpose":
			b, _ := io.ReadAll(io.LimitReader(p, 64))
			purpose = string(b)
		case "file":
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, io.LimitReader(p, MaxFileBytes+1)); err != nil {
				writeError(w, http.StatusBadRequest, "Could not read the file: "+err.Error(), "invalid_request_error", "file", "")
				return
			}
			if buf.Len() > MaxFileBytes {
				writeError(w, http.StatusRequestEntityTooLarge, "File is too large: the maximum is 512 MB.", "invalid_request_error", "file", "")
				return
			}
			data, name, seenFile = buf.Bytes(), p.FileName(), true
		}
	}
	switch {
	case !seenFile:
		writeError(w, http.StatusBadRequest, "Missing required parameter: 'file'.", "invalid_request_error", "file", "")
		return
	case purpose == "":
		writeError(w, http.StatusBadRequest, "Missing required parameter: 'purpose'.", "invalid_request_error", "purpose", "")
		return
	case !slices.Contains(purposes, purpose):
		writeError(w, http.StatusBadRequest, "'"+purpose+"' is not one of "+`['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals']`+" - 'purpose'", "invalid_request_error", "purpose", "")
		return
	}
	s.mu.Lock()
	f := s.addFile(name, purpose, data)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) lookupFile(w http.ResponseWriter, r *http.Request) *file {
	id := r.PathValue("id")
	f, ok := s.files[id]
	if !ok {
		writeError(w, http.StatusNotFound, "No such File object: "+id, "invalid_request_error", "id", "")
		return nil
	}
	return f
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.lookupFile(w, r); f != nil {
		writeJSON(w, http.StatusOK, f)
	}
}

func (s *Server) fileContent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.lookupFile(w, r)
	s.mu.Unlock()
	if f != nil {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(f.data)
	}
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.lookupFile(w, r)
	if f == nil {
		return
	}
	delete(s.files, f.ID)
	s.fileIDs = slices.DeleteFunc(s.fileIDs, func(id string) bool { return id == f.ID })
	writeJSON(w, http.StatusOK, map[string]any{"id": f.ID, "object": "file", "deleted": true})
}

// listFiles pages through files, newest first unless order=asc, filtered
// by purpose.
func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	var ids []string
	for _, id := range s.fileIDs {
		if p := q.Get("purpose"); p == "" || s.files[id].Purpose == p {
			ids = append(ids, id)
		}
	}
	if q.Get("order") != "asc" {
		ids = reversed(ids)
	}
	writePage(w, r, ids, 10000, s.files)
}
