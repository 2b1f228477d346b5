package llm

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// Created describes a created model.
type Created struct {
	Name     string       `json:"name"`
	Digest   string       `json:"digest"`
	Size     int64        `json:"size"`
	Seconds  float64      `json:"seconds"`
	Uploaded int          `json:"blobs_uploaded"`
	Reused   int          `json:"blobs_reused"`
	Smoke    *SmokeResult `json:"smoke,omitempty"`
}

// fileDigest hashes a file.
func fileDigest(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// localFiles returns the files to upload for a FROM or ADAPTER that names
// a local GGUF file or safetensors folder (nil, nil for a model name).
func localFiles(ref string) ([]string, error) {
	p := ExpandHome(ref)
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		if strings.HasSuffix(ref, ".gguf") || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") {
			return nil, fmt.Errorf("%s: no such file", ref)
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	for _, pat := range []string{"*.safetensors", "*.json", "tokenizer.model", "*.tiktoken", "*.gguf"} {
		m, _ := filepath.Glob(filepath.Join(p, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no safetensors, GGUF or tokenizer files in the folder", ref)
	}
	return files, nil
}

// ExpandHome turns a leading ~/ into the home folder.
func ExpandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[2:])
		}
	}
	return p
}

// upload sends the files the server does not have yet, by digest.
func (c *Ollama) upload(ctx context.Context, files []string, res *Created, progress io.Writer) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range files {
		digest, size, err := fileDigest(f)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(f)] = digest
		req, _ := http.NewRequestWithContext(ctx, http.MethodHead, c.Host+"/api/blobs/"+digest, nil)
		if resp, err := c.hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				res.Reused++
				continue
			}
		}
		fmt.Fprintf(progress, "uploading %s (%.1f MB)\n", filepath.Base(f), float64(size)/1e6)
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		err = c.client.CreateBlob(ctx, digest, bufio.NewReaderSize(fh, 1<<20))
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("upload %s: %w", f, err)
		}
		res.Uploaded++
	}
	return out, nil
}

// CreateRequest is a model to create: FROM (a model name, a local GGUF
// file or a safetensors folder), an optional local ADAPTER, and the
// Modelfile's other fields as values.
type CreateRequest struct {
	Name       string
	From       string
	Adapter    string
	System     string
	Template   string
	Parameters map[string]any
	Messages   []Message
	License    []string
}

// Create makes the model through the create API: local weights and
// adapters go up as blobs by digest (skipped when the server has them),
// every other field as JSON, so any text survives exactly.
func (c *Ollama) Create(ctx context.Context, r CreateRequest, progress io.Writer) (*Created, error) {
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	res := &Created{Name: r.Name}
	req := &api.CreateRequest{Model: r.Name, System: r.System, Template: r.Template}
	if len(r.Parameters) > 0 {
		req.Parameters = r.Parameters
	}
	for _, m := range r.Messages {
		req.Messages = append(req.Messages, api.Message{Role: m.Role, Content: m.Content})
	}
	if len(r.License) > 0 {
		req.License = r.License
	}
	files, err := localFiles(r.From)
	if err != nil {
		return nil, fmt.Errorf("FROM %w", err)
	}
	if files == nil {
		req.From = r.From
	} else if req.Files, err = c.upload(ctx, files, res, progress); err != nil {
		return nil, err
	}
	if r.Adapter != "" {
		af, err := localFiles(r.Adapter)
		if err != nil || af == nil {
			return nil, fmt.Errorf("ADAPTER %s: not a local GGUF file or safetensors folder (%v)", r.Adapter, err)
		}
		if req.Adapters, err = c.upload(ctx, af, res, progress); err != nil {
			return nil, err
		}
	}
	stream := false
	req.Stream = &stream
	err = c.client.Create(ctx, req, func(p api.ProgressResponse) error {
		if p.Status != "" {
			fmt.Fprintln(progress, p.Status)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.describe(ctx, res); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func (c *Ollama) describe(ctx context.Context, res *Created) error {
	list, err := c.client.List(ctx)
	if err != nil {
		return err
	}
	for _, m := range list.Models {
		if m.Name == res.Name || m.Name == res.Name+":latest" || m.Model == res.Name {
			res.Digest, res.Size = m.Digest, m.Size
			return nil
		}
	}
	return fmt.Errorf("create %s: the server does not list the model afterwards", res.Name)
}

// CreateCLI makes the model with `BIN create NAME -f Modelfile` from the
// rendered Modelfile text, against this server.
func (c *Ollama) CreateCLI(ctx context.Context, bin, name, modelfile string, progress io.Writer) (*Created, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "tuneline-modelfile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	mf := filepath.Join(dir, "Modelfile")
	if err := os.WriteFile(mf, []byte(modelfile), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "create", name, "-f", mf)
	cmd.Env = append(os.Environ(), "OLLAMA_HOST="+c.Host)
	out, err := cmd.CombinedOutput()
	if progress != nil {
		progress.Write(out)
	}
	if err != nil {
		return nil, fmt.Errorf("%s create: %v: %s", bin, err, strings.TrimSpace(string(out)))
	}
	res := &Created{Name: name}
	if err := c.describe(ctx, res); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// SmokeResult is one question asked of a new model.
type SmokeResult struct {
	Question  string  `json:"question"`
	FirstLine string  `json:"first_line"`
	Seconds   float64 `json:"seconds"`
	OK        bool    `json:"ok"`
	Error     string  `json:"error,omitempty"`
}

// Smoke asks the model one question through /api/chat.
func (c *Ollama) Smoke(ctx context.Context, name, question string) *SmokeResult {
	r := &SmokeResult{Question: question}
	start := time.Now()
	stream := false
	var content strings.Builder
	err := c.client.Chat(ctx, &api.ChatRequest{Model: name, Stream: &stream, Messages: []api.Message{{Role: "user", Content: question}},
		Options: map[string]any{"num_predict": 128}}, func(cr api.ChatResponse) error {
		content.WriteString(cr.Message.Content)
		return nil
	})
	r.Seconds = time.Since(start).Seconds()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	first, _, _ := strings.Cut(strings.TrimSpace(content.String()), "\n")
	if len(first) > 120 {
		first = first[:120] + "…"
	}
	r.FirstLine, r.OK = first, true
	return r
}
