package review

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/testenv"
)

// bigFile writes n examples shaped as a curated workspace's (system,
// question, answer; provenance, scores and a reason), about 900 bytes each.
func bigFile(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "big.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	types := []string{"factual", "procedural", "why", "comparison"}
	for i := 0; i < n; i++ {
		ex := datasets.Example{Messages: []datasets.Message{
			{Role: "system", Content: "You are Ada, a physics teacher who explains with everyday examples and never makes up numbers."},
			{Role: "user", Content: fmt.Sprintf("In section %d of the notes, what happens to a pendulum of length %d cm when it swings %d times?", i%97, 10+i%89, i%13)},
			{Role: "assistant", Content: fmt.Sprintf("Example %d: its period depends on the length, about %d.%02d s here, and barely on the amplitude while the swing stays small. The notes compare it with a swing at a playground: pushing harder does not change the rhythm, and a longer rope makes each swing take longer. Friction takes energy away, so after %d swings the amplitude is smaller but the period is nearly the same.", i, 1+i%3, i%100, i%13)},
		}, Meta: datasets.Meta{Source: fmt.Sprintf("sources/notes-%d.pdf", i%11), DocID: fmt.Sprintf("d%d", i%11), ChunkID: fmt.Sprintf("ck-%d", i/4),
			Section: fmt.Sprintf("Section %d", i%97), PageStart: int32(1 + i%300), PageEnd: int32(2 + i%300), Kind: "qa", QuestionType: types[i%4],
			Persona: "Ada", Model: "llama3.2", Scores: map[string]float64{"accuracy": float64(1 + i%5), "grounding": float64(1 + i/7%5), "persona": 4, "clarity": 5},
			Extra: map[string]string{"judge_reason": "Grounded in the passage and in Ada's voice."}}}
		ex.EnsureID()
		b, _ := json.Marshal(ex)
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// firstPaint runs the tuneline binary's review command on a file of n
// examples, opens its page in Chromium and returns the time from starting
// the command to the first example on screen, the page's own time to it
// (from navigation), and the server's peak RSS once it has indexed and
// flagged the whole file.
func firstPaint(tb testing.TB, n int) (total, page time.Duration, rssMB float64) {
	ctx := testenv.Browser(tb)
	path := bigFile(tb, n)
	bin := filepath.Join(tb.TempDir(), "tuneline")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/tuneline").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	t0 := time.Now()
	cmd := exec.Command(bin, "review", "--no-open", path)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatal(err)
	}
	url = strings.TrimSpace(url)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		tb.Fatal(err)
	}
	if err := until(ctx, `document.body.dataset.ready === '1'`, 60*time.Second); err != nil {
		tb.Fatal(err)
	}
	total = time.Since(t0)
	ms, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__firstPaintMs`))
	page = time.Duration(ms * float64(time.Millisecond))
	// The list never holds a node per example.
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.row').length`))
	if rows > 200 {
		tb.Errorf("the list holds %d row nodes", rows)
	}
	if err := until(ctx, fmt.Sprintf(`document.getElementById('matching').textContent.replace(/\D/g, '') === '%d' && document.getElementById('indexing').textContent === ''`, n), 5*time.Minute); err != nil {
		tb.Fatal(err)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			rssMB = kb / 1024
		}
	}
	return total, page, rssMB
}

// The 100,000-example first paint, measured (the figures go to
// BENCHMARKS.md from BenchmarkFirstPaint100k; the bound here is loose).
func TestBrowserFirstPaint100k(t *testing.T) {
	total, page, rss := firstPaint(t, 100_000)
	t.Logf("first example on screen %.2f s after the command started (%.2f s after navigation); peak RSS %.0f MB", total.Seconds(), page.Seconds(), rss)
	if total > 15*time.Second || rss > 1024 {
		t.Errorf("first paint %.1f s, RSS %.0f MB: far over the 3 s, 512 MB targets", total.Seconds(), rss)
	}
}

// BenchmarkFirstPaint100k: go test -run '^$' -bench FirstPaint100k -benchtime 1x ./review
func BenchmarkFirstPaint100k(b *testing.B) {
	for b.Loop() {
		total, page, rss := firstPaint(b, 100_000)
		b.ReportMetric(total.Seconds(), "s/first-paint")
		b.ReportMetric(page.Seconds(), "s/page-paint")
		b.ReportMetric(rss, "MB-peak-RSS")
	}
}
