package format

import (
	"context"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

// BenchmarkFingerprint times the per-example dedup work on the export
// benchmark's data (bench/export.sh generates it).
func BenchmarkFingerprint(b *testing.B) {
	type ex struct {
		msgs []datasets.Message
		norm Norm
	}
	var exs []ex
	tc := tokens.NewCounter()
	var bytes int64
	for raw, err := range datasets.RawFile(context.Background(), "../bench/out/gen-200000.jsonl") {
		if err != nil {
			b.Skip("no benchmark data (run bench/export.sh):", err)
		}
		var n Norm
		c := check(raw.Decode(), tc, 0, &n)
		if !c.Valid {
			continue
		}
		bytes += int64(len(raw.Data))
		exs = append(exs, ex{c.Record.Example.Messages, Norm{H: append([]uint64(nil), n.H...), Ends: append([]int(nil), n.Ends...)}})
		if len(exs) == 20000 {
			break
		}
	}
	p := NewDedupParams(0.8)
	b.SetBytes(bytes)
	for b.Loop() {
		for i := range exs {
			Fingerprint(exs[i].msgs, &exs[i].norm, &p)
		}
	}
}

// BenchmarkCheck times decoding, checking and counting (with the
// normalised pieces) on the export benchmark's data.
func BenchmarkCheck(b *testing.B) {
	var raws []datasets.Raw
	var bytes int64
	for raw, err := range datasets.RawFile(context.Background(), "../bench/out/gen-200000.jsonl") {
		if err != nil {
			b.Skip("no benchmark data (run bench/export.sh):", err)
		}
		raws = append(raws, raw)
		bytes += int64(len(raw.Data))
		if len(raws) == 20000 {
			break
		}
	}
	tc := tokens.NewCounter()
	var n Norm
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			for _, r := range raws {
				r.Decode()
			}
		}
	})
	recs := make([]datasets.Record, len(raws))
	for i, r := range raws {
		recs[i] = r.Decode()
	}
	b.Run("check", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			for _, r := range recs {
				check(r, tc, 0, &n)
			}
		}
	})
}

// BenchmarkDedupAdd times the deduplication index on the signatures of the
// export benchmark's first 200k examples.
func BenchmarkDedupAdd(b *testing.B) {
	p := NewDedupParams(0.8)
	var sigs []Sig
	tc := tokens.NewCounter()
	var n Norm
	for raw, err := range datasets.RawFile(context.Background(), "../bench/out/gen-200000.jsonl") {
		if err != nil {
			b.Skip("no benchmark data (run bench/export.sh):", err)
		}
		c := check(raw.Decode(), tc, 0, &n)
		if c.Valid {
			sigs = append(sigs, Fingerprint(c.Record.Example.Messages, &n, &p))
		}
	}
	for _, reserve := range []bool{false, true} {
		b.Run(map[bool]string{false: "grow", true: "reserve"}[reserve], func(b *testing.B) {
			for b.Loop() {
				d := NewDeduper(p)
				if reserve {
					d.Reserve(len(sigs))
				}
				for i := range sigs {
					d.Add(&sigs[i], 0, i)
				}
			}
		})
	}
}
