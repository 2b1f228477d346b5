// Package report renders a workspace's datasets as one self-contained HTML
// page: token-length histogram, examples per source, score distributions,
// the drop funnel and source coverage. The data is embedded as JSON and
// drawn as SVG by a small inline script; nothing is fetched from a network.
package report

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

// Inputs are the files a report is built from.
type Inputs struct {
	Title       string
	Dataset     string   // curated (or synthesised) examples
	More        []string // more examples counted with Dataset (the chat logs')
	Synth       string   // before curation, for the low-score count
	Chunks      string
	ExportDir   string // one export folder holding export-report.json
	Eval        string // eval.json written by tuneline eval / run (optional)
	GeneratedBy string
	// TinyModel says the examples came from tuneline's tiny random-weight
	// model (no server had the configured model): the page says loudly
	// that their text is gibberish.
	TinyModel bool
	// Failed is what the build's stages failed on and went on without
	// (a damaged source, generation tasks within synth.max_failed, examples
	// the judge could not score): left out of this dataset, tried again by
	// the next run.
	Failed []Failed
}

// Failed is one thing a stage failed on.
type Failed struct {
	Stage string `json:"stage"`
	What  string `json:"what"` // what failed and why
}

// Data is what the page shows (embedded as JSON).
type Data struct {
	Title         string                    `json:"title"`
	Generated     string                    `json:"generated"`
	TinyModel     bool                      `json:"tiny_model"`
	Examples      int                       `json:"examples"`
	TokenBins     []Bin                     `json:"token_bins"`
	PerSource     []Bar                     `json:"per_source"`
	Scores        map[string][]Bar          `json:"scores"`
	ScoreMeans    map[string]float64        `json:"score_means"`
	Funnel        []Bar                     `json:"funnel"`
	Coverage      []datasets.SourceCoverage `json:"coverage"`
	QuestionTypes []Bar                     `json:"question_types"`
	Eval          []EvalRow                 `json:"eval,omitempty"`
	Failed        []Failed                  `json:"failed,omitempty"`
}

// EvalRow is one evaluated model's means.
type EvalRow struct {
	Model       string  `json:"model"`
	Persona     float64 `json:"persona"`
	PersonaCI   float64 `json:"persona_ci"`
	Accuracy    float64 `json:"accuracy"`
	AccuracyCI  float64 `json:"accuracy_ci"`
	Grounding   float64 `json:"grounding"`
	GroundingCI float64 `json:"grounding_ci"`
	Broke       float64 `json:"broke_character"`
	Refusals    float64 `json:"refusals"`
	Latency     float64 `json:"latency"`
}

// Bin is a histogram bin.
type Bin struct {
	From  int `json:"from"`
	To    int `json:"to"`
	Count int `json:"count"`
}

// Bar is a labelled count.
type Bar struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

