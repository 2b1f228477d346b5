package llm

import (
	"errors"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/setting"
)

// TestAPIs checks each registered API: found by name, opens a backend for
// a server of its kind, and Config reads its servers as that kind.
func TestAPIs(t *testing.T) {
	if a, err := LookupAPI(""); err != nil || a != apis[0] {
		t.Fatalf("default API: %v, %v", a, err)
	}
	if _, err := LookupAPI("grpc"); err == nil || !strings.Contains(err.Error(), APIOllama) || !strings.Contains(err.Error(), APIOpenAI) {
		t.Errorf("unknown API: %v", err)
	}
	for _, a := range apis {
		if got, err := LookupAPI(a.Name); err != nil || got != a || a.open == nil {
			t.Errorf("%s: lookup %v, %v", a.Name, got, err)
		}
		addr := "http://127.0.0.1:8000/v1"
		if a.OllamaHosts {
			addr = "127.0.0.1:11434"
		}
		if b, err := a.open(addr, Endpoint{}); err != nil || b == nil {
			t.Errorf("%s: open %s: %v", a.Name, addr, err)
		}
		c := Config{API: a.Name, Host: "127.0.0.1:11434", BaseURL: "http://127.0.0.1:8000/v1"}
		if want := map[bool]string{true: c.Host, false: c.BaseURL}[a.OllamaHosts]; c.Servers()[0] != want || c.OllamaHosts() != a.OllamaHosts {
			t.Errorf("%s: servers %v, want %s", a.Name, c.Servers(), want)
		}
	}
	var se *setting.Error
	if _, err := New(Endpoint{API: APIOpenAI}); !errors.As(err, &se) || se.Key != "base_url" {
		t.Errorf("openai without a base URL: %v", err)
	}
}
