package format

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tuneline/tuneline/datasets"
)

// TargetVertex is Vertex AI's Gemini supervised tuning JSONL, its limits
// checked.
const TargetVertex = datasets.FormatVertex

// vertexTarget holds no preference pairs: Gemini's supervised tuning has
// none (this is the one place that says so).
var vertexTarget = &Target{
	Name:             TargetVertex,
	Files:            "train.jsonl, validation.jsonl",
	Reader:           "Vertex AI Gemini tuning; its limits are checked",
	Holds:            Holds{Tools: true},
	ToolsDoc:         "functionCall/functionResponse parts, a functionDeclarations list",
	encode:           encodeVertex,
	adjust:           vertexFormats,
	newSink:          jsonlSinkOf,
	MaxExampleTokens: VertexMaxExampleTokens,
	limits:           vertexLimits,
	Next: func(name, dir string, quote func(string) string) []string {
		return []string{"Tune Gemini on Vertex AI with the vertex export (gcloud auth login; a bucket in your project):",
			fmt.Sprintf("  gcloud storage cp %s %s gs://YOUR-BUCKET/%s/", quote(filepath.Join(dir, "train.jsonl")), quote(filepath.Join(dir, "validation.jsonl")), name),
			"  curl -X POST -H \"Authorization: Bearer $(gcloud auth print-access-token)\" -H 'Content-Type: application/json' \\",
			"    https://us-central1-aiplatform.googleapis.com/v1/projects/YOUR-PROJECT/locations/us-central1/tuningJobs \\",
			fmt.Sprintf(`    -d '{"baseModel": "gemini-2.0-flash-001", "supervisedTuningSpec": {"trainingDatasetUri": "gs://YOUR-BUCKET/%s/train.jsonl", "validationDatasetUri": "gs://YOUR-BUCKET/%s/validation.jsonl"}, "tunedModelDisplayName": "%s"}'`, name, name, name)}
	},
}

// Vertex AI Gemini tuning limits.
const (
	VertexMaxExampleTokens    = 131072
	VertexMaxValidation       = 5000
	VertexMaxFileBytes        = 1 << 30
	VertexMaxTrainingExamples = 1_000_000
)

func encodeVertex(ex *datasets.Example, _ bool) ([]byte, string) {
	if r := callTurns(ex, TargetVertex); r != "" {
		return nil, r
	}
	if r := unweighted(ex, TargetVertex); r != "" {
		return nil, r
	}
	l, why := vertexOf(ex)
	if why != "" {
		return nil, why
	}
	return jsonLine(l)
}

func vertexLimits(r *Report) {
	var maxFile int64
	for _, sr := range r.Splits {
		maxFile = max(maxFile, sr.Bytes)
	}
	r.Limits = []LimitCheck{
		{Name: "tokens per example (cl100k estimate; Gemini counts differ)", Limit: VertexMaxExampleTokens,
			Value: int64(max(r.Splits[SplitTrain].Tokens.Max, r.Splits[SplitValidation].Tokens.Max)), Note: "longer examples were dropped"},
		{Name: "validation examples", Limit: VertexMaxValidation, Value: int64(r.Splits[SplitValidation].Examples)},
		{Name: "dataset file size (bytes)", Limit: VertexMaxFileBytes, Value: maxFile},
		{Name: "training examples", Limit: VertexMaxTrainingExamples, Value: int64(r.Splits[SplitTrain].Examples)},
	}
	for i := range r.Limits {
		r.Limits[i].OK = r.Limits[i].Value <= r.Limits[i].Limit
	}
}

type vertexPart struct {
	Text             *string         `json:"text,omitempty"`
	FunctionCall     *vertexFunction `json:"functionCall,omitempty"`
	FunctionResponse *vertexFunction `json:"functionResponse,omitempty"`
}

