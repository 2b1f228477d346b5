package pipelines

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tuneline/tuneline/ingest"
	"github.com/tuneline/tuneline/internal/localollama"
	"github.com/tuneline/tuneline/llm"
	"github.com/tuneline/tuneline/persona"
)

// Options control a run.
type Options struct {
	From    string // start at this stage (earlier ones must be up to date)
	Only    string // run only this stage
	DryRun  bool
	Force   bool
	Version string
	Log     io.Writer // progress and plan
	// Verbose logs each stage's inputs and their hashes.
	Verbose bool
	// Progress, when set, is told the items done in the running stage
	// (tasks of synth, examples of curate); total is 0 when unknown.
	Progress func(stage string, done, total int)
}

// StageResult is one line of the final table.
type StageResult struct {
	Stage   string  `json:"stage"`
	Action  string  `json:"action"` // ran, skipped, planned, failed, interrupted, off
	Reason  string  `json:"reason"`
	Seconds float64 `json:"seconds"`
	Summary string  `json:"summary"`
	// Failed lists what failed while the stage went on with the rest.
	Failed []string `json:"failed,omitempty"`
	// Allowed names the setting within whose allowance Failed is
	// ("synth.max_failed 0.05"): the run is then a success.
	Allowed string `json:"allowed,omitempty"`
}

// PartialError is a run's error when every stage ran but some of their
// work failed (a damaged source): the rest is done and kept.
type PartialError struct {
	Failed []string // "stage: what: why"
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d failed (every stage ran on the rest, and its outputs are kept; fix or remove these and run again):\n  %s",
		len(e.Failed), strings.Join(e.Failed, "\n  "))
}

// Result of a run.
type Result struct {
	Stages      []StageResult `json:"stages"`
	LocalOllama string        `json:"local_ollama,omitempty"` // the models folder when the project's own server was used
	Gibberish   bool          `json:"gibberish"`
}

type runner struct {
	cfg      *Config
	opt      Options
	man      *Manifest
	build    string
	log      io.Writer
	persona  *persona.Persona
	host     string
	model    string
	local    *localollama.Server
	res      *Result
	upstream bool // an earlier stage ran in this run
	// failed is what failed in the running stage while it went on with
	// the rest (kept in its record and result).
	failed []string
	// skipped are the folder entries sourceFiles left out (not regular files).
	skipped []ingest.Skip
	// allowed names the setting that allows the running stage's failures
	// (see StageResult.Allowed).
	allowed string
	// started is how long the running stage has worked (set when it ends
	// or stops); done and total its last progress.
	started     time.Duration
	done, total int
}

// Run executes the workspace's pipeline.
func Run(ctx context.Context, cfg *Config, opt Options) (*Result, error) {
	r := &runner{cfg: cfg, opt: opt, build: cfg.Path(cfg.Build), log: opt.Log, res: &Result{}}
	if r.log == nil {
		r.log = io.Discard
	}
	for _, name := range []string{opt.From, opt.Only} {
		if _, ok := lookup(name); name != "" && !ok {
			return nil, fmt.Errorf("unknown stage %q (stages: %s)", name, strings.Join(Stages, ", "))
		}
	}
	var err error
	if r.persona, err = persona.Load(cfg.Path(cfg.Persona)); err != nil {
		return nil, err
	}
	if err := checkPersona(cfg.Path(cfg.Persona), r.persona); err != nil {
		return nil, err
	}
	if !opt.DryRun {
		// Two runs on one workspace would run every stage at once and
		// overwrite each other's outputs: the second refuses.
		unlock, err := lockWorkspace(r.build)
		if err != nil {
			return nil, err
		}
		defer unlock()
	} else if err := os.MkdirAll(r.build, 0o755); err != nil {
		return nil, err
	}
	r.loadManifest()
	defer func() {
		if r.local != nil {
			r.local.Stop()
		}
	}()
	started := opt.From == ""
	for _, st := range stages {
		if st.name == opt.From {
			started = true
		}
		if (opt.Only != "" && st.name != opt.Only) || !started {
			continue
		}
		if !st.enabled(cfg) {
			why := "switched off in tuneline.yaml"
			if st.off != "" {
				why = st.off
			}
			r.res.Stages = append(r.res.Stages, StageResult{Stage: st.name, Action: "off", Reason: why})
			continue
		}
		if err := r.stage(ctx, st); err != nil {
			if ctx.Err() != nil && errors.Is(err, context.Canceled) {
				// Ctrl-C: not a failure; say how far it got.
				why := r.interrupted()
				r.res.Stages = append(r.res.Stages, StageResult{Stage: st.name, Action: "interrupted", Reason: why, Seconds: r.started.Seconds()})
				return r.res, fmt.Errorf("stage %s %s: %w", st.name, why, err)
			}
			r.res.Stages = append(r.res.Stages, StageResult{Stage: st.name, Action: "failed", Reason: err.Error(), Seconds: r.started.Seconds()})
			if opt.DryRun {
				return r.res, fmt.Errorf("stage %s would fail: %w", st.name, err)
			}
			return r.res, fmt.Errorf("stage %s: %w (earlier stages' outputs are kept; the next run starts here)", st.name, err)
		}
	}
	if !opt.DryRun {
		if err := r.snapshot(); err != nil {
			return r.res, err
		}
		if _, err := os.Stat(r.datasetFile()); err == nil {
			if err := WriteReport(ctx, cfg, ReportPath(cfg), opt.Version); err != nil {
				return r.res, err
			}
			fmt.Fprintf(r.log, "report   %s\n", ReportPath(cfg))
		}
	}
	var failed []string
	for _, s := range r.res.Stages {
		if s.Allowed != "" {
			continue // listed, allowed and retried next run
		}
		for _, f := range s.Failed {
			failed = append(failed, s.Stage+": "+f)
		}
	}
	if len(failed) > 0 {
		return r.res, &PartialError{Failed: failed}
	}
	return r.res, nil
}

