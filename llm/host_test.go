package llm

import (
	"testing"

	"github.com/ollama/ollama/envconfig"
)

// ParseHost reads an address exactly as Ollama reads OLLAMA_HOST.
func TestParseHostMatchesOllama(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "http://127.0.0.1:11434"},
		{"127.0.0.1", "http://127.0.0.1:11434"},
		{"myhost", "http://myhost:11434"},
		{"myhost:8080", "http://myhost:8080"},
		{"0.0.0.0", "http://0.0.0.0:11434"},
		{":11435", "http://:11435"},
		{"[::1]", "http://[::1]:11434"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"http://myhost", "http://myhost:80"},
		{"https://example.com", "https://example.com:443"},
		{"http://10.0.0.1:11434", "http://10.0.0.1:11434"},
		{"https://example.com/ollama", "https://example.com:443/ollama"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			t.Setenv("OLLAMA_HOST", tt.in)
			ollama := envconfig.Host().String()
			got, err := ParseHost(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || got != ollama {
				t.Errorf("ParseHost(%q) = %q; want %q; Ollama reads %q", tt.in, got, tt.want, ollama)
			}
			if DefaultHost() != ollama {
				t.Errorf("DefaultHost() = %q, Ollama reads %q", DefaultHost(), ollama)
			}
		})
	}
	for _, bad := range []string{"ftp://x", "myhost:99999", "myhost:abc"} {
		if _, err := ParseHost(bad); err == nil {
			t.Errorf("ParseHost(%q) accepted", bad)
		}
	}
}

// Models are created on an Ollama server even when generation goes to
// OpenAI-compatible ones.
func TestFirstHost(t *testing.T) {
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{API: APIOllama, Host: "a"}, "a"},
		{Config{API: APIOllama, Host: "a", Hosts: []string{"b", "c"}}, "b"},
		{Config{API: APIOpenAI, Host: "a", BaseURL: "http://x/v1"}, "a"},
		{Config{API: APIOpenAI, Host: "a", Hosts: []string{"http://x/v1", "http://y/v1"}}, "a"},
	} {
		if got := tt.c.FirstHost(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.c, got, tt.want)
		}
	}
	if s := (Config{API: APIOpenAI, BaseURL: "http://x/v1"}).Servers(); len(s) != 1 || s[0] != "http://x/v1" {
		t.Errorf("servers %v", s)
	}
}
