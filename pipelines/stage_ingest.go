package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
// its own cache file under build/ingest/.
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
	// Which sources are read again: their content or the section
	// changed, or a cache file is not whole.
	type cached struct{ path, stamp string }
	caches := make([]cached, len(files))
	var toRun []string
	byName := map[string]int{}
	for i, f := range files {
		key := hashJSON(f)
		h, err := sourceHash(f)
		if err != nil {
			return "", err
		}
		c := cached{filepath.Join(dir, key+".cache.jsonl"), h + "/" + hashJSON(r.cfg.Ingest)}
		caches[i] = c
		if r.man.Sources[f] == c.stamp && h != "url" && cacheWhole(c.path, c.stamp) {
			continue
		}
		byName[f] = i
		toRun = append(toRun, f)
	}
	// The stage's outputs are written in the sources' order: an unchanged
	// source's from its cache, a changed one's as the run gives it.
	next := 0 // the first source not yet in the outputs
	emitCached := func(upTo int) error {
		for ; next < upTo; next++ {
			c := caches[next]
			cb, eb, ok := readCache(c.path, c.stamp)
			if !ok {
				return fmt.Errorf("ingest: the cache of %s was changed while the stage ran (%s)", ingest.Quote(files[next]), c.path)
			}
			if err := chunks.write(cb); err != nil {
				return err
			}
			if err := exs.write(r.withPersona(eb)); err != nil {
				return err
			}
		}
		return nil
	}
	// The changed ones are read in one run with --workers, each source's
	// output also kept in its own cache files.
	var failed []string
	if len(toRun) > 0 {
		var iopt ingest.Options
		r.cfg.Ingest.Apply(&iopt)
		out := &cacheOutput{}
		out.JSONOutput = ingest.JSONOutput{Chunks: &out.chunks, Examples: &out.examples}
		out.done = func(res ingest.SourceResult) error {
			i, ok := byName[res.Source]
			if !ok || i < next {
				return fmt.Errorf("ingest: output of %s, which was not asked for", ingest.Quote(res.Source))
			}
			delete(byName, res.Source)
			if err := emitCached(i); err != nil {
				return err
			}
			c := caches[i]
			if err := writeCache(c.path, c.stamp, out.chunks.Bytes(), out.examples.Bytes()); err != nil {
				return err
			}
			if res.Error == "" {
				r.man.Sources[res.Source] = c.stamp
			} else { // a failed source is tried again next run
				delete(r.man.Sources, res.Source)
				failed = append(failed, ingest.Quote(rel(r.cfg.dir, res.Source))+": "+ingest.Escape(res.Error))
			}
			if err := chunks.write(out.chunks.Bytes()); err != nil {
				return err
			}
			if err := exs.write(r.withPersona(out.examples.Bytes())); err != nil {
				return err
			}
			next = i + 1
			out.chunks.Reset()
			out.examples.Reset()
			return nil
		}
		if _, err := ingest.Run(ctx, toRun, iopt, out); err != nil {
			return "", err
		}
		for f := range byName {
			return "", fmt.Errorf("ingest: no output of %s", ingest.Quote(f))
		}
	}
	if err := emitCached(len(files)); err != nil {
		return "", err
	}
	redone := len(toRun)
	reused := len(files) - redone
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

// cacheOutput collects one source's output at a time; done is told when
// it is whole.
type cacheOutput struct {
	ingest.JSONOutput
	chunks, examples bytes.Buffer
	done             func(ingest.SourceResult) error
}

func (o *cacheOutput) SourceDone(r ingest.SourceResult) error { return o.done(r) }

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

// cacheExamples separates a cache file's chunk lines from its example
// lines (no JSON line starts with it).
const cacheExamples = "#tuneline-examples\n"

// writeCache puts a source's chunks and examples and the end line in one
// file at path, in place and unsynced: the end line is written last, so a
// file a crash cut short is redone. (A temporary file and a rename for
// each of two files a source made 100,000 sources take 60 s, most of it
// creating names in the cache folder.)
func writeCache(path, stamp string, chunks, examples []byte) error {
	b := make([]byte, 0, len(chunks)+len(cacheExamples)+len(examples)+len(cacheEnd)+len(stamp)+1)
	b = append(append(append(append(append(b, chunks...), cacheExamples...), examples...), cacheEnd+stamp...), '\n')
	if err := os.WriteFile(path, b, datasets.FileMode()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readCache is a cache file's chunks and examples when it ends with
// stamp's end line.
func readCache(path, stamp string) (chunks, examples []byte, ok bool) {
	b, err := os.ReadFile(path)
	end := cacheEnd + stamp + "\n"
	if err != nil || !bytes.HasSuffix(b, []byte(end)) {
		return nil, nil, false
	}
	b = b[:len(b)-len(end)]
	var sep int
	if bytes.HasPrefix(b, []byte(cacheExamples)) {
		sep = 0
	} else if sep = bytes.Index(b, []byte("\n"+cacheExamples)); sep < 0 {
		return nil, nil, false
	} else {
		sep++
	}
	chunks, examples = b[:sep], b[sep+len(cacheExamples):]
	if len(examples) > 0 && examples[len(examples)-1] != '\n' {
		return nil, nil, false
	}
	return chunks, examples, true
}

// cacheWhole tells whether the cache file at path ends as readCache
// wants, reading only its end.
func cacheWhole(path, stamp string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	end := cacheEnd + stamp + "\n"
	if err != nil || st.Size() < int64(len(end)) {
		return false
	}
	n := min(st.Size(), int64(len(end))+1)
	tail := make([]byte, n)
	if _, err := f.ReadAt(tail, st.Size()-n); err != nil {
		return false
	}
	return bytes.HasSuffix(tail, []byte(end)) && (n == int64(len(end)) || tail[0] == '\n')
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
