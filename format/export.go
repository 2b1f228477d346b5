package format

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/setting"
)

// Splits.
const (
	SplitTrain      = "train"
	SplitValidation = "validation"
)

// Options configure Export.
type Options struct {
	Target string
	// Kind is chat, preference or auto (preference when the inputs hold
	// any preference pair; see ProbeFiles).
	Kind    string
	OutDir  string
	Split   float64 // share of examples in train
	Seed    uint64
	NearDup float64 // Jaccard threshold; 0 turns near-duplicate removal off
	// MaxTokens flags (does not drop) examples over the limit.
	MaxTokens   int
	Compression string // hf: snappy (default), zstd, gzip, none
	// ShardBytes caps the size of one Parquet shard (default 500 MB).
	ShardBytes int64
	// RowGroupBytes caps the text buffered in one Parquet row group.
	RowGroupBytes int64
	Workers       int
	Name          string   // dataset name (dataset_info.json, card)
	License       string   // hf card licence id
	LicenseName   string   // hf card: the licence's name when License is "other"
	LicenseLink   string   // hf card: where its text is when License is "other"
	Language      []string // hf card languages
	Version       string   // tool version recorded in outputs
	// BaseDir is the folder provenance paths are shown relative to (the
	// workspace; default the current folder): no absolute path of the
	// inputs reaches the files a user uploads.
	BaseDir string
	// AbsolutePaths keeps provenance paths absolute instead.
	AbsolutePaths bool
	// MemoryLimit, when set, keeps the Go runtime's soft memory limit at
	// this many bytes plus the size of the deduplication index, so that
	// memory grows with the index and not with garbage.
	MemoryLimit int64
	Progress    func(bytesRead int64)
	// RandomModel: the examples came from tuneline's tiny random-weight
	// model (random text, for trying the plumbing): the report and the hf
	// card say so, and publishing commands refuse the export unless forced.
	RandomModel bool
	// Review applies people's decisions (review.Set.Apply): examples
	// rejected are left out ("rejected_in_review"), edited ones exported
	// as edited, and the report counts each state.
	Review func(ex *datasets.Example) string

	layout int // hf: the Parquet layout, chosen from Kind and the probe
}

