// Package cachedir names where tuneline keeps what it can rebuild: installed
// tools (Ollama, DuckDB for tests) and the reply caches of commands run
// outside a workspace. It imports nothing of tuneline's but the table of
// environment variables.
package cachedir

import (
	"os"
	"path/filepath"

	"github.com/tuneline/tuneline/internal/envconfig"
)

// Dir is $TUNELINE_CACHE, else the user cache folder's tuneline/ (on Linux
// $XDG_CACHE_HOME/tuneline or ~/.cache/tuneline).
func Dir() string {
	if d := envconfig.Get("TUNELINE_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "tuneline")
}

// Replies is the reply cache of one command (synth, curate, eval) run
// outside a workspace: content-addressed, so every project can share it.
func Replies(kind string) string { return filepath.Join(Dir(), "replies", kind) }
