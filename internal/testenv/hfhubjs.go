package testenv

import "testing"

// HFHubJSVersion is the @huggingface/hub release the Hub stand-in is
// checked against.
const HFHubJSVersion = "2.17.5"

// HFHubJS installs the official Hugging Face Hub client for JavaScript
// (@huggingface/hub, through npm, once per cache) and returns the folder
// holding its node_modules: tests run it against the Hub stand-in.
func HFHubJS(t testing.TB) string {
	t.Helper()
	return NPM(t, "@huggingface/hub", HFHubJSVersion)
}
