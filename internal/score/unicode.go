package score

import "unicode"

// isUnicodeWord matches Python's re \w for str patterns: str.isalnum() (letters,
// and numbers of kinds Nd, Nl, No) or the underscore. Combining marks are
// not word characters there ("हिन्दी" is three tokens), and so not here.
func isUnicodeWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}
