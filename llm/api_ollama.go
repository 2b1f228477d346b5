package llm

// APIOllama is Ollama's native API.
const APIOllama = "ollama"

var ollamaAPI = &API{
	Name:        APIOllama,
	OllamaHosts: true,
	open: func(addr string, e Endpoint) (Backend, error) {
		host, err := ParseHost(addr)
		if err != nil {
			return nil, err
		}
		o, err := NewOllama(host)
		if err == nil {
			o.Silence = e.Silence
		}
		return o, err
	},
}
