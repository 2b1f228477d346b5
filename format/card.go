package format

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tuneline/tuneline/datasets"
)

// weightNote says which trainers read a message's weight: OpenAI's
// fine-tuning and Axolotl (message_field_training: weight) leave a weight-0
// turn out of the loss; TRL's SFTTrainer, and Unsloth through it, do not
// read the field and train on every assistant turn.
const weightNote = "A message's `weight` 0 (shown, not trained on) is honoured by OpenAI's fine-tuning and by Axolotl\n" +
	"with `message_field_training: weight`; TRL's `SFTTrainer` (and Unsloth, which uses it) does not read\n" +
	"the field and trains on every assistant turn, so drop or mask such turns before training there.\n\n"

// licenseFile is the LICENSE an hf export gets when its licence is other
// without a link: what the Hub asks for (docs/hub/repositories-licenses.md),
// saying what is known.
func licenseFile(opt Options) []byte {
	if opt.License != "other" || opt.LicenseLink != "" {
		return nil
	}
	if opt.LicenseName != "" {
		return []byte(fmt.Sprintf("This dataset is licensed under %s.\n\nThe licence's text was not given to the tool that exported it (tuneline export --license-link); add it here.\n", opt.LicenseName))
	}
	return []byte("No licence has been specified for this dataset.\n\nUntil one is (tuneline export --license, or --license other with --license-name and\n--license-link), no rights are granted beyond those the licences of its sources give.\n")
}

// yamlString quotes s for YAML (a JSON string is a valid YAML scalar).
func yamlString(s string) string {
	return fmt.Sprintf("%q", s)
}

