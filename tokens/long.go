package tokens

import "unicode/utf8"

// longPiece is the longest piece byte-pair encoded whole. The library's
// encoding of a piece takes O(n log n) time and about 60 bytes a byte: one
// word of 8 MB (a record at datasets' limit) took 8 s and 350 MB, a 24 MB
// run of euro signs 20 s and 1.6 GB. No natural text has a piece this long
// (a run of letters, of punctuation or of white space past 64 KB), so such
// a piece is counted window by window, cut at rune boundaries and not
// cached: a token never spans two windows, so the count differs from the
// exact one by about a token a window (1 in 65,536 bytes; TestLongPieceBounded).
const longPiece = 64 << 10

func (c *Counter) longPieceTokens(p string) int {
	n := 0
	for len(p) > 0 {
		k := min(len(p), longPiece)
		for k < len(p) && k > 1 && !utf8.RuneStart(p[k]) {
			k--
		}
		w := p[:k]
		if w != c.win {
			c.win, c.winN = w, pieceTokens(w)
		}
		n += c.winN
		p = p[k:]
	}
	return n
}
