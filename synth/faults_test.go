package synth

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tuneline/tuneline/internal/testenv"
	"github.com/tuneline/tuneline/llm"
)

// faultProxy sits in front of the real server and breaks some chat
// requests: connection resets, 500s, 503s, stalls and invalid JSON bodies.
type faultProxy struct {
	mu    sync.Mutex
	n     int
	seen  map[string]int
	real  *httputil.ReverseProxy
	stall time.Duration
}

func (f *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/chat") && !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		f.real.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	f.n++
	n := f.n
	f.seen[[]string{"ok", "reset", "500", "503", "stall", "garbage"}[n%6]]++
	f.mu.Unlock()
	switch n % 6 {
	case 1: // connection reset
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	case 2:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case 3:
		http.Error(w, "server busy, please try again. maximum pending requests exceeded", http.StatusServiceUnavailable)
	case 4: // stall: the client gives up when the server is silent too long
		select {
		case <-time.After(f.stall):
		case <-r.Context().Done():
		}
	case 5: // a 200 whose body is not what the API returns
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"model":"tiny","message":{"role":"assistant","content":"{\"pairs\": [tru`))
	default:
		f.real.ServeHTTP(w, r)
	}
}

// Through a proxy that breaks five requests in six, every task still
// completes and nothing is lost or duplicated.
func TestSynthSurvivesFaults(t *testing.T) {
	srv := testenv.Ollama(t)
	target, _ := url.Parse(srv.URL)
	fp := &faultProxy{seen: map[string]int{}, real: httputil.NewSingleHostReverseProxy(target), stall: 8 * time.Second}
	proxy := httptest.NewServer(fp)
	defer proxy.Close()
	chunks := writeChunks(t, 3)
	opt := testOptions(t, proxy.URL)
	opt.Backend.(*llm.Ollama).Silence = 2 * time.Second // a stall (8 s) is cut after 2 s of silence
	opt.Timeout = 2 * time.Minute                       // each task's budget for its attempts
	opt.Backoff = 20 * time.Millisecond
	opt.NetRetries = 30
	opt.Retries = 10
	var out bytes.Buffer
	sum, err := Run(context.Background(), chunks, opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	fp.mu.Lock()
	seen := maps.Clone(fp.seen)
	fp.mu.Unlock()
	if sum.TasksDone != 6 || len(sum.Failures) != 0 || sum.Examples != 3*2+3 {
		t.Fatalf("summary %+v (faults %v)", sum, seen)
	}
	for _, k := range []string{"reset", "500", "503", "stall", "garbage"} {
		if seen[k] == 0 {
			t.Errorf("fault %s never injected: %v", k, seen)
		}
	}
	exs := readExamples(t, out.Bytes())
	ids := map[string]bool{}
	for _, ex := range exs {
		if ids[ex.ID] {
			t.Errorf("duplicate example %s", ex.ID)
		}
		ids[ex.ID] = true
	}
	if len(exs) != sum.Examples {
		t.Errorf("%d examples written, summary says %d", len(exs), sum.Examples)
	}
	t.Logf("faults injected %v; requests %d, network retries %d, re-asked %d", seen, sum.Requests, sum.Retried, sum.Reasked)
}

// The OpenAI-compatible backend against the real server's /v1.
func TestSynthOpenAIBackend(t *testing.T) {
	srv := testenv.Ollama(t)
	opt := testOptions(t, srv.URL)
	b, err := llm.NewOpenAI(srv.URL+"/v1", "")
	if err != nil {
		t.Fatal(err)
	}
	opt.Backend = b
	opt.Conversations = 0
	var out bytes.Buffer
	sum, err := Run(context.Background(), writeChunks(t, 2), opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.TasksDone != 2 || sum.Examples != 4 || len(sum.Failures) != 0 || sum.TokensOut == 0 {
		t.Fatalf("summary %+v", sum)
	}
	readExamples(t, out.Bytes())
	opt.Model = "missing"
	if _, err := Run(context.Background(), writeChunks(t, 1), opt, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not served") {
		t.Errorf("missing model: %v", err)
	}
}
