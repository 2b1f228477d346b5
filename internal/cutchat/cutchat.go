// Package cutchat is an OpenAI-compatible chat server for fault injection
// in tests: it answers each generation task with a valid reply to the JSON
// schema the request gives (so many pairs or turns of fixed text), except
// that, while armed, every request of the first Cut tasks it sees gets a
// reply cut at the token limit (finish_reason "length"), so that those
// tasks fail after their retries. A task is known by its first two
// messages, which its re-asks repeat.
package cutchat

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
)

// Server is the fault-injecting chat server.
type Server struct {
	mu    sync.Mutex
	armed bool
	cut   int
	model string
	tasks map[string]bool // task -> cut
	asked map[string]int  // task -> requests
}

// New serves model, cutting the replies of the first cut tasks.
func New(model string, cut int) *Server {
	return &Server{armed: true, cut: cut, model: model, tasks: map[string]bool{}, asked: map[string]int{}}
}

// Disarm makes every later reply whole.
func (p *Server) Disarm() {
	p.mu.Lock()
	p.armed = false
	p.mu.Unlock()
}

// Asked is the number of requests of each task (by its key) so far.
func (p *Server) Asked() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.asked)
}

// CutTasks are the keys (sorted) of the tasks whose replies were cut.
func (p *Server) CutTasks() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(slices.Values(p.cutTasks()))
}

func (p *Server) cutTasks() []string {
	var out []string
	for t, c := range p.tasks {
		if c {
			out = append(out, t)
		}
	}
	return out
}

func (p *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/models" {
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model"}]}`, p.model)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Messages       []json.RawMessage `json:"messages"`
		ResponseFormat struct {
			JSONSchema struct {
				Schema struct {
					Properties map[string]struct {
						MinItems int `json:"minItems"`
					} `json:"properties"`
				} `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"want a chat completion request"}}`, http.StatusBadRequest)
		return
	}
	h := sha256.New()
	for _, m := range req.Messages[:min(2, len(req.Messages))] {
		h.Write(m)
	}
	task := string(h.Sum(nil))
	p.mu.Lock()
	p.asked[task]++
	cut, seen := p.tasks[task]
	if !seen {
		cut = p.armed && len(p.cutTasks()) < p.cut
		p.tasks[task] = cut
	}
	cut = cut && p.armed
	n := len(p.asked)
	p.mu.Unlock()
	content, finish := `{"pairs": [{"question": "Wh`, "length"
	if !cut {
		reply := map[string]any{}
		for key, prop := range req.ResponseFormat.JSONSchema.Schema.Properties {
			var items []map[string]string
			for i := range max(prop.MinItems, 1) {
				if key == "turns" {
					items = append(items, map[string]string{"user": fmt.Sprintf("Why %d-%d?", n, i), "assistant": fmt.Sprintf("Because %d-%d.", n, i)})
				} else {
					items = append(items, map[string]string{"type": "factual", "question": fmt.Sprintf("What is %d-%d?", n, i), "answer": fmt.Sprintf("It is %d-%d.", n, i)})
				}
			}
			reply[key] = items
		}
		b, _ := json.Marshal(reply)
		content, finish = string(b), "stop"
	}
	out, _ := json.Marshal(map[string]any{"id": "c", "object": "chat.completion", "model": p.model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": content}, "finish_reason": finish}},
		"usage":   map[string]int{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})
	w.Write(out)
}

// AskedSince are the tasks (sorted keys) asked for since before, an
// earlier Asked.
func (p *Server) AskedSince(before map[string]int) []string {
	var out []string
	for k, v := range p.Asked() {
		if v > before[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
