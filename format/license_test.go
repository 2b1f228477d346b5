package format

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --license is one of the Hub's identifiers (case-folded) or refused with
// the nearest one: the Hub rejects a card whose licence it does not list
// (huggingface_hub#4218).
func TestExportChecksLicense(t *testing.T) {
	in := corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"
	for _, tc := range []struct {
		license, want, hint string
	}{
		{"CC-BY-4.0", "cc-by-4.0", ""},
		{"apache-2.0", "apache-2.0", ""},
		{"", "other", ""},
		{"foo-bar", "", "--license other"},
		{"apache 2.0", "", "did you mean apache-2.0?"},
		{"cc-by-4", "", "did you mean cc-by-4.0?"},
		{"MIT License", "", "not one of the Hugging Face Hub's licence identifiers"},
	} {
		dir := t.TempDir()
		_, err := Export(context.Background(), []string{in}, Options{Target: TargetHF, OutDir: dir, Split: 1, License: tc.license, LicenseLink: "https://example.org/terms"})
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("--license %q: error %v, want one saying %q", tc.license, err, tc.hint)
			}
			continue
		}
		if err != nil {
			t.Fatalf("--license %q: %v", tc.license, err)
		}
		card, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		if !strings.Contains(string(card), "\nlicense: \""+tc.want+"\"\n") {
			t.Errorf("--license %q: card lacks license %q:\n%.300s", tc.license, tc.want, card)
		}
	}
}

// The default card (license other, no link) links a LICENSE file that the
// export writes, as the Hub's docs ask for other; with a link, no file.
func TestExportOtherLicenseHasLicenseFile(t *testing.T) {
	in := corpora + "openai-cookbook/toy_chat_fine_tuning.jsonl"
	for _, link := range []string{"", "https://example.org/terms"} {
		dir := t.TempDir()
		if _, err := Export(context.Background(), []string{in}, Options{Target: TargetHF, OutDir: dir, Split: 1, License: DefaultConfig().License, LicenseLink: link}); err != nil {
			t.Fatal(err)
		}
		card, _ := os.ReadFile(filepath.Join(dir, "README.md"))
		lic, err := os.ReadFile(filepath.Join(dir, "LICENSE"))
		want := link
		if link == "" {
			want = "LICENSE"
			if err != nil || !strings.Contains(string(lic), "No licence has been specified") {
				t.Errorf("no LICENSE file beside a card whose licence is other: %v %q", err, lic)
			}
		} else if err == nil {
			t.Errorf("a LICENSE file although the card links %s", link)
		}
		if !strings.Contains(string(card), "license_link: \""+want+"\"\n") {
			t.Errorf("card lacks license_link %q:\n%.300s", want, card)
		}
	}
}

// Language codes are ISO 639 codes from the registry, not just their
// shape.
func TestCheckLanguagesRegistry(t *testing.T) {
	got, err := CheckLanguages([]string{"en", "fra", "yue", "abc", "en-US", "zh-Hant", "multilingual"})
	if err != nil || len(got) != 7 {
		t.Errorf("%v %v", got, err)
	}
	for _, bad := range []string{"xx", "zz", "xx-US", "jj", "und", "EN", "english"} {
		if _, err := CheckLanguages([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := CheckLanguages([]string{"EN"}); err == nil || !strings.Contains(err.Error(), "did you mean en?") {
		t.Errorf("EN: %v", err)
	}
}
