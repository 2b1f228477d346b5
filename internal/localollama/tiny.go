package localollama

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/ollama/ollama/fs/ggml"
)

// Tiny model dimensions: 2 layers, 64-dim, 4 heads, 8192 context, f32; about
// 0.5 MB, loads in a third of a second, generates a few hundred tokens a
// second on a laptop core. Its weights are random: it writes gibberish, but
// with a JSON-schema format its replies are still schema-valid.
const (
	tinyEmbd   = 64
	tinyFF     = 128
	tinyHeads  = 4
	tinyLayers = 2
	tinyCtx    = 8192
)

// TinyVocab is the tokenizer: <unk>, <s>, </s>, the 256 byte tokens and
// printable ASCII characters and a few common words as normal tokens.
func tinyVocab() (tokens []string, scores []float32, types []int32) {
	add := func(t string, score float32, typ int32) {
		tokens = append(tokens, t)
		scores = append(scores, score)
		types = append(types, typ)
	}
	add("<unk>", 0, 2)
	add("<s>", 0, 3)
	add("</s>", 0, 3)
	for i := range 256 {
		add(fmt.Sprintf("<0x%02X>", i), 0, 6)
	}
	for c := 0x20; c < 0x7f; c++ {
		s := string(rune(c))
		if c == ' ' {
			s = "▁"
		}
		add(s, -1, 1)
	}
	for i, w := range []string{"▁the", "▁a", "▁of", "▁and", "▁is", "▁energy", "▁light", "▁time", "▁space", "▁wave"} {
		add(w, float32(-2-i), 1)
	}
	return tokens, scores, types
}

func randTensor(r *rand.Rand, n int, scale float64) *bytes.Reader {
	b := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(r.NormFloat64()*scale)))
	}
	return bytes.NewReader(b)
}

func ones(n int) *bytes.Reader {
	b := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(1))
	}
	return bytes.NewReader(b)
}

// WriteTinyGGUF writes the tiny random-weight llama model to path.
func WriteTinyGGUF(path string, seed uint64) error {
	tokens, scores, types := tinyVocab()
	nv := uint64(len(tokens))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	kv := ggml.KV{
		"general.architecture":                   "llama",
		"general.name":                           "tuneline-tiny",
		"general.file_type":                      uint32(0),
		"llama.context_length":                   uint32(tinyCtx),
		"llama.embedding_length":                 uint32(tinyEmbd),
		"llama.block_count":                      uint32(tinyLayers),
		"llama.feed_forward_length":              uint32(tinyFF),
		"llama.attention.head_count":             uint32(tinyHeads),
		"llama.attention.head_count_kv":          uint32(tinyHeads),
		"llama.rope.dimension_count":             uint32(tinyEmbd / tinyHeads),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.vocab_size":                       uint32(nv),
		"tokenizer.ggml.model":                   "llama",
		"tokenizer.ggml.tokens":                  tokens,
		"tokenizer.ggml.scores":                  scores,
		"tokenizer.ggml.token_type":              types,
		"tokenizer.ggml.bos_token_id":            uint32(1),
		"tokenizer.ggml.eos_token_id":            uint32(2),
		"tokenizer.ggml.unknown_token_id":        uint32(0),
		"tokenizer.ggml.add_bos_token":           true,
		"tokenizer.ggml.add_eos_token":           false,
	}
	// Shapes are given as [rows, columns]; WriteGGUF stores them reversed.
	ts := []ggml.Tensor{
		{Name: "token_embd.weight", Shape: []uint64{nv, tinyEmbd}, WriterTo: randTensor(r, int(nv)*tinyEmbd, 0.5)},
		{Name: "output_norm.weight", Shape: []uint64{tinyEmbd}, WriterTo: ones(tinyEmbd)},
		{Name: "output.weight", Shape: []uint64{nv, tinyEmbd}, WriterTo: randTensor(r, int(nv)*tinyEmbd, 0.5)},
	}
	for l := range tinyLayers {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			ggml.Tensor{Name: p + "attn_norm.weight", Shape: []uint64{tinyEmbd}, WriterTo: ones(tinyEmbd)},
			ggml.Tensor{Name: p + "attn_q.weight", Shape: []uint64{tinyEmbd, tinyEmbd}, WriterTo: randTensor(r, tinyEmbd*tinyEmbd, 0.1)},
			ggml.Tensor{Name: p + "attn_k.weight", Shape: []uint64{tinyEmbd, tinyEmbd}, WriterTo: randTensor(r, tinyEmbd*tinyEmbd, 0.1)},
			ggml.Tensor{Name: p + "attn_v.weight", Shape: []uint64{tinyEmbd, tinyEmbd}, WriterTo: randTensor(r, tinyEmbd*tinyEmbd, 0.1)},
			ggml.Tensor{Name: p + "attn_output.weight", Shape: []uint64{tinyEmbd, tinyEmbd}, WriterTo: randTensor(r, tinyEmbd*tinyEmbd, 0.1)},
			ggml.Tensor{Name: p + "ffn_norm.weight", Shape: []uint64{tinyEmbd}, WriterTo: ones(tinyEmbd)},
			ggml.Tensor{Name: p + "ffn_gate.weight", Shape: []uint64{tinyFF, tinyEmbd}, WriterTo: randTensor(r, tinyFF*tinyEmbd, 0.1)},
			ggml.Tensor{Name: p + "ffn_up.weight", Shape: []uint64{tinyFF, tinyEmbd}, WriterTo: randTensor(r, tinyFF*tinyEmbd, 0.1)},
			ggml.Tensor{Name: p + "ffn_down.weight", Shape: []uint64{tinyEmbd, tinyFF}, WriterTo: randTensor(r, tinyFF*tinyEmbd, 0.1)},
		)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := ggml.WriteGGUF(f, kv, ts); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// TinyTemplate is a minimal chat template for the tiny model.
const TinyTemplate = `{{- if .System }}<|system|>{{ .System }}
{{ end }}{{- range .Messages }}<|{{ .Role }}|>{{ .Content }}
{{ end }}<|assistant|>`

// CreateTiny writes the tiny model and creates it on the server as name.
func (s *Server) CreateTiny(ctx context.Context, name string) error {
	dir := filepath.Join(s.Dir, "tiny-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gguf := filepath.Join(dir, "tiny.gguf")
	if err := WriteTinyGGUF(gguf, 1); err != nil {
		return err
	}
	mf := filepath.Join(dir, "Modelfile")
	content := fmt.Sprintf("FROM %s\nTEMPLATE \"\"\"%s\"\"\"\nPARAMETER num_ctx 8192\nPARAMETER stop \"<|\"\n", gguf, TinyTemplate)
	if err := os.WriteFile(mf, []byte(content), 0o644); err != nil {
		return err
	}
	return s.CreateFromModelfile(ctx, name, mf)
}