func (r *runner) stage(ctx context.Context, s *stage) error {
	st := s.name
	r.started = 0
	detail, outputs, err := r.inputs(s)
	if err != nil {
		return err
	}
	inputs, why := plan(r.man.Stages[st], detail, r.outputsNow(outputs), r.opt.Force)
	if prev := r.man.Stages[st]; why == "" && len(prev.Failed) > 0 {
		why = fmt.Sprintf("%d failed last time: trying again", len(prev.Failed))
	}
	if why == "" && r.opt.DryRun && r.upstream {
		why = "an earlier stage would run first and may change its inputs"
	}
	if why == "" {
		prev := r.man.Stages[st]
		fmt.Fprintf(r.log, "%-8s up to date (%s)\n", st, prev.Summary)
		r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "skipped", Reason: "inputs, parameters and outputs unchanged", Summary: prev.Summary})
		return nil
	}
	r.upstream = true
	if r.opt.DryRun {
		fmt.Fprintf(r.log, "%-8s would run: %s\n", st, why)
		r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "planned", Reason: why})
		return nil
	}
	if s.model {
		if err := r.modelStep(ctx); err != nil {
			return err
		}
		defer llm.ShowStatus(ctx, nil)
	}
	fmt.Fprintf(r.log, "%-8s running: %s\n", st, why)
	r.progress(st, 0, 0) // the stage's bar starts now, so that its heartbeat shows it working
	if r.opt.Verbose {
		for _, k := range sortedKeys(detail) {
			fmt.Fprintf(r.log, "         input %s = %s\n", k, detail[k])
		}
	}
	start := time.Now()
	r.failed, r.allowed, r.done, r.total = nil, "", 0, 0
	summary, err := s.run(r, ctx)
	r.started = time.Since(start)
	if err != nil {
		return err
	}
	failed := r.failed
	if err := r.record(st, inputs, detail, outputs, start, summary); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "%-8s done in %.1f s: %s\n", st, time.Since(start).Seconds(), summary)
	r.res.Stages = append(r.res.Stages, StageResult{Stage: st, Action: "ran", Reason: why, Seconds: time.Since(start).Seconds(), Summary: summary, Failed: failed, Allowed: r.allowed})
	return nil
}

// interrupted says how far the interrupted stage got.
func (r *runner) interrupted() string {
	s := fmt.Sprintf("interrupted after %.0f s", r.started.Seconds())
	if r.total > 0 {
		s += fmt.Sprintf(", %d of %d done", r.done, r.total)
	}
	return s + "; the next run resumes (finished work is kept)"
}

func (r *runner) progress(stage string, done, total int) {
	r.done, r.total = done, total
	if r.opt.Progress != nil {
		r.opt.Progress(stage, done, total)
	}
}
