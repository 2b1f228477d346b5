package ingest

import (
	"os"
	"runtime/debug"
	"time"
)

// Config is ingest's section: how sources become chunks. The CLI's flags
// and tuneline.yaml's `ingest:` section fill this one struct.
type Config struct {
	ChunkTokens         int           `yaml:"chunk_tokens" flag:"chunk-tokens" help:"target chunk size in cl100k tokens"`
	Overlap             int           `yaml:"overlap" flag:"overlap" help:"tokens of a chunk repeated at the start of the next"`
	Workers             int           `yaml:"workers" flag:"workers" help:"sources processed at once"`
	DocTimePerMB        time.Duration `yaml:"doc_time_per_mb" flag:"doc-time-per-mb" help:"time one document may take per MB of its size (at least 10s); a document over it ends with an error and the run goes on (0: no limit)"`
	AllowPrivateNetwork bool          `yaml:"allow_private_network" flag:"allow-private-network" help:"let URLs and their redirects reach loopback, private and link-local (cloud metadata) addresses; by default only the host of a URL given may be private, and link-local never"`
	DocMemoryMB         int           `yaml:"doc_memory_mb" flag:"doc-memory-mb" help:"memory one document may take while it is read (decompressed streams, glyphs, parsed markup); a document over it ends with an error and the run goes on (0: no limit)"`
	// Not in the workspace's ingest stamp (json:"-"): it changes when
	// documents are read, never what comes out.
	MemoryMB int `yaml:"memory_mb" flag:"memory-mb" json:"-" help:"memory the run may take, whatever --workers says: the documents read at once take half of it together (their files and budgets; a document waits for room while others finish), and the Go runtime's soft limit is three quarters of it unless GOMEMLIMIT is set (0: no limit)"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config {
	return Config{ChunkTokens: 512, Overlap: 64, Workers: 4, DocTimePerMB: 5 * time.Second, DocMemoryMB: 512, MemoryMB: 1024}
}

// Apply sets the options c describes.
func (c Config) Apply(o *Options) {
	o.Chunk = ChunkOptions{Target: c.ChunkTokens, Overlap: c.Overlap}
	o.Workers = c.Workers
	o.Limits = Limits{TimePerMB: c.DocTimePerMB, MemoryMB: c.DocMemoryMB, RunMemoryMB: c.MemoryMB * docShare / 4}
	o.AllowPrivateNetwork = c.AllowPrivateNetwork
}

// The run's memory (MemoryMB) is shared out in quarters: half to the
// documents read at once (their files and budgets, see Pool), three
// quarters to the Go runtime's soft limit, which also counts the garbage
// the collector has yet to find, and the rest to what the runtime does not
// count (the program's own pages). Eight 43 MB chat logs at 4 workers
// with 1024 MB: the documents' whole 1024 MB and no soft limit, 975 MB of
// memory; halves and three quarters, 830 MB (BENCHMARKS.md).
const (
	docShare  = 2
	softShare = 3
)

// SoftMemoryLimit sets the Go runtime's soft memory limit to three
// quarters of the run's memory (MemoryMB), unless GOMEMLIMIT sets one, and
// returns what puts the limit before it back. The pool counts what
// documents hold, the runtime what the process holds: without it the
// collector let the heap grow to twice what was live.
func (c Config) SoftMemoryLimit() (restore func()) {
	if c.MemoryMB <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	before := debug.SetMemoryLimit(int64(c.MemoryMB) << 20 * softShare / 4)
	return func() { debug.SetMemoryLimit(before) }
}
