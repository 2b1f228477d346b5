package score

import (
	"math"
	"testing"
)

func TestIndelRatio(t *testing.T) {
	long := func(s string, n int) string {
		out := ""
		for range n {
			out += s
		}
		return out
	}
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"", "", 1},
		{"abc", "", 0},
		{"abc", "abc", 1},
		{"kitten", "sitting", 2 * 4.0 / 13}, // LCS "ittn"
		{"Grüße", "Grüsse", 2 * 4.0 / 11},   // code points, not bytes
		{long("ab", 100), long("ba", 100), 2 * 199.0 / 400}, // over several words
		{long("x", 64), long("x", 65), 2 * 64.0 / 129},      // a word boundary
	} {
		if got := IndelRatio(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("IndelRatio(%.20q, %.20q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// The bit-parallel LCS agrees with the textbook dynamic programme.
func TestLCSMatchesDP(t *testing.T) {
	texts := []string{"", "a", "abcbdab", "bdcaba", "the quick brown fox", "quick the fox brown", "ααβγ", "γβαα"}
	for _, a := range texts {
		for _, b := range texts {
			ra, rb := []rune(a), []rune(b)
			dp := make([][]int, len(ra)+1)
			for i := range dp {
				dp[i] = make([]int, len(rb)+1)
			}
			for i := 1; i <= len(ra); i++ {
				for j := 1; j <= len(rb); j++ {
					if ra[i-1] == rb[j-1] {
						dp[i][j] = dp[i-1][j-1] + 1
					} else {
						dp[i][j] = max(dp[i-1][j], dp[i][j-1])
					}
				}
			}
			if got, want := LCS(ra, rb), dp[len(ra)][len(rb)]; got != want {
				t.Errorf("LCS(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestShingles(t *testing.T) {
	for _, tt := range []struct {
		text string
		want int // distinct shingles
	}{
		{"", 0},
		{"one two", 1}, // fewer than 4 tokens: one shingle of all
		{"a b c d", 1},
		{"a b c d e", 2},
		{"a-b, c! d e", 2}, // punctuation separates tokens
		{"हिन्दी a b", 2},  // marks split words, as in Python: ह न द a b
	} {
		if got := len(Shingles(tt.text, 4)); got != tt.want {
			t.Errorf("Shingles(%q) has %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestShingleF1(t *testing.T) {
	ref := "the cat sat on the mat and looked at the dog"
	for _, tt := range []struct {
		got  string
		want PR
	}{
		{ref, PR{1, 1}},
		{"", PR{0, 0}},
		{"the cat sat on the mat", PR{1, 3.0 / 8}},
		{"the cat sat on the mat and looked at the dog plus some other words here", PR{8.0 / 13, 1}},
	} {
		if got := ShinglePR(ref, tt.got); math.Abs(got.Precision-tt.want.Precision) > 1e-9 || math.Abs(got.Recall-tt.want.Recall) > 1e-9 {
			t.Errorf("ShinglePR(%q) = %+v, want %+v", tt.got, got, tt.want)
		}
	}
	if got := ShinglePR("", ""); got != (PR{1, 1}) {
		t.Errorf("empty against empty = %+v, want 1 1", got)
	}
	f1, p, r := F1([]PR{{1, 0.5}, {0.5, 1}})
	if p != 0.75 || r != 0.75 || f1 != 0.75 {
		t.Errorf("F1 = %v %v %v", f1, p, r)
	}
}
