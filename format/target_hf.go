package format

import (
	"fmt"

	"github.com/tuneline/tuneline/datasets"
)

// TargetHF is a Hugging Face dataset: Parquet shards under data/ in one of
// three layouts (chat, chat with tools, TRL's prompt/chosen/rejected) and
// the dataset card.
const TargetHF = datasets.FormatHF

var hfTarget = &Target{
	Name:     TargetHF,
	Files:    "data/train-00000-of-0000N.parquet ..., README.md",
	Reader:   "Hugging Face dataset with its card",
	Holds:    Holds{Tools: true, Pairs: true},
	ToolsDoc: "as they are (tools and tool_calls columns)",
	PairsDoc: "TRL columns prompt/chosen/rejected (with tool calls and a tools column when they have them)",
	fits:     hfFits,
	newSink:  func(opt Options) (sink, error) { return newHFSink(opt) },
	Next: func(name, dir string, quote func(string) string) []string {
		return []string{"Publish the dataset on the Hugging Face Hub (a write token in HF_TOKEN, or hf auth login), or set publish.hf_repo in tuneline.yaml:",
			fmt.Sprintf("  tuneline publish hf YOUR-NAME/%s %s", name, quote(dir))}
	},
}
