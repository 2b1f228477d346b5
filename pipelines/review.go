package pipelines

import (
	"os"

	"github.com/tuneline/tuneline/review"
)

// ReviewPath is the workspace's decisions file: what people accepted,
// rejected and edited in `tuneline review`.
func ReviewPath(cfg *Config) string { return cfg.Layout().Review() }

// ReviewOptions is what `tuneline review WORKSPACE` shows: the dataset the
// export reads (the curated examples, else the generated ones), with the
// chunks they came from, flagged with the export's settings.
func ReviewOptions(cfg *Config) review.Options {
	f := WorkspaceFiles(cfg)
	ex := f.Dataset
	if _, err := os.Stat(ex); err != nil {
		ex = f.Synth
	}
	return review.Options{Examples: ex, Chunks: f.Chunks, Decisions: ReviewPath(cfg),
		Flags: review.FlagOptions{MaxTokens: cfg.Export.MaxTokens, NearDup: cfg.Export.NearDup}}
}
