package pipelines

import (
	"context"
	"io"
	"strconv"
)

// stage is one member of the pipeline. Everything tuneline knows of a
// stage is its row, written in its own file (stage_<name>.go); the run,
// the plan, the manifest, the scaffold, the workspace's keys and errors and
// the CLI's help iterate the rows, and nothing else names a stage.
type stage struct {
	name string
	// format versions what the stage writes: raise it when a change of
	// tuneline changes the stage's outputs for the same inputs, so that
	// workspaces built before redo it (and only it, and what follows).
	format int
	// model: the stage talks to a model server, readied before it as a
	// step of its own (see modelStep).
	model bool
	// section is the stage's section of tuneline.yaml (its key is the
	// stage's name), doc the scaffold's comment above it, and scaffold
	// (may be nil) writes more after it (create: the models list).
	section  func(c *Config) any
	doc      string
	scaffold func(w io.Writer, opt InitOptions)
	// enabled says whether the workspace runs the stage; off says why
	// not, when that is not an "enabled: false" (default: switched off in
	// tuneline.yaml).
	enabled func(c *Config) bool
	off     string
	// inputs fills the manifest's detail (hashes of inputs and
	// parameters) and returns the files the stage writes.
	inputs func(r *runner, d map[string]string) (outputs []string, err error)
	// run does the work and sums it up in a line.
	run func(r *runner, ctx context.Context) (summary string, err error)
}

// stages is the pipeline, in order: one line per stage, whose row is in
// stage_<name>.go.
var stages = []*stage{
	&ingestStage,
	&synthStage,
	&curateStage,
	&exportStage,
	&publishStage,
	&tuneStage,
	&createStage,
	&evalStage,
}

func always(*Config) bool { return true }

// Stages are the stage names in order.
var Stages = func() []string {
	var names []string
	for _, s := range stages {
		names = append(names, s.name)
	}
	return names
}()

func lookup(name string) (*stage, bool) {
	for _, s := range stages {
		if s.name == name {
			return s, true
		}
	}
	return nil, false
}

// inputs is the stage's detail, keyed on what changes outputs: the stage's
// format version and its parameters, never the binary's version string or
// where the workspace lies (paths are relative to it).
func (r *runner) inputs(st *stage) (map[string]string, []string, error) {
	d := map[string]string{"format": strconv.Itoa(st.format)}
	outs, err := st.inputs(r, d)
	return d, outs, err
}