func bars(m map[string]int) []Bar {
	var out []Bar
	for k, v := range m {
		out = append(out, Bar{k, float64(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// Collect reads the inputs.
func Collect(ctx context.Context, in Inputs) (*Data, error) {
	// Token lengths (cookbook counting), in the same pass as the stats.
	tc := tokens.NewCounter()
	lens := map[int]int{} // tokens -> examples
	datasetN := 0         // of Dataset alone, without More
	st, err := datasets.StatsFiles(ctx, append([]string{in.Dataset}, in.More...), in.Chunks, func(rec *datasets.Record) {
		lens[exampleTokens(rec, tc)]++
		if rec.Pos.File == in.Dataset {
			datasetN++
		}
	})
	if err != nil {
		return nil, err
	}
	d := &Data{Title: in.Title, Generated: time.Now().UTC().Format(time.RFC3339) + " by " + in.GeneratedBy, TinyModel: in.TinyModel, Examples: st.Examples,
		Scores: map[string][]Bar{}, ScoreMeans: st.ScoreMeans, Coverage: st.Coverage, QuestionTypes: bars(st.Questions), Failed: in.Failed}
	for src, n := range st.PerSource {
		d.PerSource = append(d.PerSource, Bar{filepath.Base(src), float64(n)})
	}
	sort.Slice(d.PerSource, func(i, j int) bool { return d.PerSource[i].Label < d.PerSource[j].Label })
	for k, m := range st.Scores {
		for _, b := range datasets.ScoreBins(m) { // half-point bins, labelled with their range
			d.Scores[k] = append(d.Scores[k], Bar{datasets.ScoreBinLabel(b), float64(m[b])})
		}
	}
	if len(lens) > 0 {
		minLen, maxLen := math.MaxInt, 0
		for v := range lens {
			minLen, maxLen = min(minLen, v), max(maxLen, v)
		}
		width := max(1, (maxLen-minLen+20)/20)
		bins := make([]Bin, (maxLen-minLen)/width+1)
		for i := range bins {
			bins[i] = Bin{From: minLen + i*width, To: minLen + (i+1)*width - 1}
		}
		for v, n := range lens {
			bins[(v-minLen)/width].Count += n
		}
		d.TokenBins = bins
	}
	if in.Eval != "" {
		var er struct {
			Summaries []struct {
				Target                       string
				Persona, Accuracy, Grounding struct{ Mean, CI95 float64 }
				BrokeCharacter               float64                `json:"broke_character_rate"`
				RefusalRate                  float64                `json:"refusal_rate"`
				Latency                      struct{ Mean float64 } `json:"latency_seconds"`
			}
		}
		if b, err := os.ReadFile(in.Eval); err == nil && json.Unmarshal(b, &er) == nil {
			for _, s := range er.Summaries {
				d.Eval = append(d.Eval, EvalRow{s.Target, s.Persona.Mean, s.Persona.CI95, s.Accuracy.Mean, s.Accuracy.CI95, s.Grounding.Mean, s.Grounding.CI95, s.BrokeCharacter, s.RefusalRate, s.Latency.Mean})
			}
		}
	}
	// funnel
	synthN := 0
	if in.Synth != "" {
		for rec, err := range datasets.ReadFile(ctx, in.Synth) {
			if err == nil && rec.Err == nil {
				synthN++
			}
		}
	}
	// The chat logs' examples join at the export: they are not generated
	// or judged, so they are counted where they join.
	if synthN > 0 {
		d.Funnel = append(d.Funnel, Bar{"generated", float64(synthN)}, Bar{"after judge (low score dropped)", float64(datasetN)})
	} else {
		d.Funnel = append(d.Funnel, Bar{"generated", float64(datasetN)})
	}
	if more := st.Examples - datasetN; more > 0 {
		d.Funnel = append(d.Funnel, Bar{fmt.Sprintf("with the chat logs' %d examples", more), float64(st.Examples)})
	}
	if in.ExportDir != "" {
		if b, err := os.ReadFile(filepath.Join(in.ExportDir, "export-report.json")); err == nil {
			var rep struct { // what export-report.json says of the examples read
				Read    int            `json:"examples_read"`
				Dropped map[string]int `json:"dropped"`
				Review  map[string]int `json:"review"` // tuneline review's states
			}
			if json.Unmarshal(b, &rep) == nil {
				inv, ex, near := 0, rep.Dropped["exact_duplicate"], rep.Dropped["near_duplicate"]
				for k, v := range rep.Dropped {
					if strings.HasPrefix(k, "invalid:") || strings.HasSuffix(k, ":incompatible") {
						inv += v
					}
				}
				read := rep.Read
				d.Funnel = append(d.Funnel, Bar{"read by export", float64(read)})
				// People's decisions (tuneline review) apply before the checks.
				if rep.Review != nil {
					rj := rep.Dropped["rejected_in_review"]
					read -= rj
					d.Funnel = append(d.Funnel, Bar{fmt.Sprintf("after review (%d rejected, %d edited, %d accepted)", rj, rep.Review["edited"], rep.Review["accepted"]), float64(read)})
				}
				d.Funnel = append(d.Funnel, Bar{"valid", float64(read - inv)},
					Bar{"no exact duplicates", float64(read - inv - ex)}, Bar{"no near duplicates (written)", float64(read - inv - ex - near)})
			}
		}
	}
	return d, nil
}

// exampleTokens counts an example as export and validate do (OpenAI's
// cookbook): each message's role and content, the reply's primer, the
// tools' JSON; a record that did not read or has no messages counts 0.
func exampleTokens(rec *datasets.Record, tc *tokens.Counter) int {
	if rec.Err != nil || len(rec.Example.Messages) == 0 {
		return 0
	}
	n := tokens.ReplyPrimer
	for _, m := range rec.Example.KeyMessages() {
		n += tc.Message(m.Role, tc.Count(m.Content))
	}
	if t := rec.Example.Tools; t != "" {
		n += tc.Count(string(t))
	}
	return n
}

// Write renders the page.
func Write(w io.Writer, d *Data) error {
	js, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return page.Execute(w, map[string]any{"Title": d.Title, "TinyModel": d.TinyModel, "Data": template.JS(js)})
}

// WriteFile renders the page atomically.
func WriteFile(path string, d *Data) error {
	f, err := datasets.CreateAtomic(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := Write(f, d); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return f.Commit()
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} — tuneline report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.6em}h2{font-size:1.15em;margin-top:2em}
.chart{border:1px solid #ddd;padding:8px;border-radius:6px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;font-size:13px}
.muted{color:#777}
</style></head><body>
<h1>{{.Title}}</h1>
{{if .TinyModel}}<div id="gibberish" style="border:2px solid #c00;background:#fee;padding:10px;border-radius:6px;font-weight:bold">
These examples were generated by tuneline's tiny random-weight test model, because no Ollama server had the
configured model: their text, scores and evaluation are gibberish. They show that the pipeline works, not what
your data would be. Set ollama.host and ollama.model in tuneline.yaml (or OLLAMA_HOST) to a real model and run again.
</div>{{end}}
<p class="muted" id="meta"></p>
<h2>Tokens per example</h2><div class="chart" id="tokens"></div>
<h2>Examples per source</h2><div class="chart" id="sources"></div>
<h2>Question types</h2><div class="chart" id="qtypes"></div>
<h2>Score distributions</h2><div id="scores"></div>
<h2>From generation to dataset</h2><div class="chart" id="funnel"></div>
<h2>Evaluation: built models versus the prompt-engineered baseline</h2><div class="chart" id="eval"></div>
<table id="evaltable"><thead><tr><th>model</th><th>persona</th><th>accuracy</th><th>grounding</th><th>broke character</th><th>refusals</th><th>latency s</th></tr></thead><tbody></tbody></table>
<div id="failedbox" hidden><h2>Left out: what failed</h2>
<p class="muted">The stages went on without these (a damaged source; generation tasks within synth.max_failed; examples the judge could not score); the next run tries them again.</p>
<table id="failed"><thead><tr><th>stage</th><th>what failed</th></tr></thead><tbody></tbody></table></div>
<h2>Source coverage</h2><table id="coverage"><thead><tr><th>source</th><th>chunks</th><th>with examples</th><th>examples</th><th>no examples from</th></tr></thead><tbody></tbody></table>
<script>
const D = {{.Data}};
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent) { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (parent) parent.appendChild(e); return e; }
function barChart(id, items, color) {
  const box = document.getElementById(id);
  if (!items || !items.length) { box.textContent = "no data"; box.dataset.drawn = "0"; return; }
  const W = 900, rowH = 22, H = items.length * rowH + 10, left = 230;
  const svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H}, box);
  const max = Math.max(...items.map(i => i.value), 1);
  let n = 0;
  items.forEach((it, i) => {
    const y = 5 + i * rowH, w = Math.max(1, (W - left - 60) * it.value / max);
    const t = el("text", {x: left - 6, y: y + 15, "text-anchor": "end", "font-size": 12}, svg); t.textContent = it.label;
    el("rect", {x: left, y: y + 3, width: w, height: rowH - 6, fill: color, class: "bar"}, svg);
    const v = el("text", {x: left + w + 4, y: y + 15, "font-size": 12}, svg); v.textContent = Math.round(it.value * 100) / 100;
    n++;
  });
  box.dataset.drawn = String(n);
}
document.getElementById("meta").textContent = D.examples + " examples · generated " + D.generated;
barChart("tokens", (D.token_bins || []).map(b => ({label: b.from + "–" + b.to, value: b.count})), "#4e79a7");
barChart("sources", D.per_source, "#59a14f");
barChart("qtypes", D.question_types, "#edc948");
const sc = document.getElementById("scores");
Object.keys(D.scores || {}).sort().forEach(k => {
  const h = document.createElement("h3"); h.textContent = k + " (mean " + (D.score_means[k] || 0).toFixed(2) + ")"; sc.appendChild(h);
  const d = document.createElement("div"); d.className = "chart"; d.id = "score-" + k; sc.appendChild(d);
  barChart(d.id, D.scores[k], "#f28e2b");
});
sc.dataset.drawn = String(Object.keys(D.scores || {}).length);
barChart("funnel", D.funnel, "#e15759");
const tb = document.querySelector("#coverage tbody");
(D.coverage || []).forEach(c => {
  const tr = document.createElement("tr");
  [c.source, c.chunks, c.chunks_with_examples, c.examples, (c.uncovered || []).join(", ")].forEach(v => { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
  tb.appendChild(tr);
});
const fb = document.querySelector("#failed tbody");
(D.failed || []).forEach(f => {
  const tr = document.createElement("tr");
  [f.stage, f.what].forEach(v => { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
  fb.appendChild(tr);
});
document.getElementById("failedbox").hidden = !(D.failed || []).length;
const ev = [];
(D.eval || []).forEach(e => { ev.push({label: e.model + " persona", value: e.persona}, {label: e.model + " accuracy", value: e.accuracy}, {label: e.model + " grounding", value: e.grounding}); });
barChart("eval", ev, "#76b7b2");
const et = document.querySelector("#evaltable tbody");
(D.eval || []).forEach(e => {
  const tr = document.createElement("tr");
  [e.model, e.persona.toFixed(2) + " ± " + e.persona_ci.toFixed(2), e.accuracy.toFixed(2) + " ± " + e.accuracy_ci.toFixed(2),
   e.grounding.toFixed(2) + " ± " + e.grounding_ci.toFixed(2), Math.round(100 * e.broke_character) + "%", Math.round(100 * e.refusals) + "%", e.latency.toFixed(2)]
    .forEach(v => { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
  et.appendChild(tr);
});
document.body.dataset.rendered = "yes";
</script></body></html>
`))
