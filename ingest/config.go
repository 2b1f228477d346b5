package ingest

import "time"

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
	MemoryMB int `yaml:"memory_mb" flag:"memory-mb" json:"-" help:"memory all the documents read at once may take together, whatever --workers says (their files and budgets); a document waits for room while others finish (0: no limit)"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config {
	return Config{ChunkTokens: 512, Overlap: 64, Workers: 4, DocTimePerMB: 5 * time.Second, DocMemoryMB: 512, MemoryMB: 1024}
}

// Apply sets the options c describes.
func (c Config) Apply(o *Options) {
	o.Chunk = ChunkOptions{Target: c.ChunkTokens, Overlap: c.Overlap}
	o.Workers = c.Workers
	o.Limits = Limits{TimePerMB: c.DocTimePerMB, MemoryMB: c.DocMemoryMB, RunMemoryMB: c.MemoryMB}
	o.AllowPrivateNetwork = c.AllowPrivateNetwork
}
