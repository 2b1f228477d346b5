package localollama

import (
	"context"
	"io"
	"strings"
	"testing"
)

// With local: never and no server, the error names the host tried (as
// Ollama reads it) and what to set; it said `no Ollama at ""` before.
func TestDiscoverNeverNamesHost(t *testing.T) {
	for _, tt := range []struct{ host, env, want string }{
		{"127.0.0.1:9", "", `no Ollama with model "llama3.2" at http://127.0.0.1:9`},
		{"", "127.0.0.1:9", `no Ollama with model "llama3.2" at http://127.0.0.1:9 (OLLAMA_HOST="127.0.0.1:9"`},
	} {
		t.Setenv("OLLAMA_HOST", tt.env)
		_, err := Discover(context.Background(), tt.host, "llama3.2", LocalNever, t.TempDir(), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "ollama.local: auto") {
			t.Errorf("host %q env %q: %v\nwant %q", tt.host, tt.env, err, tt.want)
		}
	}
}
