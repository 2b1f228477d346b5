package llm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the model server section: which server, which API, which
// model, and how requests are sent. The CLI's flags and tuneline.yaml's
// `ollama:` section fill this one struct (see internal/conf).
type Config struct {
	API      string        `yaml:"api" flag:"api" help:"ollama (native API) or openai (OpenAI-compatible: vLLM, llama.cpp server, SGLang, Ollama's /v1)"`
	Host     string        `yaml:"host" help:"Ollama server, a URL or host[:port] read as Ollama reads OLLAMA_HOST; empty: $OLLAMA_HOST, else 127.0.0.1:11434"`
	Hosts    []string      `yaml:"hosts" flag:"host" help:"several servers to spread the work over (Ollama addresses, or base URLs for api openai); repeat --host for each"`
	BaseURL  string        `yaml:"base_url" flag:"base-url" help:"OpenAI-compatible base URL with /v1, for api openai (e.g. http://127.0.0.1:8000/v1)"`
	APIKey   string        `yaml:"-" flag:"api-key" env:"OPENAI_API_KEY" help:"key for api openai; from $OPENAI_API_KEY, never stored in the workspace"`
	Model    string        `yaml:"model" flag:"model" short:"m" help:"model name on that server"`
	Parallel string        `yaml:"parallel" flag:"parallel" help:"requests in flight per server: auto (measured: climbs while the server's tokens/s rise) or a number"`
	Timeout  time.Duration `yaml:"timeout" flag:"timeout" help:"longest time one request may take in all (replies stream: see silence)"`
	Silence  time.Duration `yaml:"silence" flag:"silence" help:"give a request up when the Ollama server sent no token for this long (slow machines: raise it)"`
	Reload   bool          `yaml:"reload" flag:"reload" help:"with parallel auto: reload the model, once, on an Ollama server that stays slower after a higher level was tried (its runner keeps each slot's prompt cache and later requests attend over all of it); false on a server others use"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config {
	return Config{API: APIOllama, Hosts: []string{}, Parallel: "auto", Timeout: 30 * time.Minute, Silence: 2 * time.Minute, Reload: true}
}

// Level is Parallel as a number: 0 for auto.
func (c Config) Level() (int, error) {
	s := strings.TrimSpace(c.Parallel)
	if s == "" || s == "auto" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("parallel %q: want auto or a number of at least 1", c.Parallel)
	}
	return n, nil
}

// Workers is the number of requests worth keeping in flight on backend b:
// its own number when it says one (a Pool: each server's level, or the
// most parallel auto may reach; a Batch), else 2. Every stage sizes its
// workers with it, from the CLI and the workspace alike.
func Workers(b Backend) int {
	if w, ok := b.(interface{ Workers() int }); ok {
		return w.Workers()
	}
	return 2
}

// Servers lists the servers: hosts when given, else the one host (or
// base URL for api openai).
func (c Config) Servers() []string {
	if len(c.Hosts) > 0 {
		return c.Hosts
	}
	if !c.OllamaHosts() {
		return []string{c.BaseURL}
	}
	return []string{c.Host}
}

// FirstHost is the Ollama server models are created on: the first of
// hosts with api ollama, else host (with api openai, hosts are the
// OpenAI-compatible base URLs, and models are still created through
// Ollama's API at host).
func (c Config) FirstHost() string {
	if c.OllamaHosts() && len(c.Hosts) > 0 {
		return c.Hosts[0]
	}
	return c.Host
}

// Open returns the pool of the configured servers.
func Open(c Config) (*Pool, error) {
	level, err := c.Level()
	if err != nil {
		return nil, err
	}
	a, err := LookupAPI(c.API)
	if err != nil {
		return nil, err
	}
	var servers []PoolServer
	for _, h := range c.Servers() {
		b, err := a.open(h, c.Endpoint())
		if err != nil {
			return nil, err
		}
		name := h
		if a.OllamaHosts {
			if ph, err := ParseHost(h); err == nil {
				name = ph
			}
		}
		servers = append(servers, PoolServer{Name: name, Backend: b})
	}
	p := NewPool(servers, level)
	p.ReloadAfterTrial(c.Reload)
	return p, nil
}

// Endpoint is the server part of c.
func (c Config) Endpoint() Endpoint {
	return Endpoint{API: c.API, Host: c.Host, BaseURL: c.BaseURL, APIKey: c.APIKey, Silence: c.Silence}
}

// Where names the server for messages.
func (c Config) Where() string {
	if !c.OllamaHosts() {
		return c.BaseURL
	}
	var names []string
	for _, h := range c.Servers() {
		if ph, err := ParseHost(h); err == nil {
			h = ph
		}
		names = append(names, h)
	}
	return strings.Join(names, ", ")
}