// Drop is one example left out of the export.
type Drop struct {
	Where  string `json:"where"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// SplitReport describes one written split.
type SplitReport struct {
	Examples int          `json:"examples"`
	Tokens   Distribution `json:"tokens_per_example"`
	// TotalTokens sums the examples' token counts.
	TotalTokens int64    `json:"total_tokens"`
	Files       []string `json:"files"`
	Bytes       int64    `json:"bytes"`
	// ArrowBytes (hf) is the split's size in Arrow's in-memory layout:
	// the card's num_bytes.
	ArrowBytes int64 `json:"arrow_bytes,omitempty"`
}

// LimitCheck is one documented limit of the target checked on the output.
type LimitCheck struct {
	Name  string `json:"name"`
	Limit int64  `json:"limit"`
	Value int64  `json:"value"`
	OK    bool   `json:"ok"`
	Note  string `json:"note,omitempty"`
	// Minimum: the value must reach the limit rather than stay under it.
	Minimum bool `json:"minimum,omitempty"`
	// Advisory checks hold for some of the target's models and not
	// others: they are reported, not failed.
	Advisory bool `json:"advisory,omitempty"`
}

// Report is export-report.json.
type Report struct {
	Tool    string   `json:"tool"`
	Target  string   `json:"format"`
	Kind    string   `json:"kind"`
	OutDir  string   `json:"out_dir"`
	Inputs  []string `json:"inputs"`
	Read    int      `json:"examples_read"`
	Written int      `json:"examples_written"`
	// Dropped counts examples left out, by reason: "invalid:<category>",
	// "exact_duplicate", "near_duplicate", "<format>:incompatible".
	Dropped      map[string]int         `json:"dropped"`
	Drops        []Drop                 `json:"drops"`
	DropsOmitted int                    `json:"drops_omitted"`
	Splits       map[string]SplitReport `json:"splits"`
	Seed         uint64                 `json:"seed"`
	SplitRatio   float64                `json:"split"`
	Dedup        DedupReport            `json:"dedup"`
	Limits       []LimitCheck           `json:"limits,omitempty"`
	Validation   Summary                `json:"validation"`
	// RandomModel: the examples came from tuneline's tiny random-weight
	// model; their text is random output, not training data.
	RandomModel bool `json:"random_model,omitempty"`
	// Review counts the examples read by their review state (accepted,
	// rejected, edited, unreviewed, changed) when decisions were applied.
	Review map[string]int `json:"review,omitempty"`
	// Adjusted counts the changes made to written examples to fit the
	// target, by what was changed ("vertex:format_moved:date").
	Adjusted map[string]int `json:"adjusted,omitempty"`
}

// DedupReport describes the deduplication that ran.
type DedupReport struct {
	NearDupThreshold float64 `json:"near_dup_threshold"`
	Bands            int     `json:"bands"`
	Rows             int     `json:"rows"`
	Shingle          string  `json:"shingle"`
	IndexBytes       int     `json:"index_bytes"`
}

// LimitsOK tells whether every target limit held.
func (r *Report) LimitsOK() bool {
	for _, l := range r.Limits {
		if !l.OK && !l.Advisory {
			return false
		}
	}
	return true
}

// sink writes the examples of one target.
type sink interface {
	write(split string, ex *datasets.Example, line []byte) error
	commit(r *Report) error
	abort()
}

type prepared struct {
	sig  Sig
	line []byte
	why  string // why the target cannot hold the example
	// adjusted says what the target's adjust changed.
	adjusted []string
}

// reserveAfter is the number of records Export reads before it sizes the
// dedup index from the share of them kept.
const reserveAfter = 8192

// Export validates, deduplicates, splits and writes files in the target
// format. Output files appear only when the whole export succeeded.
func Export(ctx context.Context, files []string, opt Options) (*Report, error) {
	var err0 error
	if opt.Split <= 0 || opt.Split > 1 {
		return nil, &setting.Error{Section: "export", Key: "split", Flag: "split", Value: fmt.Sprint(opt.Split), Problem: "must be in (0, 1]"}
	}
	if opt.NearDup < 0 || opt.NearDup >= 1 {
		return nil, &setting.Error{Section: "export", Key: "near_dup", Flag: "near-dup", Value: fmt.Sprint(opt.NearDup), Problem: "must be in [0, 1) (0 turns it off)"}
	}
	if opt.Name == "" {
		opt.Name = "tuneline"
	}
	if opt.Language, err0 = CheckLanguages(opt.Language); err0 != nil {
		return nil, err0
	}
	if opt.License, err0 = CheckLicense(opt.License); err0 != nil {
		return nil, err0
	}
	// The set of files is written into a staging folder and swapped in as
	// a whole: never a mix of this export's files and an earlier one's. The
	// folder is the export's own: one holding other files is refused
	// rather than replaced.
	if err0 = ownFolder(opt.OutDir); err0 != nil {
		return nil, err0
	}
	if err0 = inputsOutside(opt.OutDir, files); err0 != nil {
		return nil, err0
	}
	switch opt.Kind {
	case "", KindAuto, KindChat, KindPreference:
	default:
		return nil, &setting.Error{Section: "export", Key: "kind", Flag: "kind", Value: strconv.Quote(opt.Kind), Problem: fmt.Sprintf("want one of %v", Kinds)}
	}
	// The kind and the Parquet layout are chosen from the start of each
	// input (a full read would cost a third of the export); a record
	// further on that needs another starts the export again with it.
	probe, err0 := ProbeFiles(ctx, files, probeBytes)
	if err0 != nil {
		return nil, err0
	}
	for {
		rep, err := exportWith(ctx, files, opt, probe)
		var rl *relayout
		if !errors.As(err, &rl) {
			return rep, err
		}
		probe.Pairs, probe.Tools = probe.Pairs || rl.pairs, probe.Tools || rl.tools
		probe.pairTools = probe.pairTools || rl.pairTools
	}
}

// probeBytes is how much of each input ProbeFiles reads (tests shorten it).
var probeBytes int64 = 4 << 20

// relayout stops an export whose kind or layout a record showed wrong.
type relayout struct{ pairs, tools, pairTools bool }

func (r *relayout) Error() string { return "the export starts again with another kind or layout" }

// exportWith is Export with the kind and layout the probe says.
func exportWith(ctx context.Context, files []string, opt Options, probe Probe) (*Report, error) {
	stage, err0 := datasets.NewStagedDir(opt.OutDir)
	if err0 != nil {
		return nil, err0
	}
	defer stage.Abort()
	finalDir := opt.OutDir
	opt.OutDir = stage.Dir
	autoKind := opt.Kind == "" || opt.Kind == KindAuto
	reread := !slices.Contains(files, "-")
	if autoKind {
		opt.Kind = KindChat
		if probe.Pairs {
			opt.Kind = KindPreference
		}
	}
	pairs := opt.Kind == KindPreference
	opt.layout = datasets.LayoutChat
	switch {
	case pairs && probe.pairTools:
		opt.layout = datasets.LayoutPairsTools
	case pairs:
		opt.layout = datasets.LayoutPairs
	case probe.Tools:
		opt.layout = datasets.LayoutTools
	}
	show := opt.shower()
	t, err := Lookup(opt.Target)
	if err != nil {
		return nil, err
	}
	s, err := t.newSink(opt)
	if err != nil {
		return nil, err
	}
	defer s.abort()

	params := NewDedupParams(opt.NearDup)
	dd := NewDeduper(params)
	k := NewChecker(opt.MaxTokens)
	tally := NewTally(opt.MaxTokens)
	tally.S.Files = append(tally.S.Files, files...)
	rep := &Report{Tool: "tuneline " + opt.Version, Target: opt.Target, Kind: opt.Kind, OutDir: show(finalDir), Inputs: slices.Clone(files),
		Dropped: map[string]int{}, Drops: []Drop{}, Splits: map[string]SplitReport{},
		Seed: opt.Seed, SplitRatio: opt.Split, RandomModel: opt.RandomModel,
		Dedup: DedupReport{NearDupThreshold: opt.NearDup, Bands: params.Bands, Rows: params.Rows, Shingle: "word 2-grams of user and assistant text"}}
	if opt.NearDup == 0 {
		rep.Dedup.Bands, rep.Dedup.Rows = 0, 0
	}
	fileIdx := map[string]int{}
	lastFile, lastIdx := "", 0 // the file of the last record, looked up once
	for i, f := range files {
		if _, ok := fileIdx[f]; !ok {
			fileIdx[f] = i
		}
	}
	drop := func(c *Checked, reason, detail string) {
		rep.Dropped[reason]++
		if len(rep.Drops) < 1000 {
			rep.Drops = append(rep.Drops, Drop{Where: c.Record.Pos.String(), Reason: reason, Detail: detail})
		} else {
			rep.DropsOmitted++
		}
	}
	toks := map[string]*Histogram{}
	scan := ScanOptions{MaxTokens: opt.MaxTokens, Workers: opt.Workers, Progress: opt.Progress, Norm: true, Review: opt.Review,
		Prepare: func(c *Checked, w *WorkerState) {
			if !c.Valid {
				return
			}
			p := &prepared{}
			ex := &c.Record.Example
			p.sig = Fingerprint(ex.KeyMessages(), &w.Norm, &params)
			if t.adjust != nil {
				p.adjusted = t.adjust(ex)
			}
			if t.Parquet() {
				p.why = t.fits(ex, opt.layout)
			} else {
				p.line, p.why = encodeWith(t, ex, pairs)
			}
			if p.why == "" && t.MaxExampleTokens > 0 && c.Tokens > t.MaxExampleTokens {
				p.why = fmt.Sprintf("%s allows at most %d tokens an example; this one has about %d", t.Name, t.MaxExampleTokens, c.Tokens)
			}
			c.prep = p
		}}
	// Size the dedup index once, from the input's size and the first
	// records, instead of growing it by doubling (each growth moves every
	// entry, a cache miss each: a third of the index's time).
	var total int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() && !strings.HasSuffix(f, ".gz") {
			total += st.Size()
		}
	}
	var readBytes, readBatches atomic.Int64
	progress := scan.Progress
	scan.Progress = func(b int64) {
		readBytes.Store(b)
		readBatches.Add(1)
		if progress != nil {
			progress(b)
		}
	}
	reserved := false
	err = Scan(ctx, files, scan, func(c *Checked) error {
		if c.Review != "" {
			if rep.Review == nil {
				rep.Review = map[string]int{}
			}
			rep.Review[c.Review]++
			if c.Review == "rejected" {
				rep.Read++
				drop(c, "rejected_in_review", "")
				return nil
			}
		}
		k.Seen(c)
		tally.Add(c)
		rep.Read++
		if !reserved && rep.Read == reserveAfter {
			reserved = true
			if b := readBytes.Load(); b > 0 && total > 0 {
				records := float64(readBatches.Load()*batchSize) / float64(b) * float64(total)
				dd.Reserve(int(records * float64(rep.Written) / float64(rep.Read)))
			}
		}
		if !c.Valid {
			cat := ""
			for _, is := range c.Issues {
				if is.Severity == SevError {
					cat = is.Category
					break
				}
			}
			drop(c, "invalid:"+cat, firstError(c))
			return nil
		}
		p := c.prep
		if ex := &c.Record.Example; p.why != "" && reread {
			// The start of the inputs chose the kind or layout; this
			// record needs another: start again with it.
			if autoKind && !pairs && ex.IsPair() {
				return &relayout{pairs: true}
			}
			if t.Parquet() && opt.layout == datasets.LayoutChat && ex.HasTools() {
				return &relayout{tools: true}
			}
			if t.Parquet() && opt.layout == datasets.LayoutPairs && ex.HasTools() {
				return &relayout{pairTools: true}
			}
		}
		if p.why != "" {
			drop(c, opt.Target+":incompatible", p.why)
			return nil
		}
		if c.Record.Pos.File != lastFile {
			lastFile, lastIdx = c.Record.Pos.File, fileIdx[c.Record.Pos.File]
		}
		v, f, l, err := dd.Add(&p.sig, lastIdx, c.Record.Pos.Line)
		if err != nil {
			return err
		}
		switch v {
		case ExactDup:
			drop(c, "exact_duplicate", "repeats "+datasets.Pos{File: files[f], Line: l}.String())
			return nil
		case NearDup:
			drop(c, "near_duplicate", "near duplicate of "+datasets.Pos{File: files[f], Line: l}.String())
			return nil
		}
		split := SplitTrain
		if splitHash(p.sig.Exact, opt.Seed) >= opt.Split {
			split = SplitValidation
		}
		ex := &c.Record.Example
		ex.EnsureID()
		for _, a := range p.adjusted {
			if rep.Adjusted == nil {
				rep.Adjusted = map[string]int{}
			}
			rep.Adjusted[a]++
		}
		if err := s.write(split, ex, p.line); err != nil {
			return err
		}
		if toks[split] == nil {
			toks[split] = &Histogram{}
		}
		toks[split].Add(c.Tokens)
		if opt.MemoryLimit > 0 && rep.Written%65536 == 0 {
			debug.SetMemoryLimit(opt.MemoryLimit + int64(dd.IndexBytes()))
		}
		rep.Written++
		c.Record = datasets.Record{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Validation = tally.Finish()
	rep.Dedup.IndexBytes = dd.IndexBytes()
	for split, t := range toks {
		sr := SplitReport{Examples: t.N(), TotalTokens: int64(t.sum)}
		sr.Tokens = t.Distribution()
		rep.Splits[split] = sr
	}
	if err := s.commit(rep); err != nil {
		return nil, err
	}
	if t.limits != nil {
		t.limits(rep)
	}
	// The report goes next to the data a user uploads: the inputs' paths in
	// it are shown relative (see Options.AbsolutePaths).
	for i, f := range rep.Inputs {
		rep.Inputs[i] = show(f)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	for _, f := range files {
		if sf := show(f); sf != f {
			b = bytes.ReplaceAll(b, jsonText(f), jsonText(sf))
		}
	}
	if err := datasets.WriteFileAtomic(filepath.Join(opt.OutDir, "export-report.json"), append(b, '\n')); err != nil {
		return nil, err
	}
	if err := stage.Commit(); err != nil {
		return nil, err
	}
	json.Unmarshal(b, rep) // the caller gets what the file says
	return rep, nil
}

// ownFolder checks that dir is new, empty or an earlier export (it has
// export-report.json): the export replaces the folder whole.
func ownFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export folder %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "export-report.json")); err == nil {
		return nil
	}
	return fmt.Errorf("the export folder %s holds files that are not an earlier export (%s, ...): an export replaces its folder whole; give a new or empty folder", dir, entries[0].Name())
}

// inputsOutside refuses an export folder that is or holds one of the
// export's inputs (links followed): the swap would delete the input it is
// still reading ("export --out export export/train.jsonl" replaced it).
func inputsOutside(dir string, files []string) error {
	out, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil // a folder that does not exist holds nothing
	}
	if out, err = filepath.Abs(out); err != nil {
		return nil
	}
	for _, f := range files {
		in, err := filepath.EvalSymlinks(f)
		if err != nil {
			continue // stdin, a URL, a bucket object or a missing file: not in the folder
		}
		if in, err = filepath.Abs(in); err != nil {
			continue
		}
		if rel, err := filepath.Rel(out, in); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return &setting.Error{Section: "export", Key: "out", Flag: "out", Value: strconv.Quote(dir),
				Problem: fmt.Sprintf("holds the input %s: an export replaces its folder whole, which would delete it; give another folder or move the input out", f)}
		}
	}
	return nil
}

func firstError(c *Checked) string {
	for _, is := range c.Issues {
		if is.Severity == SevError {
			return is.Reason
		}
	}
	return ""
}

// splitHash maps an example's content hash and the seed to [0, 1): the split
// depends on the content, not on the order of the input.
func splitHash(exact, seed uint64) float64 {
	return float64(mix64(exact^mix64(seed+0x632be59bd9b4e019))>>11) / (1 << 53)
}

// SizeCategory is the Hub's size_categories value for n examples.
func SizeCategory(n int) string {
	switch {
	case n < 1000:
		return "n<1K"
	case n < 10_000:
		return "1K<n<10K"
	case n < 100_000:
		return "10K<n<100K"
	case n < 1_000_000:
		return "100K<n<1M"
	case n < 10_000_000:
		return "1M<n<10M"
	}
	return fmt.Sprintf("%dM<n<%dM", pow10(n/1_000_000), 10*pow10(n/1_000_000))
}

func pow10(n int) int { return int(math.Pow10(int(math.Log10(float64(n))))) }
