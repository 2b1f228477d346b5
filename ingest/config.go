package ingest

// Config is ingest's section: how sources become chunks. The CLI's flags
// and tuneline.yaml's `ingest:` section fill this one struct.
type Config struct {
	ChunkTokens int `yaml:"chunk_tokens" flag:"chunk-tokens" help:"target chunk size in cl100k tokens"`
	Overlap     int `yaml:"overlap" flag:"overlap" help:"tokens of a chunk repeated at the start of the next"`
	Workers     int `yaml:"workers" flag:"workers" help:"sources processed at once"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config { return Config{ChunkTokens: 512, Overlap: 64, Workers: 4} }

// Apply sets the options c describes.
func (c Config) Apply(o *Options) {
	o.Chunk = ChunkOptions{Target: c.ChunkTokens, Overlap: c.Overlap}
	o.Workers = c.Workers
}
