// Package conf turns a stage's Config struct into its command-line flags and
// its commented section of tuneline.yaml, so that a setting is defined once
// (its field, its default, its one-line help) and reached the same way from
// a flag and from the workspace file.
//
// Fields are described by tags:
//
//	yaml:"chunk_tokens"    the key in tuneline.yaml ("-": flag only)
//	flag:"chunk-tokens"    the flag name (none: workspace only)
//	short:"m"              a one-letter alias of the flag
//	env:"OPENAI_API_KEY"   an environment variable the flag falls back to
//	help:"..."             one line, used by --help and by the scaffold
//
// Supported field types: string, bool, int, int64, uint64, float64 and
// time.Duration; []string (a flag given once per value).
package conf

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// Field is one described field of a Config.
type Field struct {
	Key, Flag, Short, Env, Help string
	Value                       reflect.Value // addressable
}

// Fields lists the described fields of the struct cfg points to, in order;
// embedded structs are walked.
func Fields(cfg any) []Field {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic("conf: want a pointer to a struct")
	}
	return fields(v.Elem())
}

func fields(v reflect.Value) []Field {
	var out []Field
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			out = append(out, fields(v.Field(i))...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		f := Field{Key: key, Flag: sf.Tag.Get("flag"), Short: sf.Tag.Get("short"), Env: sf.Tag.Get("env"), Help: sf.Tag.Get("help"), Value: v.Field(i)}
		if f.Key == "" && f.Flag == "" {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Flags returns a flag for every field of cfg that has a flag tag, each
// writing into its field and showing the field's current value as its
// default: set the defaults in cfg first.
func Flags(cfg any) []cli.Flag {
	var out []cli.Flag
	for _, f := range Fields(cfg) {
		if f.Flag == "" {
			continue
		}
		var aliases, env []string
		if f.Short != "" {
			aliases = []string{f.Short}
		}
		if f.Env != "" {
			env = []string{f.Env}
		}
		p := f.Value.Addr().Interface()
		switch p := p.(type) {
		case *string:
			out = append(out, &cli.StringFlag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help, Value: *p, Destination: p})
		case *bool:
			out = append(out, &cli.BoolFlag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help, Value: *p, Destination: p})
		case *int:
			out = append(out, &cli.IntFlag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help, Value: *p, Destination: p})
		case *int64:
			out = append(out, &cli.Int64Flag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help, Value: *p, Destination: p})
		case *uint64:
			out = append(out, &cli.Uint64Flag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help, Value: *p, Destination: p})
		case *float64:
			out = append(out, &cli.Float64Flag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help, Value: *p, Destination: p})
		case *time.Duration:
			out = append(out, &cli.DurationFlag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help, Value: *p, Destination: p})
		case *[]string: // repeated: --host a --host b
			out = append(out, &cli.StringSliceFlag{Name: f.Flag, Aliases: aliases, EnvVars: env, Usage: f.Help,
				Action: func(_ *cli.Context, v []string) error { *p = v; return nil }})
		default:
			panic(fmt.Sprintf("conf: field %s: unsupported type %T", f.Flag, p))
		}
	}
	return out
}

// Scaffold writes the yaml fields of cfg as "key: value  # help" lines with
// the given indent, the values being cfg's current ones (its defaults).
func Scaffold(w io.Writer, cfg any, indent string) error {
	fs := Fields(cfg)
	width := 0
	lines := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.Key == "" || f.Key == "-" {
			lines = append(lines, "")
			continue
		}
		l := fmt.Sprintf("%s%s: %s", indent, f.Key, Format(f.Value))
		lines = append(lines, l)
		width = max(width, len(l))
	}
	for i, f := range fs {
		if lines[i] == "" {
			continue
		}
		help := f.Help
		if f.Flag != "" {
			help += " (--" + f.Flag + ")"
		}
		if _, err := fmt.Fprintf(w, "%-*s  # %s\n", width, lines[i], help); err != nil {
			return err
		}
	}
	return nil
}

// Format writes a value as YAML that decodes back to it.
func Format(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case string:
		return strconv.Quote(x)
	case time.Duration:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// Without leaves out the flags of the given names (a command that takes the
// setting another way, say as a positional argument).
func Without(flags []cli.Flag, names ...string) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if !slices.Contains(names, f.Names()[0]) {
			out = append(out, f)
		}
	}
	return out
}

// Only keeps the flags of the given names.
func Only(flags []cli.Flag, names ...string) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if slices.Contains(names, f.Names()[0]) {
			out = append(out, f)
		}
	}
	return out
}
