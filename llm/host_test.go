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
