package ingest

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quote is a file name, URL or archive member as messages print it: as it
// is when it is printable UTF-8 with no double quote and no space at either
// end, else Go-quoted (%q). A newline or control character in a name could
// otherwise forge a line of the summary ("  error: ..."), and a name that is
// not UTF-8 would print as U+FFFD.
func Quote(name string) string {
	if name != "" && name == strings.TrimSpace(name) && !strings.Contains(name, `"`) && printable(name) {
		return name
	}
	return strconv.Quote(name)
}

// Escape is a message with every character that is not printable (a
// newline, a terminal escape) and every byte that is not UTF-8 written as
// its Go escape, so that a message stays one line whatever names it holds.
func Escape(msg string) string {
	if printable(msg) {
		return msg
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		r, n := utf8.DecodeRuneInString(msg[i:])
		if r == utf8.RuneError && n <= 1 || !unicode.IsPrint(r) {
			q := strconv.Quote(msg[i : i+n])
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteString(msg[i : i+n])
		}
		i += n
	}
	return b.String()
}

// printable tells UTF-8 text of printable characters (the space the only
// white space).
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// rawName is a name's bytes when it is not UTF-8 (JSON would keep U+FFFD in
// their place), else nil.
func rawName(name string) []byte {
	if utf8.ValidString(name) {
		return nil
	}
	return []byte(name)
}
