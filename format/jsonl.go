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
	if t, err := Lookup(j.opt.Target); err == nil && t.metadata != nil {
		return t.metadata(j.opt, splits)
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
// per split: "<name>" for train and "<name>_validation"; columns fills in
// the format's columns.
func writeDatasetInfo(opt Options, splits []string, columns func(entry map[string]any, pairs bool)) error {
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
		columns(entry, pairs)
		info[name] = entry
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	return datasets.WriteFileAtomic(filepath.Join(opt.OutDir, "dataset_info.json"), append(b, '\n'))
}
