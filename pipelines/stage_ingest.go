package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/bucket"
)

// ingestStage cuts the sources into chunks (and the chat logs into
// examples).
var ingestStage = stage{
	name: "ingest", format: 1, enabled: always,
	section: func(c *Config) any { return &c.Ingest }, doc: "Sources to chunks.",
	inputs: (*runner).ingestInputs, run: (*runner).ingest,
}

// ingest re-extracts only the sources whose content changed; each keeps
// its own chunk file under build/ingest/.
func (r *runner) ingest(ctx context.Context) (string, error) {
	files, err := r.sourceFiles()
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no source file in %s: put PDFs, web pages, subtitles, Markdown or chat logs there (see %s)", strings.Join(r.cfg.Sources, ", "), GettingStarted)
	}
	dir := r.cfg.Layout().IngestDir()
	os.MkdirAll(dir, 0o755)
	// The stage's two outputs are written as the sources come (a
	// workspace's chunks are never all held), and appear when it ends.
	chunks, err := newLineFile(r.chunks())
	if err != nil {
		return "", err
	}
	defer chunks.Abort()
	exs, err := newLineFile(r.chatlogs())
	if err != nil {
		return "", err
	}
	defer exs.Abort()
	defer r.cfg.Ingest.SoftMemoryLimit()()
	reused, redone := 0, 0
	var failed []string
	for _, f := range files {
		key := hashJSON(f)
		h, err := sourceHash(f)
		if err != nil {
			return "", err
		}
		cf, ef := filepath.Join(dir, key+".chunks.jsonl"), filepath.Join(dir, key+".examples.jsonl")
		stamp := h + "/" + hashJSON(r.cfg.Ingest)
		if r.man.Sources[f] == stamp && h != "url" {
			cb, ok1 := readCache(cf, stamp)
			eb, ok2 := readCache(ef, stamp)
			if ok1 && ok2 {
				if err := chunks.write(cb); err != nil {
					return "", err
				}
				if err := exs.write(r.withPersona(eb)); err != nil {
					return "", err
				}
				reused++
				continue
			}
		}
		var cbuf, ebuf bytes.Buffer
		var iopt ingest.Options
		r.cfg.Ingest.Apply(&iopt)
		sum, err := ingest.Run(ctx, []string{f}, iopt, &ingest.JSONOutput{Chunks: &cbuf, Examples: &ebuf})
		if err != nil {
			return "", err
		}
		for src, e := range sum.Errors {
			failed = append(failed, ingest.Quote(rel(r.cfg.dir, src))+": "+ingest.Escape(e))
		}
		if err := writeCache(cf, stamp, cbuf.Bytes()); err != nil {
			return "", err
		}
		if err := writeCache(ef, stamp, ebuf.Bytes()); err != nil {
			return "", err
		}
		if len(sum.Errors) == 0 { // a failed source is tried again next run
			r.man.Sources[f] = stamp
		} else {
			delete(r.man.Sources, f)
		}
		if err := chunks.write(cbuf.Bytes()); err != nil {
			return "", err
		}
		if err := exs.write(r.withPersona(ebuf.Bytes())); err != nil {
			return "", err
		}
		redone++
	}
	for _, e := range failed {
		fmt.Fprintf(r.log, "         source failed: %s\n", e)
	}
	for _, s := range r.skipped {
		fmt.Fprintf(r.log, "         skipped: %s: %s\n", ingest.Quote(rel(r.cfg.dir, s.Path)), s.Reason)
	}
	sort.Strings(failed)
	r.failed = failed // the run goes on with the rest and ends with exit 1
	nChunks, nEx := chunks.lines, exs.lines
	if nChunks == 0 && nEx == 0 {
		return "", fmt.Errorf("no text came out of the sources")
	}
	if err := chunks.Commit(); err != nil {
		return "", err
	}
	if err := exs.Commit(); err != nil {
		return "", err
	}
	skipped := ""
	if len(r.skipped) > 0 {
		skipped = fmt.Sprintf(", %d skipped (not regular files)", len(r.skipped))
	}
	return fmt.Sprintf("%d sources (%d re-ingested, %d unchanged, %d failed%s), %d chunks, %d chat-log examples", len(files), redone, reused, len(failed), skipped, nChunks, nEx), nil
}

// lineFile is an output written atomically that counts its lines.
type lineFile struct {
	*datasets.AtomicFile
	lines int
}

func newLineFile(path string) (*lineFile, error) {
	f, err := datasets.CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	return &lineFile{AtomicFile: f}, nil
}

func (l *lineFile) write(b []byte) error {
	l.lines += bytes.Count(b, []byte("\n"))
	_, err := l.Write(b)
	return err
}

// A source's cache files are written without a sync each (two synced
// files made run's ingest cost about 3 ms a source: 100,000 tiny files
// took 360 s against 2.4 s for ingest itself): each ends with a line
// naming its stamp, and one that does not (a crash left it empty, short or
// zeroed) is redone, not reused. The stage's outputs are synced as before.
const cacheEnd = "#tuneline-cache "

// writeCache puts data and its end line at path (temp file and rename,
// unsynced).
func writeCache(path, stamp string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(append(data[:len(data):len(data)], cacheEnd+stamp+"\n"...))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), datasets.FileMode())
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readCache is a cache file's data when it ends with stamp's end line.
func readCache(path, stamp string) ([]byte, bool) {
	b, err := os.ReadFile(path)
	end := cacheEnd + stamp + "\n"
	if err != nil || !bytes.HasSuffix(b, []byte(end)) {
		return nil, false
	}
	b = b[:len(b)-len(end)]
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return nil, false
	}
	return b, true
}

// withPersona gives the chat-log examples that have no system prompt the
// persona's, so that they teach the same voice as the generated ones (and
// their ids, derived from the content, change with it).
func (r *runner) withPersona(lines []byte) []byte {
	sys := strings.TrimRight(r.persona.System, "\n")
	if sys == "" {
		return lines
	}
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(lines, []byte("\n")) {
		var ex datasets.Example
		if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &ex) != nil || ex.System() != "" {
			out.Write(line)
			continue
		}
		ex.Messages = append([]datasets.Message{{Role: datasets.RoleSystem, Content: sys}}, ex.Messages...)
		ex.ID = datasets.ContentID(ex.KeyMessages())
		b, _ := json.Marshal(&ex)
		out.Write(append(b, '\n'))
	}
	return out.Bytes()
}

func (r *runner) ingestInputs(d map[string]string) ([]string, error) {
	files, err := r.sourceFiles()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		h, err := sourceHash(f)
		if err != nil {
			return nil, err
		}
		if h == "url" || bucket.IsURL(f) {
			d["source "+f] = h
			continue
		}
		d["source "+rel(r.cfg.dir, f)] = h
	}
	d["params"] = hashJSON(r.cfg.Ingest)
	d["persona"] = r.persona.Hash() // the chat-log examples get its system prompt
	return []string{r.chunks(), r.chatlogs()}, nil
}
