package localollama

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/tuneline/tuneline/llm"
)

// Local policies: when to start tuneline's own Ollama.
const (
	LocalAuto   = "auto"   // when no server at the host has the model
	LocalAlways = "always" // always
	LocalNever  = "never"  // never: fail instead
)

// TinyName is the name Discover gives the tiny model on its own server.
const TinyName = "tiny"

// Found is the server and model to use.
type Found struct {
	Host  string
	Model string
	// Server is tuneline's own Ollama when Discover started one (the
	// caller stops it); its model is the tiny random-weight one, whose text
	// is gibberish.
	Server *Server
}

// Discover finds the Ollama to generate with: the server at host (read as
// Ollama reads OLLAMA_HOST; empty is the environment's) when it answers and
// has model, else, as local allows, tuneline's own Ollama in dir with the
// tiny model, announced loudly on log.
func Discover(ctx context.Context, host, model, local, dir string, log io.Writer) (Found, error) {
	h, err := llm.ParseHost(host)
	if err != nil {
		return Found{}, err
	}
	why := "ollama.local is always"
	if local != LocalAlways {
		if model == "" {
			why = "no model named (ollama.model)"
		} else if err := checkModel(ctx, h, model); err != nil {
			why = err.Error()
		} else {
			return Found{Host: h, Model: model}, nil
		}
	}
	if local == LocalNever {
		return Found{}, fmt.Errorf("no Ollama with model %q at %s (%s; set ollama.host/ollama.model or OLLAMA_HOST, or ollama.local: auto): %s", model, h, llm.HostEnv(), why)
	}
	fmt.Fprintf(log, "\n"+strings.Repeat("!", 78)+"\n"+
		"!! No Ollama with model %q found at %s.\n"+
		"!! (%s)\n"+
		"!! Starting tuneline's own Ollama with a TINY RANDOM-WEIGHT model: every generated\n"+
		"!! question, answer and score below is GIBBERISH. It shows the pipeline works; for\n"+
		"!! real data set ollama.host and ollama.model in tuneline.yaml (or OLLAMA_HOST).\n"+
		strings.Repeat("!", 78)+"\n\n", model, h, why)
	llm.SetPhase(ctx, "starting tuneline's own Ollama")
	defer llm.SetPhase(ctx, "")
	srv, err := Start(ctx, Options{Dir: dir, Log: log, NumParallel: 2})
	if err != nil {
		return Found{}, err
	}
	if !HasModel(ctx, srv.URL, TinyName) {
		llm.SetPhase(ctx, "creating the tiny random-weight model")
		if err := srv.CreateTiny(ctx, TinyName); err != nil {
			srv.Stop()
			return Found{}, err
		}
	}
	return Found{Host: srv.URL, Model: TinyName, Server: srv}, nil
}

// HasModel tells whether the server at host answers within 3 s and has
// model (a preflight, without pulling).
func HasModel(ctx context.Context, host, model string) bool {
	return checkModel(ctx, host, model) == nil
}

// checkModel is HasModel's reason: the server does not answer, or lacks
// the model (and lists what it has).
func checkModel(ctx context.Context, host, model string) error {
	b, err := llm.NewOllama(host)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = b.Preflight(cctx, model, false)
	return err
}

// ModelsDir is the models folder of a server Discover starts in dir.
func ModelsDir(dir string) string { return filepath.Join(dir, "models") }
