// Package envconfig is the one table of the environment variables tuneline
// reads, as ollama's envconfig is for Ollama: `tuneline --help` and the
// README's table are written from it, and a test fails when the code reads
// a variable the table does not list.
package envconfig

import (
	"fmt"
	"os"
	"strings"
)

// Var is one environment variable tuneline reads.
type Var struct {
	Name string
	// Help says what it does, in one line.
	Help string
}

// Vars lists every variable, tuneline's own first.
var Vars = []Var{
	{"TUNELINE_CACHE", "where installed tools (Ollama) and the reply caches of commands run outside a workspace go (default: the user cache folder's tuneline/)"},
	{"TUNELINE_OLLAMA", "the ollama binary tuneline's own server runs (default: the one installed in the cache, else installed with go install)"},
	{"TUNELINE_POOL_TRACE", "set: print the model pool's decisions (parallel levels, trials, servers out and back) on stderr"},
	{"TUNELINE_CPUPROFILE", "FILE: write a CPU profile of the command (for benchmarks)"},
	{"TUNELINE_MEMPROFILE", "FILE: write a profile of every allocation the command made"},
	{"OLLAMA_HOST", "the Ollama server, read as Ollama reads it (default 127.0.0.1:11434)"},
	{"OPENAI_API_KEY", "key for api openai model servers (--api-key) and for OpenAI tuning jobs; never stored"},
	{"OPENAI_BASE_URL", "OpenAI API base URL for tuning jobs (default https://api.openai.com/v1)"},
	{"OPENAI_ORG_ID", "OpenAI organisation for tuning jobs"},
	{"OPENAI_PROJECT_ID", "OpenAI project for tuning jobs"},
	{"HF_TOKEN", "Hugging Face token for publish hf (else the token file hf auth login writes)"},
	{"HF_TOKEN_PATH", "the Hugging Face token file (default $HF_HOME/token)"},
	{"HF_HOME", "the Hugging Face folder (default $XDG_CACHE_HOME/huggingface)"},
	{"HF_ENDPOINT", "the Hugging Face Hub's address (default https://huggingface.co)"},
	{"GOOGLE_APPLICATION_CREDENTIALS", "service account key file for publish gcs (else gcloud's application-default login)"},
	{"CLOUDSDK_CONFIG", "gcloud's configuration folder, where its application-default login is"},
	{"STORAGE_EMULATOR_HOST", "a Cloud Storage emulator to publish to, and to read gs:// sources from, instead of Google's service"},
	{"AWS_ENDPOINT_URL", "an S3-compatible store or emulator for s3:// sources and outputs (addressed path-style); the AWS SDK reads the other AWS_* settings itself"},
	{"AWS_ENDPOINT_URL_S3", "as AWS_ENDPOINT_URL, for S3 only"},
	{"GOMEMLIMIT", "the Go runtime's memory limit; when unset, export keeps its own (128 MiB plus the dedup index) and ingest three quarters of --memory-mb"},
	{"XDG_CACHE_HOME", "the user cache folder (default ~/.cache)"},
	{"NO_COLOR", "set: no colour on a terminal"},
	{"TERM", "dumb: no colour"},
}

// Get is os.Getenv of a variable of the table; a name not in it panics, so
// that a new variable cannot be read without being documented.
func Get(name string) string {
	Lookup(name)
	return os.Getenv(name)
}

// Lookup is os.LookupEnv of a variable of the table (see Get).
func Lookup(name string) (string, bool) {
	for _, v := range Vars {
		if v.Name == name {
			return os.LookupEnv(name)
		}
	}
	panic("envconfig: " + name + " is not in the table of environment variables")
}

// Help is the table as --help shows it.
func Help() string {
	var b strings.Builder
	for _, v := range Vars {
		fmt.Fprintf(&b, "   %-31s %s\n", v.Name, v.Help)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Markdown is the table as the README shows it.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| variable | what it does |\n| --- | --- |\n")
	for _, v := range Vars {
		fmt.Fprintf(&b, "| `%s` | %s |\n", v.Name, v.Help)
	}
	return b.String()
}
