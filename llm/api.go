package llm

import (
	"fmt"
	"strings"
)

// API is one way of talking to model servers: a value in its own file
// (api_<name>.go) and one line in apis. Config, Open and the workspace ask
// it rather than comparing names: a new API is that file plus its test.
type API struct {
	// Name is the value of --api and of ollama.api.
	Name string
	// OllamaHosts: its servers are Ollama addresses (hosts are read as
	// OLLAMA_HOST is, models can be created on them, and a workspace may
	// find or start its own); else they are base URLs.
	OllamaHosts bool
	// Batches: the service may speak OpenAI's Batch API (/files,
	// /batches), through which a run can submit its requests (BatchAPI).
	Batches bool
	// open returns the backend of one server: addr is an Ollama address or
	// a base URL, as OllamaHosts says; e holds the rest of the settings.
	open func(addr string, e Endpoint) (Backend, error)
}

// apis is every API a Backend can speak; the first is the default.
var apis = []*API{ollamaAPI, openaiAPI}

// LookupAPI finds an API by name ("" is the default).
func LookupAPI(name string) (*API, error) {
	if name == "" {
		return apis[0], nil
	}
	for _, a := range apis {
		if a.Name == name {
			return a, nil
		}
	}
	var names []string
	for _, a := range apis {
		names = append(names, a.Name)
	}
	return nil, fmt.Errorf("api %q: want %s", name, strings.Join(names, " or "))
}

// api is c's API; an unknown name is reported by Open and New.
func (c Config) api() *API {
	if a, err := LookupAPI(c.API); err == nil {
		return a
	}
	return apis[0]
}

// OllamaHosts tells whether c's servers are Ollama addresses (see
// API.OllamaHosts): a workspace may then find or start its own.
func (c Config) OllamaHosts() bool { return c.api().OllamaHosts }
