package llm

import "github.com/tuneline/tuneline/internal/setting"

// APIOpenAI is an OpenAI-compatible chat completions API (vLLM, llama.cpp
// server, SGLang, Ollama's /v1).
const APIOpenAI = "openai"

var openaiAPI = &API{
	Name:    APIOpenAI,
	Batches: true,
	open: func(addr string, e Endpoint) (Backend, error) {
		if addr == "" {
			return nil, &setting.Error{Section: "ollama", Key: "base_url", Flag: "base-url", Problem: "api openai needs a base URL"}
		}
		return NewOpenAI(addr, e.APIKey)
	},
}
