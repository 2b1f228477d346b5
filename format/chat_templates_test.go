package format

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/testenv"
)

// JinjaVersion is the release of npm @huggingface/jinja (the Hub's own
// JavaScript implementation of the Jinja subset chat templates use) the
// exports are rendered with.
const JinjaVersion = "0.5.13"

// chatTemplates are the models' own tool-calling templates
// (testdata/chat_templates/SOURCE.txt): file, and the raise_exception
// messages that are the model's rule rather than a fault of the data.
var chatTemplates = []struct {
	name, file string
}{
	{"llama-3.1", "llama-3.1-tool.jinja"},
	{"qwen2.5", "qwen2.5-tool.jinja"},
	{"mistral-nemo", "mistral-nemo-tool.jinja"},
}

// renderScript renders each row of a JSONL file (messages, tools) with each
// template, after the steps a trainer takes between the dataset and
// apply_chat_template, and prints one JSON line per row and template:
// {row, template, text} or {row, template, error}.
//
// The steps, ported because the Python trainers cannot run here:
//   - null fields are dropped, recursively: an Arrow/Parquet row gives every
//     message every field (tool_calls None on a plain message, and the Llama
//     template takes any message with a tool_calls key for a call). Axolotl's
//     ChatTemplateStrategy.tokenize_prompt calls remove_none_values first
//     (src/axolotl/prompt_strategies/chat_template.py, commit 01f6a5c).
//   - tools given as JSON text are parsed (TRL's tokenize_fn, see trlTools).
//   - a tool call's arguments given as JSON text are parsed: the templates
//     write arguments with tojson, so a string would be written as a quoted
//     string; Axolotl's transform_message json.loads them (same file).
//     RAW=1 skips this step, for the test's own check that a string shows.
//   - for Mistral's template only, call ids become 9 letters and digits
//     (call and result alike): the template refuses other ids, and no
//     OpenAI-shaped data has them.
const renderScript = `
const fs = require('fs');
const { Template } = require(process.argv[2] + '/node_modules/@huggingface/jinja');
const templates = JSON.parse(process.argv[4]);
const raw = process.env.RAW === '1';
const dropNulls = v => {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) o[k] = dropNulls(x);
    return o;
  }
  return v;
};
const compiled = templates.map(t => [t.name, new Template(fs.readFileSync(t.path, 'utf8'))]);
const lines = fs.readFileSync(process.argv[3], 'utf8').split('\n').filter(Boolean);
lines.forEach((line, i) => {
  const row = dropNulls(JSON.parse(line));
  let tools = row.tools;
  if (typeof tools === 'string') tools = JSON.parse(tools);
  for (const m of row.messages) for (const c of (m.tool_calls || [])) {
    if (!raw && typeof c.function.arguments === 'string') c.function.arguments = JSON.parse(c.function.arguments);
  }
  for (const [name, tmpl] of compiled) {
    let messages = row.messages;
    if (name.startsWith('mistral')) {
      const ids = {};
      const id = x => ids[x] || (ids[x] = String(Object.keys(ids).length).padStart(9, 'a'));
      messages = JSON.parse(JSON.stringify(messages));
      for (const m of messages) {
        for (const c of (m.tool_calls || [])) c.id = id(c.id || '');
        if (m.role === 'tool') m.tool_call_id = id(m.tool_call_id || '');
      }
    }
    const out = { row: i, template: name };
    try {
      out.text = tmpl.render({ messages, tools, bos_token: '<s>', eos_token: '</s>', add_generation_prompt: !!row.add_generation_prompt });
    } catch (e) {
      out.error = String(e.message || e);
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
});
`

// templateRow is one conversation as a trainer reads it from an export.
type templateRow struct {
	Messages json.RawMessage `json:"messages"`
	Tools    any             `json:"tools"` // JSON text (hf), a list (openai) or null
	// AddGenerationPrompt: render a prompt for the model to go on from.
	AddGenerationPrompt bool `json:"add_generation_prompt,omitempty"`
}

// rendered is one row rendered with one template.
type rendered struct {
	Row      int    `json:"row"`
	Template string `json:"template"`
	Text     string `json:"text"`
	Error    string `json:"error"`
}

