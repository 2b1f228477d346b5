package format

import (
	"github.com/tuneline/tuneline/datasets"
)

// TargetAlpaca is LLaMA-Factory's alpaca format (instruction, output,
// history) with its dataset_info.json.
const TargetAlpaca = datasets.FormatAlpaca

var alpacaTarget = &Target{
	Name:     TargetAlpaca,
	Files:    "train.jsonl, validation.jsonl, dataset_info.json",
	Reader:   "LLaMA-Factory alpaca (instruction/output/history)",
	Holds:    Holds{Pairs: true},
	PairsDoc: "LLaMA-Factory ranking records (chosen, rejected)",
	encode:   encodeAlpaca,
	newSink:  jsonlSinkOf,
	metadata: func(opt Options, splits []string) error { return writeDatasetInfo(opt, splits, alpacaInfo) },
}

// alpacaInfo is the dataset_info.json entry's columns.
func alpacaInfo(entry map[string]any, pairs bool) {
	cols := map[string]string{"prompt": "instruction", "query": "input", "response": "output", "system": "system", "history": "history"}
	if pairs {
		delete(cols, "response")
		cols["chosen"], cols["rejected"] = "chosen", "rejected"
	}
	entry["columns"] = cols
}

func encodeAlpaca(ex *datasets.Example, pairs bool) ([]byte, string) {
	if r := callTurns(ex, TargetAlpaca); r != "" {
		return nil, r
	}
	if r := unweighted(ex, TargetAlpaca); r != "" {
		return nil, r
	}
	t := ex.Turns()
	hist := [][2]string{}
	for i := 0; i+2 < len(t); i += 2 {
		hist = append(hist, [2]string{t[i].Content, t[i+1].Content})
	}
	if pairs {
		return jsonLine(alpacaPairLine{System: ex.System(), Instruction: t[len(t)-2].Content, Chosen: t[len(t)-1].Content,
			Rejected: ex.Rejected[0].Content, History: hist})
	}
	return jsonLine(alpacaLine{System: ex.System(), Instruction: t[len(t)-2].Content, Output: t[len(t)-1].Content, History: hist})
}

type alpacaLine struct {
	Instruction string      `json:"instruction"`
	Input       string      `json:"input"`
	Output      string      `json:"output"`
	System      string      `json:"system"`
	History     [][2]string `json:"history"`
}

// alpacaPairLine is LLaMA-Factory's Alpaca ranking record.
type alpacaPairLine struct {
	Instruction string      `json:"instruction"`
	Input       string      `json:"input"`
	Chosen      string      `json:"chosen"`
	Rejected    string      `json:"rejected"`
	System      string      `json:"system"`
	History     [][2]string `json:"history"`
}
