package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's positional arguments after its flags, so
// that `tuneline create NAME --from X` works as well as `tuneline create
// --from X NAME` (urfave/cli stops reading flags at the first argument).
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	i := 1
	// global flags
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		out = append(out, args[i])
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	out = append(out, args[i])
	i++
	for i < len(args) && len(cmd.Subcommands) > 0 {
		sub := cmd.Command(args[i])
		if sub == nil {
			break
		}
		cmd = sub
		out = append(out, args[i])
		i++
	}
	// Global flags (-q) may stand after the command too: they move before
	// it unless the command has a flag of that name.
	global := map[string]bool{}
	for _, f := range app.Flags {
		if _, isBool := f.(*cli.BoolFlag); isBool {
			for _, n := range f.Names() {
				global[n] = true
			}
		}
	}
	own := map[string]bool{}
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			own[n] = true
		}
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if global[name] && !own[name] {
			out = append(out[:1], append([]string{a}, out[1:]...)...)
			continue
		}
		flags = append(flags, a)
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	out = append(out, flags...)
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

// samePath tells whether two paths name the same file: the same file on
// disk when both exist, else the same absolute path.
func samePath(a, b string) bool {
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// distinctOutputs refuses a command whose output files (flag name to path;
// "" and "-" are stdout and skipped) name the same file twice, or name one
// of its input files: one would silently overwrite the other.
func distinctOutputs(outs [][2]string, inputs []string) error {
	for i, o := range outs {
		if o[1] == "" || o[1] == "-" {
			continue
		}
		for _, p := range outs[i+1:] {
			if p[1] != "" && p[1] != "-" && samePath(o[1], p[1]) {
				return usageErr("--%s and --%s are the same file (%q): give each its own", o[0], p[0], o[1])
			}
		}
		for _, in := range inputs {
			if in != "-" && samePath(o[1], in) {
				return usageErr("--%s %q is also an input: the output would replace it", o[0], o[1])
			}
		}
	}
	return nil
}
