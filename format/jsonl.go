package format

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/tuneline/tuneline/datasets"
)

// jsonlSink writes train.jsonl and validation.jsonl (openai, vertex) or
// train.jsonl, validation.jsonl and dataset_info.json (sharegpt, alpaca).
type jsonlSink struct {
	opt   Options
	files map[string]*datasets.AtomicFile
}

func newJSONLSink(opt Options) *jsonlSink {
	return &jsonlSink{opt: opt, files: map[string]*datasets.AtomicFile{}}
}

func (j *jsonlSink) write(split string, _ *datasets.Example, line []byte) error {
	f := j.files[split]
	if f == nil {
		var err error
		f, err = datasets.CreateAtomic(filepath.Join(j.opt.OutDir, split+".jsonl"))
		if err != nil {
			return err
		}
		j.files[split] = f
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("write %s: %w", f.Path(), err)
	}
	return nil
}

func (j *jsonlSink) commit(r *Report) error {
	splits := sortedKeys(j.files)
	for _, split := range splits {
		f := j.files[split]
		size := f.Size()
		if err := f.Commit(); err != nil {
			return err
		}
		sr := r.Splits[split]
		sr.Files = []string{filepath.Base(f.Path())}
		sr.Bytes = size
		r.Splits[split] = sr
	}
	// Files of splits that came out empty this time must not linger from an
	// earlier export into the same directory.
	for _, split := range []string{SplitTrain, SplitValidation} {
		if j.files[split] == nil {
			os.Remove(filepath.Join(j.opt.OutDir, split+".jsonl"))
		}
	}
	if j.opt.Target == TargetShareGPT || j.opt.Target == TargetAlpaca {
		return writeDatasetInfo(j.opt, splits)
	}
	return nil
}

func (j *jsonlSink) abort() {
	for _, f := range j.files {
		f.Abort()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// writeDatasetInfo writes LLaMA-Factory's dataset_info.json with one entry
// per split: "<name>" for train and "<name>_validation".
func writeDatasetInfo(opt Options, splits []string) error {
	info := map[string]any{}
	for _, split := range splits {
		name := opt.Name
		if split != SplitTrain {
			name += "_" + split
		}
		entry := map[string]any{"file_name": split + ".jsonl"}
		pairs := opt.Kind == KindPreference
		if pairs {
			entry["ranking"] = true
		}
		if opt.Target == TargetShareGPT {
			entry["formatting"] = "sharegpt"
			cols := map[string]string{"messages": "conversations", "system": "system", "tools": "tools"}
			if pairs {
				cols["chosen"], cols["rejected"] = "chosen", "rejected"
			}
			entry["columns"] = cols
			entry["tags"] = map[string]string{"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
				"observation_tag": "observation", "function_tag": "function_call"}
		} else {
			cols := map[string]string{"prompt": "instruction", "query": "input", "response": "output", "system": "system", "history": "history"}
			if pairs {
				delete(cols, "response")
				cols["chosen"], cols["rejected"] = "chosen", "rejected"
			}
			entry["columns"] = cols
		}
		info[name] = entry
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	return datasets.WriteFileAtomic(filepath.Join(opt.OutDir, "dataset_info.json"), append(b, '\n'))
}
