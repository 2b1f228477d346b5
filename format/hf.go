package format

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/setting"
)

// hfSink writes Parquet shards under data/ and the dataset card.
type hfSink struct {
	opt    Options
	show   func(string) string
	codec  compress.Codec
	splits map[string]*hfSplit
}

type hfSplit struct {
	shards []*datasets.AtomicFile
	cur    *datasets.ParquetWriter
	arrow  int64 // ArrowBytes of the rows written
}

func newHFSink(opt Options) (*hfSink, error) {
	h := &hfSink{opt: opt, show: opt.shower(), splits: map[string]*hfSplit{}}
	switch opt.Compression {
	case "", "snappy":
		h.codec = datasets.FastSnappy{}
	case "zstd":
		h.codec = &parquet.Zstd
	case "gzip":
		h.codec = &parquet.Gzip
	case "none":
		h.codec = &parquet.Uncompressed
	default:
		return nil, &setting.Error{Section: "export", Key: "compression", Flag: "compression", Value: strconv.Quote(opt.Compression), Problem: "want snappy, zstd, gzip or none"}
	}
	if h.opt.ShardBytes <= 0 {
		h.opt.ShardBytes = 500_000_000
	}
	if h.opt.RowGroupBytes <= 0 {
		// 8 MiB of text (about 2.5 MB compressed) a row group: what the
		// row group buffers hold alive counts against the memory limit,
		// and at 32 MiB the 1M-example benchmark took a third more page
		// faults (the runtime handed memory back and took it again).
		h.opt.RowGroupBytes = 8 << 20
	}
	h.opt.RowGroupBytes = min(h.opt.RowGroupBytes, max(h.opt.ShardBytes/2, 1))
	return h, nil
}

func (h *hfSink) write(split string, ex *datasets.Example, _ []byte) error {
	showMeta(&ex.Meta, h.show)
	sp := h.splits[split]
	if sp == nil {
		sp = &hfSplit{}
		h.splits[split] = sp
	}
	if sp.cur != nil && sp.shards[len(sp.shards)-1].Size()+h.opt.RowGroupBytes > h.opt.ShardBytes {
		if err := sp.cur.Close(); err != nil {
			return err
		}
		sp.cur = nil
	}
	if sp.cur == nil {
		f, err := datasets.CreateAtomic(filepath.Join(h.opt.OutDir, "data", fmt.Sprintf("%s-shard%d.parquet", split, len(sp.shards))))
		if err != nil {
			return err
		}
		sp.shards = append(sp.shards, f)
		sp.cur = datasets.NewParquetWriter(f, datasets.ParquetOptions{Compression: h.codec, Layout: h.opt.layout,
			RowGroupBytes: h.opt.RowGroupBytes, CreatedBy: "tuneline " + h.opt.Version})
	}
	sp.arrow += datasets.ArrowBytes(ex, h.opt.layout)
	return sp.cur.Write(ex)
}

func (h *hfSink) commit(r *Report) error {
	dataDir := filepath.Join(h.opt.OutDir, "data")
	var names []string
	for _, split := range sortedKeys(h.splits) {
		sp := h.splits[split]
		if err := sp.cur.Close(); err != nil {
			return err
		}
		sr := r.Splits[split]
		sr.ArrowBytes = sp.arrow
		for i, f := range sp.shards {
			name := fmt.Sprintf("%s-%05d-of-%05d.parquet", split, i, len(sp.shards))
			sr.Bytes += f.Size()
			if err := f.CommitAs(filepath.Join(dataDir, name)); err != nil {
				return err
			}
			sr.Files = append(sr.Files, "data/"+name)
			names = append(names, name)
		}
		r.Splits[split] = sr
	}
	// Remove shards of an earlier export that this one did not write.
	old, _ := filepath.Glob(filepath.Join(dataDir, "*-of-*.parquet"))
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	for _, o := range old {
		if !keep[filepath.Base(o)] {
			os.Remove(o)
		}
	}
	if lic := licenseFile(h.opt); lic != nil {
		if err := datasets.WriteFileAtomic(filepath.Join(h.opt.OutDir, "LICENSE"), lic); err != nil {
			return err
		}
	}
	return datasets.WriteFileAtomic(filepath.Join(h.opt.OutDir, "README.md"), DatasetCard(h.opt, r))
}

func (h *hfSink) abort() {
	for _, sp := range h.splits {
		for _, f := range sp.shards {
			f.Abort()
		}
	}
}

// hfFits says why an example cannot go into the export's Parquet layout,
// or "".
func hfFits(ex *datasets.Example, layout int) string {
	if r := kindMismatch(ex, layout == datasets.LayoutPairs || layout == datasets.LayoutPairsTools); r != "" {
		return r
	}
	switch {
	case (layout == datasets.LayoutChat || layout == datasets.LayoutPairs) && ex.HasTools():
		// Only standard input is not probed for tool calls.
		return "the export's columns were chosen without tool calls (standard input is not probed): give the input as a file"
	}
	return ""
}
