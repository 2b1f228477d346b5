package format

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/tuneline/tuneline/internal/conf"
)

// CheckLicense returns the Hub's identifier for a --license value: one of
// hubLicenses, case-folded (CC-BY-4.0 is cc-by-4.0). Anything else is an
// error naming the nearest identifier, since the Hub refuses a card whose
// licence is not in its list.
func CheckLicense(l string) (string, error) {
	id := strings.ToLower(strings.TrimSpace(l))
	if id == "" {
		return "other", nil
	}
	if slices.Contains(hubLicenses, id) {
		return id, nil
	}
	// A near miss: spaces or underscores for hyphens, a missing hyphen,
	// a typo.
	norm := strings.NewReplacer(" ", "-", "_", "-").Replace(id)
	hint := ""
	if slices.Contains(hubLicenses, norm) {
		hint = norm
	} else {
		hint = conf.Nearest(norm, hubLicenses, 2)
	}
	msg := fmt.Sprintf("--license %q is not one of the Hugging Face Hub's licence identifiers", l)
	if hint != "" && hint != "other" {
		msg += fmt.Sprintf(" (did you mean %s?)", hint)
	}
	return "", fmt.Errorf("%s; for another licence give --license other with --license-name NAME and --license-link URL", msg)
}

// languageCode is the shape of the Hub's language codes: ISO 639-1, 639-2
// or 639-3 with optional region or script subtags (en, fr, yue, en-US,
// zh-Hant).
var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// hubLanguageSpecial are the values the Hub's card accepts in language
// besides ISO 639 codes.
var hubLanguageSpecial = []string{"multilingual", "code"}

// CheckLanguages trims and validates the card's language codes: ISO 639-1,
// 639-2 or 639-3 (en, fra, yue), optionally with a region or script
// subtag (en-US, zh-Hant), checked against the language registry of
// golang.org/x/text, which holds ISO 639 (a code that is well-formed but
// unassigned, like xx, is refused).
func CheckLanguages(langs []string) ([]string, error) {
	var out []string
	for _, l := range langs {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if slices.Contains(hubLanguageSpecial, strings.ToLower(l)) {
			out = append(out, strings.ToLower(l))
			continue
		}
		if !languageCode.MatchString(l) {
			hint := ""
			if low := strings.ToLower(l); languageCode.MatchString(low) {
				hint = fmt.Sprintf(" (did you mean %s?)", low)
			}
			return nil, fmt.Errorf("language %q is not a language code (ISO 639-1, 639-2 or 639-3 in lower case, like en, fr, yue or en-US)%s", l, hint)
		}
		if _, err := language.Parse(l); err != nil || strings.HasPrefix(l, "und") {
			return nil, fmt.Errorf("language %q is not an ISO 639 language code (like en, fr, yue or en-US)", l)
		}
		out = append(out, l)
	}
	return out, nil
}