func renderRows(t *testing.T, jinja string, rows []templateRow, raw bool) []rendered {
	t.Helper()
	in := filepath.Join(t.TempDir(), "rows.jsonl")
	var b strings.Builder
	for _, r := range rows {
		j, _ := json.Marshal(r)
		b.Write(append(j, '\n'))
	}
	os.WriteFile(in, []byte(b.String()), 0o644)
	var tmpls []map[string]string
	for _, c := range chatTemplates {
		p, _ := filepath.Abs(filepath.Join("testdata", "chat_templates", c.file))
		tmpls = append(tmpls, map[string]string{"name": c.name, "path": p})
	}
	tj, _ := json.Marshal(tmpls)
	env := []string{"RAW=0"}
	if raw {
		env = []string{"RAW=1"}
	}
	out := testenv.Node(t, renderScript, env, jinja, in, string(tj))
	var res []rendered
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var r rendered
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	if len(res) != len(rows)*len(chatTemplates) {
		t.Fatalf("%d renderings of %d rows", len(res), len(rows))
	}
	return res
}

// wantCall is a tool call as the data holds it: the name and the arguments
// as a JSON value.
type wantCall struct {
	Name string
	Args any
}

type rowFacts struct {
	calls     []wantCall // in order
	parallel  bool       // a message with more than one call
	alternate bool       // user and assistant alternate (calls and results aside), user first
	users     []string
	tools     []string // declared function names
}

