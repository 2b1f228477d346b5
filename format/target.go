package format

import (
	"fmt"
	"strings"

	"github.com/tuneline/tuneline/datasets"
)

// Target is one export format: everything the export, the CLI's flags and
// help, and the workspace know of it. Each target is one value in its own
// file (target_<name>.go) and one line in all.go; nothing else names a
// target but through this value. A new target is that file plus its test.
type Target struct {
	// Name is the value of --format and of the workspace's export.formats,
	// and the folder under build/export/.
	Name string
	// Files is the file layout of an export, as --help shows it.
	Files string
	// Reader says who reads it (--help).
	Reader string
	// Holds is what the format can carry.
	Holds Holds
	// ToolsDoc and PairsDoc say how tool calls and preference pairs are
	// written ("" with Holds false: the target refuses them).
	ToolsDoc, PairsDoc string

	// encode writes one example as a line of a JSON Lines target; nil
	// for a Parquet target (newSink writes the rows itself).
	encode func(ex *datasets.Example, pairs bool) ([]byte, string)
	// adjust, when set, changes an example to fit the target before it
	// is encoded, saying what it changed (counted in the report's
	// Adjusted).
	adjust func(ex *datasets.Example) []string
	// fits says why a Parquet target cannot hold an example, or "".
	fits func(ex *datasets.Example, layout int) string
	// newSink opens the target's files (default: train/validation JSON
	// Lines).
	newSink func(opt Options) (sink, error)
	// metadata writes the files beside the data (dataset_info.json) once
	// the splits are written.
	metadata func(opt Options, splits []string) error
	// MaxExampleTokens, when set, drops longer examples (the target
	// refuses them in training).
	MaxExampleTokens int
	// limits checks the target's documented limits on the written output.
	limits func(r *Report)
	// Next is what a user does next with an export in dir of the dataset
	// name (printed after a workspace run), quote quoting for a shell.
	Next func(name, dir string, quote func(string) string) []string
}

// Holds is what a target can carry besides plain chat.
type Holds struct {
	Tools bool // tool definitions and calls
	Pairs bool // preference pairs (a preference export)
}

// Parquet tells whether the target writes Parquet, whose columns depend on
// the layout chosen from the probe.
func (t *Target) Parquet() bool { return t.encode == nil }

// Lookup finds the target of a name.
func Lookup(name string) (*Target, error) {
	for _, t := range registry {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", name, strings.Join(Targets, ", "))
}

// AllTargets lists the targets in the order --help shows them.
func AllTargets() []*Target { return registry }

// Targets lists the export formats' names.
var Targets = targetNames()

func targetNames() []string {
	var n []string
	for _, t := range registry {
		n = append(n, t.Name)
	}
	return n
}

// Encode converts a valid example into one JSON line of the target format,
// or returns why the example cannot be written in it. pairs tells whether
// the export holds preference pairs (see Probe): one file holds one kind.
func Encode(ex *datasets.Example, target string, pairs bool) ([]byte, string) {
	t, err := Lookup(target)
	if err != nil || t.encode == nil {
		return nil, "unknown export format " + target
	}
	return encodeWith(t, ex, pairs)
}

func encodeWith(t *Target, ex *datasets.Example, pairs bool) ([]byte, string) {
	if r := kindMismatch(ex, pairs); r != "" {
		return nil, r
	}
	if pairs && !t.Holds.Pairs {
		return nil, t.Name + " holds no preference pairs"
	}
	if !t.Holds.Tools && ex.HasTools() {
		return nil, t.Name + " cannot hold tool calls"
	}
	return t.encode(ex, pairs)
}

// Help is the table of targets --help shows, and how each writes tool
// calls and preference pairs.
func Help() string {
	var b strings.Builder
	for _, t := range registry {
		fmt.Fprintf(&b, "   %-9s %-50s %s\n", t.Name, t.Files, t.Reader)
	}
	holds := func(title string, doc func(t *Target) (bool, string)) {
		b.WriteString(title)
		for _, t := range registry {
			ok, d := doc(t)
			if !ok {
				d = "refused"
			}
			fmt.Fprintf(&b, "   %-9s %s\n", t.Name, d)
		}
	}
	holds("\nTool calls (OpenAI's tools/tool_calls/tool messages, or LLaMA-Factory's\nfunction_call/observation):\n",
		func(t *Target) (bool, string) { return t.Holds.Tools, t.ToolsDoc })
	holds("\nPreference pairs (OpenAI DPO lines, TRL prompt/chosen/rejected, LLaMA-Factory\nranking) make a preference export (--kind auto finds them):\n",
		func(t *Target) (bool, string) { return t.Holds.Pairs, t.PairsDoc })
	return strings.TrimRight(b.String(), "\n")
}

// jsonlSinkOf opens a JSON Lines export.
func jsonlSinkOf(opt Options) (sink, error) { return newJSONLSink(opt), nil }
