package llm

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ollama/ollama/envconfig"
)

// DefaultHost is the Ollama server of the environment, read as Ollama
// itself reads OLLAMA_HOST (envconfig.Host): unset is
// http://127.0.0.1:11434, a bare host gets port 11434, a scheme without a
// port gets that scheme's port.
func DefaultHost() string { return envconfig.Host().String() }

// ParseHost reads an Ollama address given in a flag or a workspace file the
// way Ollama reads OLLAMA_HOST, so that "myhost", "127.0.0.1",
// "0.0.0.0:8080" and "https://example.com" mean what they mean to
// Ollama. An empty s is DefaultHost.
func ParseHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultHost(), nil
	}
	defaultPort := "11434"
	scheme, hostport, ok := strings.Cut(s, "://")
	switch {
	case !ok:
		scheme, hostport = "http", s
	case scheme == "http":
		defaultPort = "80"
	case scheme == "https":
		defaultPort = "443"
	default:
		return "", fmt.Errorf("host %q: the scheme must be http or https", s)
	}
	hostport, path, _ := strings.Cut(hostport, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = "127.0.0.1", defaultPort
		if ip := net.ParseIP(strings.Trim(hostport, "[]")); ip != nil {
			host = ip.String()
		} else if hostport != "" {
			host = hostport
		}
	}
	if n, err := strconv.ParseInt(port, 10, 32); err != nil || n > 65535 || n < 0 {
		return "", fmt.Errorf("host %q: port %q is not a port number", s, port)
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: path}).String(), nil
}

// HostEnv is how the environment names the server, for messages:
// `OLLAMA_HOST="..."` or `OLLAMA_HOST unset`.
func HostEnv() string {
	if v, ok := os.LookupEnv("OLLAMA_HOST"); ok {
		return fmt.Sprintf("OLLAMA_HOST=%q", v)
	}
	return "OLLAMA_HOST unset"
}

// Endpoint names a server and how to talk to it: the Ollama API at Host, or
// an OpenAI-compatible API at BaseURL (vLLM, llama.cpp server, SGLang,
// Ollama's /v1) with an optional key.
type Endpoint struct {
	API     string // ollama (default) or openai
	Host    string // Ollama address, read like OLLAMA_HOST (empty: the environment's)
	BaseURL string // OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1
	APIKey  string
	// Silence: see Ollama.Silence.
	Silence time.Duration
}

// New returns the Backend for e.
func New(e Endpoint) (Backend, error) {
	a, err := LookupAPI(e.API)
	if err != nil {
		return nil, err
	}
	if a.OllamaHosts {
		return a.open(e.Host, e)
	}
	return a.open(e.BaseURL, e)
}