func factsOf(t *testing.T, r templateRow) rowFacts {
	var msgs []struct {
		Role      string  `json:"role"`
		Content   *string `json:"content"`
		ToolCalls []struct {
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	}
	if err := json.Unmarshal(r.Messages, &msgs); err != nil {
		t.Fatal(err)
	}
	f := rowFacts{alternate: true}
	n := 0
	for i, m := range msgs {
		if len(m.ToolCalls) > 1 {
			f.parallel = true
		}
		for _, c := range m.ToolCalls {
			var args any
			if err := json.Unmarshal([]byte(c.Function.Arguments), &args); err != nil {
				t.Fatalf("arguments %q: %v", c.Function.Arguments, err)
			}
			f.calls = append(f.calls, wantCall{c.Function.Name, args})
		}
		if m.Role == "user" && m.Content != nil {
			f.users = append(f.users, strings.TrimSpace(*m.Content))
		}
		if m.Role == "tool" || len(m.ToolCalls) > 0 || (i == 0 && m.Role == "system") {
			continue
		}
		if (m.Role == "user") != (n%2 == 0) {
			f.alternate = false
		}
		n++
	}
	var tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	switch v := r.Tools.(type) {
	case string:
		json.Unmarshal([]byte(v), &tools)
	case []any:
		b, _ := json.Marshal(v)
		json.Unmarshal(b, &tools)
	}
	for _, x := range tools {
		f.tools = append(f.tools, x.Function.Name)
	}
	return f
}

var (
	llamaCall   = regexp.MustCompile(`<\|start_header_id\|>assistant<\|end_header_id\|>\n\n(\{"name": .*?)<\|eot_id\|>`)
	qwenCall    = regexp.MustCompile(`(?s)<tool_call>\n(.*?)\n</tool_call>`)
	mistralCall = regexp.MustCompile(`(?s)\[TOOL_CALLS\](\[.*?\])</s>`)
)

// callsIn reads the tool calls back out of a rendered text, in the shape
// each model is trained to write them: a name and arguments that must be a
// JSON object (a string there means the arguments went in as text).
func callsIn(template, text string) ([]wantCall, error) {
	var out []wantCall
	add := func(s, argsKey string) error {
		var c map[string]any
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return fmt.Errorf("a rendered call is not JSON: %s: %v", s, err)
		}
		args, ok := c[argsKey].(map[string]any)
		if !ok {
			return fmt.Errorf("%s of a rendered call is %T, not a JSON object: %s", argsKey, c[argsKey], s)
		}
		name, _ := c["name"].(string)
		out = append(out, wantCall{name, args})
		return nil
	}
	switch template {
	case "llama-3.1":
		for _, m := range llamaCall.FindAllStringSubmatch(text, -1) {
			if err := add(m[1], "parameters"); err != nil {
				return nil, err
			}
		}
	case "qwen2.5":
		for _, m := range qwenCall.FindAllStringSubmatch(text, -1) {
			if m[1] == `{"name": <function-name>, "arguments": <args-json-object>}` {
				continue // the system prompt's instructions
			}
			if err := add(m[1], "arguments"); err != nil {
				return nil, err
			}
		}
	case "mistral-nemo":
		for _, m := range mistralCall.FindAllStringSubmatch(text, -1) {
			var list []json.RawMessage
			if err := json.Unmarshal([]byte(m[1]), &list); err != nil {
				return nil, fmt.Errorf("rendered calls are not a JSON list: %s: %v", m[1], err)
			}
			for _, c := range list {
				if err := add(string(c), "arguments"); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// checkRendered compares one rendering with what the row holds; it says
// why the rendering is wrong, or "" (and whether the template refused the
// row by its model's own rule).
func checkRendered(r rendered, f rowFacts) (problem string, refused bool) {
	if r.Error != "" {
		switch {
		case r.Template == "llama-3.1" && f.parallel && r.Error == "This model only supports single tool-calls at once!":
			return "", true
		case r.Template == "mistral-nemo" && !f.alternate && strings.HasPrefix(r.Error, "After the optional system message, conversation roles must alternate"):
			return "", true
		}
		return "the template failed: " + r.Error, false
	}
	got, err := callsIn(r.Template, r.Text)
	if err != nil {
		return err.Error(), false
	}
	if len(got) != len(f.calls) {
		return fmt.Sprintf("%d tool calls rendered, the row holds %d", len(got), len(f.calls)), false
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], f.calls[i]) {
			return fmt.Sprintf("call %d rendered as %v, the row holds %v", i, got[i], f.calls[i]), false
		}
	}
	for _, u := range f.users {
		if !strings.Contains(r.Text, u) {
			return fmt.Sprintf("user message %q missing", u), false
		}
	}
	for _, name := range f.tools {
		if !strings.Contains(r.Text, `"name": "`+name+`"`) {
			return fmt.Sprintf("declared tool %s missing", name), false
		}
	}
	return "", false
}

// The glaive demo, the OpenAI cookbook sample and the OpenAI-shape tool
// lines, exported to hf (read back through DuckDB, as Arrow hands them on:
// null fields, tools as JSON text) and to openai (JSONL), render through
// Llama 3.1's, Qwen2.5's and Mistral's own tool-calling chat templates
// with every tool call written as each model writes one (its arguments a
// JSON object equal to the data's), every user message and declared tool
// in the text. A template may refuse a row only by its model's rule: Llama
// 3.1 takes one call a turn, Mistral wants user and assistant to
// alternate. The same rows with their arguments left as text fail the
// check, so that an export shape the templates cannot read would.
func TestExportsRenderThroughChatTemplates(t *testing.T) {
	jinja := testenv.NPM(t, "@huggingface/jinja", JinjaVersion)
	inputs := []string{corpora + "llama-factory/glaive_toolcall_en_demo.json", corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl", filepath.Join("testdata", "openai_tools.jsonl")}

	hfDir, oaDir := t.TempDir(), t.TempDir()
	if _, err := Export(context.Background(), inputs, Options{Target: TargetHF, OutDir: hfDir, Split: 1, Seed: 1, NearDup: 0.8}); err != nil {
		t.Fatal(err)
	}
	if _, err := Export(context.Background(), inputs, Options{Target: TargetOpenAI, OutDir: oaDir, Split: 1, Seed: 1, NearDup: 0.8}); err != nil {
		t.Fatal(err)
	}
	var rows []templateRow
	var from []string
	for _, m := range testenv.MustDuckDB(t, fmt.Sprintf(`SELECT to_json(messages)::VARCHAR AS messages, tools FROM read_parquet('%s/data/*.parquet')`, hfDir)) {
		rows = append(rows, templateRow{Messages: json.RawMessage(m["messages"].(string)), Tools: m["tools"]})
		from = append(from, "hf")
	}
	b, err := os.ReadFile(filepath.Join(oaDir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r templateRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
		from = append(from, "openai")
	}

	facts := make([]rowFacts, len(rows))
	withCalls := map[string]int{}
	for i, r := range rows {
		facts[i] = factsOf(t, r)
		if len(facts[i].calls) > 0 {
			withCalls[from[i]]++
		}
	}
	if withCalls["hf"] < 100 || withCalls["openai"] < 100 {
		t.Fatalf("rows with tool calls: %v, want the glaive demo's in both exports", withCalls)
	}

	ok, refused, bad := map[string]int{}, map[string]int{}, 0
	for _, r := range renderRows(t, jinja, rows, false) {
		problem, ref := checkRendered(r, facts[r.Row])
		key := from[r.Row] + " " + r.Template
		switch {
		case problem != "":
			if bad++; bad <= 10 {
				t.Errorf("%s row %d: %s\n%s", key, r.Row, problem, r.Text)
			}
		case ref:
			refused[key]++
		default:
			ok[key]++
		}
	}
	t.Logf("rendered and checked: %v; refused by the model's rule: %v", ok, refused)
	for _, exp := range []string{"hf", "openai"} {
		for _, c := range chatTemplates {
			if ok[exp+" "+c.name] < withCalls[exp] {
				t.Errorf("%s through %s: %d rows rendered, fewer than the %d with tool calls", exp, c.name, ok[exp+" "+c.name], withCalls[exp])
			}
		}
	}

	card, _ := os.ReadFile(filepath.Join(hfDir, "README.md"))
	if !strings.Contains(string(card), "Chat templates write a call's arguments with `tojson`") {
		t.Errorf("the card does not say to parse the arguments before a chat template:\n%s", card)
	}

	// The check sees arguments that reach a template as text.
	var few []templateRow
	var fewFacts []rowFacts
	for i, r := range rows {
		if len(facts[i].calls) == 1 && len(few) < 3 {
			few, fewFacts = append(few, r), append(fewFacts, facts[i])
		}
	}
	for _, r := range renderRows(t, jinja, few, true) {
		if problem, _ := checkRendered(r, fewFacts[r.Row]); !strings.Contains(problem, "not a JSON object") {
			t.Errorf("%s with arguments as text: the check says %q, want it to find a string", r.Template, problem)
		}
	}
}

// The hf export of preference pairs with tools renders as TRL's
// DPOTrainer renders a pair (trl/data_utils.py, apply_chat_template, read
// at commit 00cc012): the prompt alone with the generation prompt, then
// prompt + chosen and prompt + rejected, each of which must start with the
// prompt's text (TRL raises ValueError otherwise); the chosen tool call is
// written as each model writes one. Llama 3.1 refuses the pair whose
// prompt holds parallel calls (its rule). Mistral's template writes the system
// message into the last user turn only when that turn ends the
// conversation, so with a system message its prompt alone is no prefix:
// that is its rule, counted, not a fault of the export.
func TestPairExportsRenderThroughChatTemplates(t *testing.T) {
	jinja := testenv.NPM(t, "@huggingface/jinja", JinjaVersion)
	dir := t.TempDir()
	if _, err := Export(context.Background(), []string{filepath.Join("testdata", "openai_dpo_tools.jsonl")}, Options{Target: TargetHF, OutDir: dir, Split: 1, NearDup: 0.8}); err != nil {
		t.Fatal(err)
	}
	join := func(a, b string) json.RawMessage {
		return json.RawMessage(strings.TrimSuffix(a, "]") + "," + strings.TrimPrefix(b, "["))
	}
	var rows []templateRow
	var system []bool
	pairs := testenv.MustDuckDB(t, fmt.Sprintf(`SELECT to_json(prompt)::VARCHAR AS p, to_json(chosen)::VARCHAR AS c, to_json(rejected)::VARCHAR AS r, tools, prompt[1].role = 'system' AS s FROM read_parquet('%s/data/*.parquet')`, dir))
	for _, m := range pairs {
		p, c, r := m["p"].(string), m["c"].(string), m["r"].(string)
		rows = append(rows, templateRow{Messages: json.RawMessage(p), Tools: m["tools"], AddGenerationPrompt: true},
			templateRow{Messages: join(p, c), Tools: m["tools"]}, templateRow{Messages: join(p, r), Tools: m["tools"]})
		system = append(system, m["s"] == true)
	}
	if len(pairs) != 3 {
		t.Fatalf("%d pairs read", len(pairs))
	}
	out := renderRows(t, jinja, rows, false)
	text := map[[2]int]rendered{} // row, template index
	for _, r := range out {
		for i, c := range chatTemplates {
			if c.name == r.Template {
				text[[2]int{r.Row, i}] = r
			}
		}
	}
	checked, refused := 0, 0
	for p := range pairs {
		for i, c := range chatTemplates {
			prompt := text[[2]int{3 * p, i}]
			for k := 1; k <= 2; k++ {
				full := text[[2]int{3*p + k, i}]
				problem, ref := checkRendered(full, factsOf(t, rows[3*p+k]))
				if problem != "" {
					t.Errorf("pair %d + reply %d through %s: %s\n%s", p, k, c.name, problem, full.Text)
					continue
				}
				if ref { // the model's rule (Llama 3.1: one call a turn)
					refused++
					continue
				}
				if prompt.Error != "" {
					t.Errorf("pair %d's prompt through %s: %s", p, c.name, prompt.Error)
					continue
				}
				switch {
				case strings.HasPrefix(full.Text, prompt.Text):
					checked++
				case c.name == "mistral-nemo" && system[p]:
					refused++
				default:
					t.Errorf("pair %d through %s: prompt + reply does not start with the prompt (TRL refuses it)\nprompt: %q\nfull:   %q", p, c.name, prompt.Text, full.Text)
				}
			}
		}
	}
	t.Logf("%d prompt + reply renderings checked, %d refused by the model's rule", checked, refused)
	if checked < 12 {
		t.Errorf("%d renderings checked, want most of the 18", checked)
	}
}
