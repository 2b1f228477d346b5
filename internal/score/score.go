// Package score holds the text-similarity measures the quality tests and
// benchmarks use, written to match the public benchmarks' own scorers: the
// indel ratio of the PDF-extraction tables and the shingle F1 of the
// article-extraction benchmark.
package score

import (
	"math/bits"
	"regexp"
	"strings"
	"unicode/utf8"
)

// IndelRatio is 2*LCS(a, b) / (len(a)+len(b)) over Unicode code points, the
// ratio python-Levenshtein's ratio() reports (1 for two empty texts). It
// uses the bit-parallel LCS of Allison-Dix and Hyyrö: O(len(a)*len(b)/64).
func IndelRatio(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	total := len(ra) + len(rb)
	if total == 0 {
		return 1
	}
	return 2 * float64(LCS(ra, rb)) / float64(total)
}

// LCS is the length of the longest common subsequence of a and b.
func LCS(a, b []rune) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(b) == 0 {
		return 0
	}
	words := (len(a) + 63) / 64
	masks := map[rune][]uint64{}
	for i, c := range a {
		m := masks[c]
		if m == nil {
			m = make([]uint64, words)
			masks[c] = m
		}
		m[i/64] |= 1 << (i % 64)
	}
	s := make([]uint64, words)
	for i := range s {
		s[i] = ^uint64(0)
	}
	if r := len(a) % 64; r != 0 {
		s[words-1] = 1<<r - 1
	}
	full := make([]uint64, words)
	copy(full, s)
	zero := make([]uint64, words)
	for _, c := range b {
		m := masks[c]
		if m == nil {
			m = zero
		}
		// s = ((s + u) | (s - u)) & full, with u = s & m, on multiword integers.
		var carry, borrow uint64
		for w := 0; w < words; w++ {
			u := s[w] & m[w]
			sum, c1 := bits.Add64(s[w], u, carry)
			diff, b1 := bits.Sub64(s[w], u, borrow)
			carry, borrow = c1, b1
			s[w] = (sum | diff) & full[w]
		}
	}
	ones := 0
	for _, w := range s {
		ones += bits.OnesCount64(w)
	}
	return len(a) - ones
}

var space = regexp.MustCompile(`\s+`)

// Normalize folds every run of white space to one space and trims the ends
// (score-text's --normalize).
func Normalize(s string) string {
	return strings.TrimSpace(space.ReplaceAllString(s, " "))
}

// Shingles counts the n-token shingles of text, tokens being runs of
// Unicode letters, digits and underscores (Python's \w+). A text of fewer
// than n tokens is one shingle of all of them.
func Shingles(text string, n int) map[string]int {
	var toks []string
	start := -1
	for i, r := range text {
		if isWord(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			toks = append(toks, text[start:i])
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, text[start:])
	}
	out := map[string]int{}
	if len(toks) == 0 {
		return out
	}
	if len(toks) < n {
		out[strings.Join(toks, "\x00")]++
		return out
	}
	for i := 0; i+n <= len(toks); i++ {
		out[strings.Join(toks[i:i+n], "\x00")]++
	}
	return out
}

func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return isUnicodeWord(r)
}

// PR is one page's shingle precision and recall.
type PR struct{ Precision, Recall float64 }

// ShinglePR scores got against want by 4-token shingles counted as
// multisets, as the article-extraction benchmark does: an empty output
// against an empty reference is precision 1.
func ShinglePR(want, got string) PR {
	w, g := Shingles(want, 4), Shingles(got, 4)
	tp, ng, nw := 0, 0, 0
	for k, c := range g {
		ng += c
		if d := w[k]; d > 0 {
			tp += min(c, d)
		}
	}
	for _, c := range w {
		nw += c
	}
	var pr PR
	switch {
	case ng > 0:
		pr.Precision = float64(tp) / float64(ng)
	case nw == 0:
		pr.Precision = 1
	}
	if nw > 0 {
		pr.Recall = float64(tp) / float64(nw)
	} else {
		pr.Recall = 1
	}
	return pr
}

// F1 averages per-page precision and recall and returns their harmonic
// mean with the two averages (the benchmark's published metric).
func F1(pages []PR) (f1, precision, recall float64) {
	if len(pages) == 0 {
		return 0, 0, 0
	}
	for _, p := range pages {
		precision += p.Precision
		recall += p.Recall
	}
	precision /= float64(len(pages))
	recall /= float64(len(pages))
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return f1, precision, recall
}
