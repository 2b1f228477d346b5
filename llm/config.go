package llm

import "time"

// Config is the model server section: which server, which API, which
// model, and how requests are sent. The CLI's flags and tuneline.yaml's
// `ollama:` section fill this one struct (see internal/conf).
type Config struct {
	API      string        `yaml:"api" flag:"api" help:"ollama (native API) or openai (OpenAI-compatible: vLLM, llama.cpp server, SGLang, Ollama's /v1)"`
	Host     string        `yaml:"host" flag:"host" help:"Ollama server, a URL or host[:port] read as Ollama reads OLLAMA_HOST; empty: $OLLAMA_HOST, else 127.0.0.1:11434"`
	BaseURL  string        `yaml:"base_url" flag:"base-url" help:"OpenAI-compatible base URL with /v1, for api openai (e.g. http://127.0.0.1:8000/v1)"`
	APIKey   string        `yaml:"-" flag:"api-key" env:"OPENAI_API_KEY" help:"key for api openai; from $OPENAI_API_KEY, never stored in the workspace"`
	Model    string        `yaml:"model" flag:"model" short:"m" help:"model name on that server"`
	Parallel int           `yaml:"parallel" flag:"parallel" help:"requests in flight"`
	Timeout  time.Duration `yaml:"timeout" flag:"timeout" help:"longest time one request may take in all (replies stream: see silence)"`
	Silence  time.Duration `yaml:"silence" flag:"silence" help:"give a request up when the Ollama server sent no token for this long (slow machines: raise it)"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config {
	return Config{API: APIOllama, Parallel: 2, Timeout: 30 * time.Minute, Silence: 2 * time.Minute}
}

// Endpoint is the server part of c.
func (c Config) Endpoint() Endpoint {
	return Endpoint{API: c.API, Host: c.Host, BaseURL: c.BaseURL, APIKey: c.APIKey, Silence: c.Silence}
}

// Where names the server for messages.
func (c Config) Where() string {
	if c.API == APIOpenAI {
		return c.BaseURL
	}
	h, err := ParseHost(c.Host)
	if err != nil {
		return c.Host
	}
	return h
}