type vertexFunction struct {
	Name     string          `json:"name"`
	Args     json.RawMessage `json:"args,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
}

type vertexContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []vertexPart `json:"parts"`
}

type vertexTools struct {
	FunctionDeclarations []json.RawMessage `json:"functionDeclarations"`
}

type vertexLine struct {
	SystemInstruction *vertexContent  `json:"systemInstruction,omitempty"`
	Contents          []vertexContent `json:"contents"`
	Tools             []vertexTools   `json:"tools,omitempty"`
}

func textPart(s string) vertexPart { return vertexPart{Text: &s} }

// vertexOf writes an example as a Gemini tuning line: tool calls become
// functionCall parts of the model's turn, tool results functionResponse
// parts of the user's, the tools a functionDeclarations list.
func vertexOf(ex *datasets.Example) (vertexLine, string) {
	var l vertexLine
	if s := ex.System(); s != "" {
		l.SystemInstruction = &vertexContent{Parts: []vertexPart{textPart(s)}}
	}
	if ex.Tools != "" {
		defs, err := toolDefs(ex.Tools)
		if err != nil {
			return l, "tools: " + err.Error()
		}
		l.Tools = []vertexTools{{FunctionDeclarations: defs}}
	}
	names := map[string]string{} // call id -> function name
	for i, m := range ex.Turns() {
		switch {
		case m.Role == datasets.RoleTool:
			resp := json.RawMessage(m.Content)
			if !jsonObject(m.Content) { // Gemini wants an object
				resp, _ = json.Marshal(map[string]string{"content": m.Content})
			}
			p := vertexPart{FunctionResponse: &vertexFunction{Name: names[m.ToolCallID], Response: resp}}
			if n := len(l.Contents); n > 0 && l.Contents[n-1].Parts[0].FunctionResponse != nil {
				// The results of parallel calls: one turn of parts.
				l.Contents[n-1].Parts = append(l.Contents[n-1].Parts, p)
				continue
			}
			l.Contents = append(l.Contents, vertexContent{Role: "user", Parts: []vertexPart{p}})
		case m.Role == datasets.RoleAssistant:
			c := vertexContent{Role: "model"}
			if m.Content != "" {
				c.Parts = append(c.Parts, textPart(m.Content))
			}
			for _, tc := range m.ToolCalls {
				if !jsonObject(tc.Function.Arguments) {
					return l, fmt.Sprintf("vertex needs a call's arguments to be a JSON object (message %d)", i+1)
				}
				names[tc.ID] = tc.Function.Name
				c.Parts = append(c.Parts, vertexPart{FunctionCall: &vertexFunction{Name: tc.Function.Name, Args: json.RawMessage(tc.Function.Arguments)}})
			}
			l.Contents = append(l.Contents, c)
		default:
			l.Contents = append(l.Contents, vertexContent{Role: "user", Parts: []vertexPart{textPart(m.Content)}})
		}
	}
	return l, ""
}

// vertexStringFormats are the JSON Schema formats Gemini's function
// declarations support on strings; the others are refused by a tuning job.
var vertexStringFormats = map[string]bool{"enum": true, "date-time": true}

// vertexFormats moves the format of a string parameter that Gemini does
// not support (date, time, uri, email, ...) into the parameter's
// description, where the model still reads it; each one moved is counted
// in the report as "vertex:format_moved:<format>".
func vertexFormats(ex *datasets.Example) []string {
	if ex.Tools == "" || !strings.Contains(string(ex.Tools), `"format"`) {
		return nil
	}
	var tools []map[string]any
	if json.Unmarshal([]byte(ex.Tools), &tools) != nil {
		return nil
	}
	var notes []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			typ, _ := v["type"].(string)
			if f, ok := v["format"].(string); ok && strings.EqualFold(typ, "string") && !vertexStringFormats[f] {
				delete(v, "format")
				d, _ := v["description"].(string)
				v["description"] = strings.TrimSpace(d + " (format: " + f + ")")
				notes = append(notes, TargetVertex+":format_moved:"+f)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, t := range tools {
		if fn, ok := t["function"].(map[string]any); ok {
			walk(fn["parameters"])
		}
	}
	if len(notes) > 0 {
		b, _ := json.Marshal(tools)
		ex.Tools = datasets.RawJSON(b)
	}
	return notes
}
