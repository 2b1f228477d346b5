// Package yamlerr words a YAML syntax error as "file:line: problem", the
// line counted from 1 for every kind of error yaml.v3 reports.
package yamlerr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are yaml.v3's parser errors, whose line it reports from a
// 0-based mark (one line early); its scanner errors and type errors count
// from 1.
var parserProblems = []string{"did not find expected", "found undefined tag handle", "found duplicate %", "found incompatible YAML document"}

// Error says where in file a yaml.v3 syntax error is, as "file:line:
// problem", with the line counted from 1 for every kind of error.
func Error(file string, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	line, _ := strconv.Atoi(m[1])
	for _, p := range parserProblems {
		if strings.HasPrefix(m[2], p) {
			// The parser names where the list or mapping it was reading
			// began: the mistake is there or below.
			return fmt.Errorf("%s:%d: %s (YAML syntax, in the list or mapping that starts on this line)", file, line+1, m[2])
		}
	}
	return fmt.Errorf("%s:%d: %s (YAML syntax)", file, line, m[2])
}
