package format

// registry is every export target, in the order --help lists them. A new
// target is its file (target_<name>.go) and one line here.
var registry = []*Target{
	openaiTarget,
	sharegptTarget,
	alpacaTarget,
	vertexTarget,
	hfTarget,
}