// markdownText is s as plain text in Markdown: on one line, with every
// character Markdown or HTML would read as markup escaped (a --name pasted
// raw could add headings, links or HTML to the card).
func markdownText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]<>()#+-.!|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DatasetCard renders README.md for a Hugging Face dataset repository: the
// YAML front matter that datasets.load_dataset and the Hub viewer read
// (configs with data_files per split, features, splits), then prose.
func DatasetCard(opt Options, r *Report) []byte {
	var b strings.Builder
	license := opt.License
	if license == "" {
		license = "other"
	}
	b.WriteString("---\n")
	fmt.Fprintf(&b, "license: %s\n", yamlString(license))
	if license == "other" {
		// The Hub's card spec: a licence that is not in its list is
		// "other" with a name and a link.
		name, link := opt.LicenseName, opt.LicenseLink
		if name == "" {
			name = "unspecified"
		}
		if link == "" {
			// The Hub asks for the licence's text in a LICENSE file
			// when there is no link: hfSink writes one.
			link = "LICENSE"
		}
		fmt.Fprintf(&b, "license_name: %s\n", yamlString(name))
		fmt.Fprintf(&b, "license_link: %s\n", yamlString(link))
	}
	if len(opt.Language) > 0 {
		b.WriteString("language:\n")
		for _, l := range opt.Language {
			fmt.Fprintf(&b, "- %s\n", yamlString(l))
		}
	}
	b.WriteString("task_categories:\n- text-generation\ntags:\n- conversational\n- synthetic\n- tuneline\n")
	if r.RandomModel {
		b.WriteString("- random-model-output\n")
	}
	fmt.Fprintf(&b, "pretty_name: %s\n", yamlString(opt.Name))
	fmt.Fprintf(&b, "size_categories:\n- %s\n", SizeCategory(r.Written))
	splits := sortedKeys(r.Splits)
	sort.SliceStable(splits, func(i, j int) bool { return splits[i] == SplitTrain && splits[j] != SplitTrain })
	b.WriteString("configs:\n- config_name: default\n  data_files:\n")
	for _, s := range splits {
		fmt.Fprintf(&b, "  - split: %s\n    path: data/%s-*\n", s, s)
	}
	b.WriteString("dataset_info:\n")
	b.WriteString(datasets.HFFeatures(opt.layout))
	b.WriteString("  splits:\n")
	// num_bytes is the split's size in Arrow's in-memory layout (what
	// the datasets library computes), download_size the Parquet files'.
	var files, arrow int64
	for _, s := range splits {
		sr := r.Splits[s]
		files += sr.Bytes
		arrow += sr.ArrowBytes
		fmt.Fprintf(&b, "  - name: %s\n    num_bytes: %d\n    num_examples: %d\n", s, sr.ArrowBytes, sr.Examples)
	}
	fmt.Fprintf(&b, "  download_size: %d\n  dataset_size: %d\n", files, arrow)
	b.WriteString("---\n\n")
	fmt.Fprintf(&b, "# %s\n\n", markdownText(opt.Name))
	if r.RandomModel {
		b.WriteString(RandomModelWarning + "\n\n")
	}
	switch opt.layout {
	case datasets.LayoutPairsTools:
		b.WriteString("Preference data with tool calls, exported by [tuneline](https://github.com/tuneline/tuneline).\n")
		b.WriteString("Each row is one pair in TRL's conversational preference format: `prompt` is a list of messages,\n")
		b.WriteString("`chosen` and `rejected` the preferred and the other assistant reply (a one-message list each),\n")
		b.WriteString("ready for TRL's `DPOTrainer`. Messages are in OpenAI's shape: an assistant message may carry\n")
		b.WriteString("`tool_calls` (`{id, type, function: {name, arguments}}`, arguments as JSON text), a tool message\n")
		b.WriteString("answers the call named by `tool_call_id`; a reply may be a call. `tools` holds the declared\n")
		b.WriteString("functions as JSON text (`json.loads` it before a chat template) and is null on rows that declare\n")
		b.WriteString("none; `meta` records where the pair came from.\n\n")
	case datasets.LayoutPairs:
		b.WriteString("Preference data exported by [tuneline](https://github.com/tuneline/tuneline).\n")
		b.WriteString("Each row is one pair in TRL's conversational preference format: `prompt` is a list of\n")
		b.WriteString("`{role, content}` messages, `chosen` and `rejected` the preferred and the other assistant\n")
		b.WriteString("reply (a one-message list each), ready for TRL's `DPOTrainer`; `meta` records where the pair\n")
		b.WriteString("came from.\n\n")
	case datasets.LayoutTools:
		b.WriteString("Chat fine-tuning data with tool calls, exported by [tuneline](https://github.com/tuneline/tuneline).\n")
		b.WriteString("Each row is one conversation: `messages` is a list of `{role, content}` with roles `system`,\n")
		b.WriteString("`user`, `assistant` and `tool`, in OpenAI's shape: an assistant message may carry `tool_calls`\n")
		b.WriteString("(`{id, type, function: {name, arguments}}`, arguments as JSON text), a tool message answers\n")
		b.WriteString("the call named by `tool_call_id`. `tools` holds the declared functions as JSON text\n")
		b.WriteString("(`json.loads` it before passing it to a chat template, as TRL's `SFTTrainer` does), and is null\n")
		b.WriteString("(an optional column) on rows that declare none; `meta` records where the example came from.\n")
		b.WriteString("Chat templates write a call's arguments with `tojson` (Llama 3.1, Qwen2.5, Mistral): `json.loads`\n")
		b.WriteString("them too, as Axolotl does, or the model learns them as a quoted string; and drop the null\n")
		b.WriteString("fields of each message (Llama 3.1's template takes any message with a `tool_calls` key for a call).\n\n")
	default:
		b.WriteString("Chat fine-tuning data exported by [tuneline](https://github.com/tuneline/tuneline).\n")
		b.WriteString("Each row is one conversation: `messages` is a list of `{role, content}` with roles\n")
		b.WriteString("`system`, `user` and `assistant`, ready for chat templates (TRL's `SFTTrainer` reads it as is);\n")
		b.WriteString("`name` and `weight` follow OpenAI's message fields; `meta` records where the example came from.\n\n")
	}
	if opt.layout != datasets.LayoutPairs && opt.layout != datasets.LayoutPairsTools {
		b.WriteString(weightNote)
	}
	b.WriteString("```python\nfrom datasets import load_dataset\nds = load_dataset(\"parquet\", data_dir=\"data\")  # or the Hub repository id\n```\n\n")
	b.WriteString("## Splits\n\n| split | examples | tokens (cl100k) | files |\n|---|---:|---:|---|\n")
	for _, s := range splits {
		sr := r.Splits[s]
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", s, sr.Examples, sr.TotalTokens, strings.Join(sr.Files, ", "))
	}
	b.WriteString("\n## Curation\n\n")
	fmt.Fprintf(&b, "%d examples read, %d written. Left out:\n\n", r.Read, r.Written)
	if len(r.Dropped) == 0 {
		b.WriteString("- nothing\n")
	}
	for _, k := range sortedKeys(r.Dropped) {
		fmt.Fprintf(&b, "- %s: %d\n", k, r.Dropped[k])
	}
	fmt.Fprintf(&b, "\nExact duplicates compare case-folded text with white space collapsed; near duplicates\n")
	if r.Dedup.NearDupThreshold > 0 {
		fmt.Fprintf(&b, "are MinHash/LSH matches with estimated Jaccard similarity ≥ %.2f over word 2-grams.\n", r.Dedup.NearDupThreshold)
	} else {
		b.WriteString("were not removed.\n")
	}
	fmt.Fprintf(&b, "The split is a hash of each example's content with seed %d (%.0f%% train).\n", r.Seed, r.SplitRatio*100)
	return []byte(b.String())
}

// RandomModelWarning heads the card of an export whose examples came from
// tuneline's tiny random-weight model.
const RandomModelWarning = "> **Not training data: the text in this dataset is random-model output.** Its questions and\n" +
	"> answers were written by tuneline's tiny random-weight test model (used when no real model was\n" +
	"> available), so they are gibberish that only shows the pipeline works. Do not publish it or tune\n" +
	"> on it; run tuneline again with a real model (ollama.model in tuneline.yaml, or `ollama pull NAME`)."
