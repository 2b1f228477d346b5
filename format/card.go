package format

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// hfFeatures is the dataset_info.features block of the card: the schema of
// datasets.Row in the Hub's notation.
const hfFeatures = `  features:
  - name: id
    dtype: string
  - name: messages
    list:
    - name: role
      dtype: string
    - name: content
      dtype: string
  - name: meta
    struct:
    - name: origin
      dtype: string
    - name: format
      dtype: string
    - name: source
      dtype: string
    - name: doc_id
      dtype: string
    - name: chunk_id
      dtype: string
    - name: title
      dtype: string
    - name: section
      dtype: string
    - name: page_start
      dtype: int32
    - name: page_end
      dtype: int32
    - name: time_start
      dtype: float64
    - name: time_end
      dtype: float64
    - name: speaker
      dtype: string
    - name: persona
      dtype: string
    - name: model
      dtype: string
    - name: kind
      dtype: string
    - name: question_type
      dtype: string
    - name: scores
      list:
      - name: name
        dtype: string
      - name: value
        dtype: float64
    - name: extra
      list:
      - name: key
        dtype: string
      - name: value
        dtype: string
`

// yamlString quotes s for YAML (a JSON string is a valid YAML scalar).
func yamlString(s string) string {
	return fmt.Sprintf("%q", s)
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
		fmt.Fprintf(&b, "license_name: %s\n", yamlString(name))
		if link != "" {
			fmt.Fprintf(&b, "license_link: %s\n", yamlString(link))
		}
	}
	if len(opt.Language) > 0 {
		b.WriteString("language:\n")
		for _, l := range opt.Language {
			fmt.Fprintf(&b, "- %s\n", yamlString(l))
		}
	}
	b.WriteString("task_categories:\n- text-generation\ntags:\n- conversational\n- synthetic\n- tuneline\n")
	fmt.Fprintf(&b, "pretty_name: %s\n", yamlString(opt.Name))
	fmt.Fprintf(&b, "size_categories:\n- %s\n", SizeCategory(r.Written))
	splits := sortedKeys(r.Splits)
	sort.SliceStable(splits, func(i, j int) bool { return splits[i] == SplitTrain && splits[j] != SplitTrain })
	b.WriteString("configs:\n- config_name: default\n  data_files:\n")
	for _, s := range splits {
		fmt.Fprintf(&b, "  - split: %s\n    path: data/%s-*\n", s, s)
	}
	b.WriteString("dataset_info:\n")
	b.WriteString(hfFeatures)
	b.WriteString("  splits:\n")
	var total int64
	for _, s := range splits {
		sr := r.Splits[s]
		total += sr.Bytes
		fmt.Fprintf(&b, "  - name: %s\n    num_bytes: %d\n    num_examples: %d\n", s, sr.Bytes, sr.Examples)
	}
	fmt.Fprintf(&b, "  download_size: %d\n  dataset_size: %d\n", total, total)
	b.WriteString("---\n\n")
	fmt.Fprintf(&b, "# %s\n\n", opt.Name)
	b.WriteString("Chat fine-tuning data exported by [tuneline](https://github.com/tuneline/tuneline).\n")
	b.WriteString("Each row is one conversation: `messages` is a list of `{role, content}` with roles\n")
	b.WriteString("`system`, `user` and `assistant`, ready for chat templates (TRL's `SFTTrainer` reads it as is);\n")
	b.WriteString("`meta` records where the example came from.\n\n")
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

// languageCode matches the Hub's language codes: ISO 639-1 or 639-3 with an
// optional region or script subtag (en, fr, yue, en-US, zh-Hant).
var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// CheckLanguages trims and validates the card's language codes.
func CheckLanguages(langs []string) ([]string, error) {
	var out []string
	for _, l := range langs {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !languageCode.MatchString(l) {
			return nil, fmt.Errorf("language %q is not a language code (ISO 639-1 or 639-3, like en, fr, yue or en-US)", l)
		}
		out = append(out, l)
	}
	return out, nil
}
