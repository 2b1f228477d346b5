package format

import "strings"

// Config is the export section: how examples are checked, deduplicated,
// split and written. The CLI's flags and tuneline.yaml's `export:` section
// fill this one struct.
type Config struct {
	Kind        string  `yaml:"kind" flag:"kind" help:"what the export holds: chat examples, preference pairs (DPO), or auto (pairs when the inputs hold any)"`
	Split       float64 `yaml:"split" flag:"split" help:"share of examples in train (1: no validation split)"`
	Seed        uint64  `yaml:"seed" flag:"seed" help:"seed of the train/validation split"`
	NearDup     float64 `yaml:"near_dup" flag:"near-dup" help:"near-duplicate similarity threshold, Jaccard of word 2-grams (0: off)"`
	MaxTokens   int     `yaml:"max_tokens" flag:"max-tokens" help:"flag examples longer than this many tokens"`
	Compression string  `yaml:"compression" flag:"compression" help:"hf: Parquet compression, snappy | zstd | gzip | none"`
	ShardSize   int64   `yaml:"shard_size" flag:"shard-size" help:"hf: largest Parquet shard, in MB"`
	License     string  `yaml:"license" flag:"license" help:"hf: licence id for the dataset card (the Hub's list, e.g. cc-by-4.0, apache-2.0; other)"`
	LicenseName string  `yaml:"license_name" flag:"license-name" help:"hf: the licence's name when license is other"`
	LicenseLink string  `yaml:"license_link" flag:"license-link" help:"hf: a link to the licence's text when license is other"`
	Language    string  `yaml:"language" flag:"language" help:"hf: comma-separated language codes for the dataset card (ISO 639: en, fr, yue, en-US)"`
	// AbsolutePaths keeps the inputs' absolute paths in the provenance the
	// export writes (meta.origin, meta.source, the report).
	AbsolutePaths bool `yaml:"absolute_paths" flag:"absolute-paths" help:"keep absolute input paths in the exported provenance and report (default: relative to the workspace or current folder)"`
}

// DefaultConfig holds the defaults of every field.
func DefaultConfig() Config {
	return Config{Kind: KindAuto, Split: 0.9, Seed: 42, NearDup: 0.8, MaxTokens: 4096, Compression: "snappy", ShardSize: 500, License: "other", Language: "en"}
}

// Apply sets the options c describes.
func (c Config) Apply(o *Options) {
	o.Kind, o.Split, o.Seed, o.NearDup, o.MaxTokens = c.Kind, c.Split, c.Seed, c.NearDup, c.MaxTokens
	o.Compression, o.ShardBytes, o.License = c.Compression, c.ShardSize*1_000_000, c.License
	o.LicenseName, o.LicenseLink, o.AbsolutePaths = c.LicenseName, c.LicenseLink, c.AbsolutePaths
	o.Language = nil
	for _, l := range strings.Split(c.Language, ",") {
		if l = strings.TrimSpace(l); l != "" {
			o.Language = append(o.Language, l)
		}
	}
}
