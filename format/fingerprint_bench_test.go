package format

import (
	"context"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

// benchRecords reads the first n records (all when n is 0) of the export
// benchmark's data, which bench/export.sh generates, and the bytes they
// take.
func benchRecords(b *testing.B, n int) ([]datasets.Raw, int64) {
	var raws []datasets.Raw
	var bytes int64
	for raw, err := range datasets.RawFile(context.Background(), "../bench/out/gen-200000.jsonl") {
		if err != nil {
			b.Skip("no benchmark data (run bench/export.sh):", err)
		}
		raws = append(raws, raw)
		bytes += int64(len(raw.Data))
		if len(raws) == n {
			break
		}
	}
	return raws, bytes
}

// BenchmarkFingerprint times the per-example dedup work.
func BenchmarkFingerprint(b *testing.B) {
	type ex struct {
		msgs []datasets.Message
		norm Norm
	}
	var exs []ex
	tc := tokens.NewCounter()
	raws, bytes := benchRecords(b, 20000)
	for _, raw := range raws {
		var n Norm
		if c := check(raw.Decode(), tc, 0, &n); c.Valid {
			exs = append(exs, ex{c.Record.Example.Messages, n})
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

// BenchmarkCheck times decoding, and checking with token counts and the
// normalised pieces.
func BenchmarkCheck(b *testing.B) {
	raws, bytes := benchRecords(b, 20000)
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
// benchmark's 200k examples, growing by doubling or reserved up front.
func BenchmarkDedupAdd(b *testing.B) {
	p := NewDedupParams(0.8)
	var sigs []Sig
	tc := tokens.NewCounter()
	var n Norm
	raws, _ := benchRecords(b, 0)
	for _, raw := range raws {
		if c := check(raw.Decode(), tc, 0, &n); c.Valid {
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
