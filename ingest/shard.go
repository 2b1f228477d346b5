package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Shard is part K of N of the sources (0 <= K < N), so that N machines
// (a Kubernetes Indexed Job, a Slurm array) each ingest one part. A source
// belongs to the part its name hashes to: the path or URL as it appears in
// the chunks' provenance, so the same command on every machine, with the
// sources at the same path (a shared mount, a bucket), cuts the same
// parts, and the N parts together are exactly the sources of one run. The
// zero Shard is all of them.
type Shard struct{ K, N int }

// ParseShard reads "K/N".
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 0 || ki >= ni {
		return Shard{}, fmt.Errorf("shard %q: want K/N with 0 <= K < N, such as 0/3 (the index of this machine / how many)", s)
	}
	return Shard{ki, ni}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// Has says whether the source belongs to this part.
func (s Shard) Has(source string) bool {
	if s.N <= 1 {
		return true
	}
	h := sha256.Sum256([]byte(source))
	return binary.BigEndian.Uint64(h[:8])%uint64(s.N) == uint64(s.K)
}

// Filter keeps the sources of this part, in their order.
func (s Shard) Filter(sources []string) []string {
	if s.N <= 1 {
		return sources
	}
	var out []string
	for _, src := range sources {
		if s.Has(src) {
			out = append(out, src)
		}
	}
	return out
}
