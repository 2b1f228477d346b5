// Package tokens counts cl100k_base tokens the way OpenAI's fine-tuning
// data-prep check does, with the vocabulary compiled in (no download at run
// time).
//
// Counting is exact (but for pieces over 64 KB, see longPiece): text is split into pieces with a hand-written
// equivalent of cl100k_base's pre-tokenizer regular expression, and each
// distinct piece is byte-pair encoded once by github.com/tiktoken-go/tokenizer
// and remembered. Chat data repeats the same words endlessly, so after a warm
// up nearly every piece is a cache hit; this is about 20 times faster than
// running the library's regular expression over every text. The equivalence
// with the library is checked by a differential fuzz test.
package tokens

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/tiktoken-go/tokenizer"
)

var (
	codecOnce sync.Once
	codec     tokenizer.Codec
	codecErr  error
)

func lib() (tokenizer.Codec, error) {
	codecOnce.Do(func() {
		codec, codecErr = tokenizer.Get(tokenizer.Cl100kBase)
		if codecErr != nil {
			codecErr = fmt.Errorf("load cl100k_base: %w", codecErr)
		}
	})
	return codec, codecErr
}

// LibraryCount counts with the library alone (the reference the fast path is
// tested against).
func LibraryCount(s string) int {
	c, err := lib()
	if err != nil {
		panic(err)
	}
	ids, _, err := c.Encode(s)
	if err != nil {
		panic(err)
	}
	return len(ids)
}

// pieceTokens counts the tokens of one piece of the pre-tokenizer. The
// library's generated regexp leaves DEL (U+007F) out of its character
// classes, so it drops that byte from its count; tiktoken counts it as
// one token (cl100k_base id 221), and no other token of the vocabulary
// holds it, so BPE never merges it with its neighbours: a piece with DEL
// counts as its runs between DELs plus one per DEL.
// TestLibraryDropsDEL shows the library's behaviour.
func pieceTokens(p string) int {
	if !strings.Contains(p, del) {
		return LibraryCount(p)
	}
	n := strings.Count(p, del)
	for seg := range strings.SplitSeq(p, del) {
		if seg != "" {
			n += LibraryCount(seg)
		}
	}
	return n
}

const del = "\x7f"

// maxCache bounds the piece cache of one Counter.
const maxCache = 1 << 18

// Counter counts tokens. It is not safe for concurrent use: give each
// goroutine its own.
type Counter struct {
	cache map[string]entry
	// short caches pieces of at most 15 bytes under their bytes packed into
	// two integers: no string hashing on the hot path.
	short shortCache
	// win and winN are the last window of a long piece counted and its
	// count (a run of one character repeats its windows).
	win  string
	winN int
}

// entry is what the cache knows of a piece: its token count and its
// normalised hash (see CountNorm).
type entry struct {
	n    int32
	norm uint64
}

// shortCache is an open-addressing table from packed pieces (see pack) to
// entries. Key and entry share a slot, so a lookup touches one cache line.
type shortCache struct {
	slots []slot
	n     int
}

type slot struct {
	k packed
	e entry
}

// packed is a piece of at most 15 bytes: its first 8 bytes, then the rest
// with the length in the top byte (so hi is never 0, the empty slot).
type packed struct{ lo, hi uint64 }

// maxPacked is the longest piece the short cache takes.
const maxPacked = 15

func le64(p string) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(p), 8))
}

func le32(p string) uint64 {
	return uint64(binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(p), 4)))
}

// pack packs a piece of 1 to 15 bytes with a few overlapping loads.
func pack(p string) packed {
	n := len(p)
	var k packed
	switch {
	case n >= 8:
		k.lo = le64(p)
		k.hi = le64(p[n-8:]) >> (8 * (16 - n)) // bytes 8..n-1
	case n >= 4:
		k.lo = le32(p) | le32(p[n-4:])<<(8*(n-4))
	default:
		for i := 0; i < n; i++ {
			k.lo |= uint64(p[i]) << (8 * i)
		}
	}
	k.hi |= uint64(n) << 56
	return k
}

func (k packed) slot(mask uint64) uint64 {
	return ((k.lo ^ bits.RotateLeft64(k.hi, 31)) * 0x9e3779b97f4a7c15 >> 20) & mask
}

func (t *shortCache) get(k packed) (entry, bool) {
	mask := uint64(len(t.slots) - 1)
	if len(t.slots) == 0 {
		return entry{}, false
	}
	for i := k.slot(mask); ; i = (i + 1) & mask {
		switch t.slots[i].k {
		case k:
			return t.slots[i].e, true
		case packed{}:
			return entry{}, false
		}
	}
}

func (t *shortCache) put(k packed, v entry) {
	if (t.n+1)*2 > len(t.slots) {
		if len(t.slots) >= maxCache*2 {
			clear(t.slots)
			t.n = 0
		} else {
			old := t.slots
			t.slots = make([]slot, max(1024, 2*len(old)))
			t.n = 0
			for _, o := range old {
				if o.k != (packed{}) {
					t.put(o.k, o.e)
				}
			}
		}
	}
	mask := uint64(len(t.slots) - 1)
	i := k.slot(mask)
	for t.slots[i].k != (packed{}) && t.slots[i].k != k {
		i = (i + 1) & mask
	}
	if t.slots[i].k == (packed{}) {
		t.n++
	}
	t.slots[i] = slot{k, v}
}

// NewCounter returns a Counter with an empty piece cache.
func NewCounter() *Counter {
	if _, err := lib(); err != nil {
		panic(err)
	}
	return &Counter{cache: make(map[string]entry, 1024)}
}

// Count returns the number of cl100k_base tokens in s.
func (c *Counter) Count(s string) int {
	if !utf8.ValidString(s) {
		// The library decodes invalid bytes rune by rune; leave such text to it.
		return LibraryCount(s)
	}
	n := 0
	for len(s) > 0 {
		k, e := c.next(s)
		n += int(e.n)
		s = s[k:]
	}
	return n
}

// Normalised pieces. CountNorm also appends, for every piece of the text,
// one 64-bit value that describes the piece with case and white space
// normalised away: a hash of its text folded to lower case with the white
// space around it trimmed, and flags. Text that differs only in case and in
// the kind and amount of white space gives the same sequence once runs of
// white space are collapsed (see the flags), which is what duplicate
// detection needs; the values come from the same cache as the counts, so
// they cost one pass over the text for both.
const (
	// NormSpace is the value of a piece that is all white space.
	NormSpace uint64 = 1
	// NormLead and NormTrail flag white space before and after the text of
	// a piece (" word", "?\n").
	NormLead  uint64 = 2
	NormTrail uint64 = 4
	// NormWord flags a piece with a letter or digit in it.
	NormWord uint64 = 8
	// NormFlags masks the flags; the rest is the hash.
	NormFlags uint64 = 15
)

// CountNorm counts the tokens of s like Count and appends the normalised
// value of each of its pieces to dst.
func (c *Counter) CountNorm(s string, dst []uint64) (int, []uint64) {
	if !utf8.ValidString(s) {
		n := LibraryCount(s)
		s = strings.ToValidUTF8(s, "\uFFFD")
		for len(s) > 0 {
			k := nextPiece(s)
			dst = append(dst, normalise(s[:k]))
			s = s[k:]
		}
		return n, dst
	}
	return c.CountNormValid(s, dst)
}

// CountNormValid is CountNorm for text known to be valid UTF-8 (decoded
// JSON from valid input is): it skips the check. Counts of invalid text
// are undefined.
func (c *Counter) CountNormValid(s string, dst []uint64) (int, []uint64) {
	n := 0
	for len(s) > 0 {
		k, e := c.next(s)
		n += int(e.n)
		dst = append(dst, e.norm)
		s = s[k:]
	}
	return n, dst
}

// next returns the length and the cache entry of the first piece of s
// (valid UTF-8, not empty).
func (c *Counter) next(s string) (int, entry) {
	if k, key := shortWord(s); k > 0 {
		if e, ok := c.short.get(key); ok {
			return k, e
		}
		e := entry{int32(LibraryCount(s[:k])), normalise(s[:k])}
		c.short.put(key, e)
		return k, e
	}
	k := nextPiece(s)
	return k, c.piece(s[:k])
}

// shortWord finds the commonest piece, a word of 1 to 14 ASCII letters
// alone or after one space, and packs it (see pack) straight from two
// 8-byte loads, without a loop or a branch on the word's length: word
// lengths are random, and branching on them costs a misprediction per
// piece. It returns 0 for anything else (nextPiece's general rules take
// it): s shorter than 16 bytes, a letter run reaching 16 bytes or
// continuing into a non-ASCII rune, which may be a letter.
func shortWord(s string) (int, packed) {
	if len(s) < 16 {
		return 0, packed{}
	}
	const high = 0x8080808080808080
	w0, w1 := le64(s), le64(s[8:])
	sp := 0
	if s[0] == ' ' {
		sp = 1
	}
	// z: the high bit of every byte that is not a letter (the leading
	// space counts as one).
	z0 := ^asciiLetters(w0) & high &^ uint64(sp<<7)
	z1 := ^asciiLetters(w1) & high
	k0 := bits.TrailingZeros64(z0) >> 3 // 8 when the first word is all letters
	k := k0 + bits.TrailingZeros64(z1)>>3&-(k0>>3)
	if k <= sp || k >= 16 || s[k] >= utf8.RuneSelf {
		return 0, packed{}
	}
	lo := w0 & (^uint64(0) >> (64 - 8*min(k, 8)))
	hi := w1 & (1<<(8*max(k-8, 0)) - 1)
	return k, packed{lo, hi | uint64(k)<<56}
}

func (c *Counter) piece(p string) entry {
	if len(p) > longPiece {
		return entry{int32(c.longPieceTokens(p)), normalise(p)}
	}
	if len(p) <= maxPacked {
		k := pack(p)
		if e, ok := c.short.get(k); ok {
			return e
		}
		e := entry{int32(pieceTokens(p)), normalise(p)}
		c.short.put(k, e)
		return e
	}
	if e, ok := c.cache[p]; ok {
		return e
	}
	e := entry{int32(pieceTokens(p)), normalise(p)}
	if len(c.cache) >= maxCache {
		clear(c.cache)
	}
	c.cache[p] = e
	return e
}

// normalise computes a piece's normalised value (see CountNorm).
func normalise(p string) uint64 {
	start, end := 0, len(p)
	for start < end {
		r, n := utf8.DecodeRuneInString(p[start:])
		if !unicode.IsSpace(r) {
			break
		}
		start += n
	}
	if start == end {
		return NormSpace
	}
	for end > start {
		r, n := utf8.DecodeLastRuneInString(p[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= n
	}
	var flags uint64
	if start > 0 {
		flags |= NormLead
	}
	if end < len(p) {
		flags |= NormTrail
	}
	h := uint64(14695981039346656037) // FNV-1a over the lower-cased UTF-8
	var buf [utf8.UTFMax]byte
	for _, r := range p[start:end] {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			flags |= NormWord
		}
		for _, b := range utf8.AppendRune(buf[:0], unicode.ToLower(r)) {
			h = (h ^ uint64(b)) * 1099511628211
		}
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h&^NormFlags | flags
}

// Pre-tokenizer. cl100k_base splits text with
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// nextPiece returns the length of the first piece of s (s non-empty, valid
// UTF-8), trying the alternatives in order exactly as the regexp engine does.

func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && asciiClass[r] == clLetter
	}
	return unicode.IsLetter(r)
}
func isNumber(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && asciiClass[r] == clNumber
	}
	return unicode.IsNumber(r)
}

const (
	clOther = iota
	clLetter
	clNumber
	clPunct // printable ASCII that is not a letter, digit, space or '\''
)

var asciiClass = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-32] = clLetter, clLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clNumber
	}
	for c := '!'; c <= '~'; c++ {
		if t[c] == clOther && c != '\'' {
			t[c] = clPunct
		}
	}
	return t
}()

func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85:
		return true
	}
	return r > 0x7f && unicode.In(r, unicode.Z)
}
func isNL(r rune) bool { return r == '\r' || r == '\n' }

func decode(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// lower folds the ASCII letters and the few non-ASCII runes that the
// case-insensitive contraction group also matches.
func contraction(s string) int {
	r, n := decode(s, 1)
	switch r {
	case 's', 'S', 't', 'T', 'm', 'M', 'd', 'D', 0x17f: // ſ folds to s
		return 1 + n
	case 0x212a: // Kelvin sign folds to k: not in the set
		return 0
	}
	r2, n2 := decode(s, 1+n)
	switch {
	case (r == 'r' || r == 'R') && (r2 == 'e' || r2 == 'E'):
		return 1 + n + n2
	case (r == 'v' || r == 'V') && (r2 == 'e' || r2 == 'E'):
		return 1 + n + n2
	case (r == 'l' || r == 'L') && (r2 == 'l' || r2 == 'L'):
		return 1 + n + n2
	}
	return 0
}

// asciiLetters returns a mask with the high bit of each byte of w that is
// an ASCII letter set (exact per byte: no borrows cross bytes).
func asciiLetters(w uint64) uint64 {
	const ones, m, n = 0x0101010101010101, 0x60, 0x7b // 'a'-1, 'z'+1
	x := w | ones*0x20                                // fold case; bytes >= 0x80 stay out
	y := x & (ones * 127)
	return (ones*(127+n) - y) &^ x & (y + ones*(127-m)) & (ones * 0x80)
}

func letters(s string, i int) int {
	for i+8 <= len(s) {
		t := asciiLetters(le64(s[i:]))
		if t == 0x8080808080808080 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(^t&0x8080808080808080) / 8
		break
	}
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiClass[c] != clLetter {
				return i
			}
			i++
			continue
		}
		r, n := decode(s, i)
		if !isLetter(r) {
			break
		}
		i += n
	}
	return i
}

func nextPiece(s string) int {
	// The commonest pieces first: a word of ASCII letters, alone or after
	// one space (rule 2 below).
	if c := s[0]; c < utf8.RuneSelf && asciiClass[c] == clLetter {
		return letters(s, 1)
	} else if c == ' ' && len(s) > 1 && s[1] < utf8.RuneSelf && asciiClass[s[1]] == clLetter {
		return letters(s, 2)
	} else if c < utf8.RuneSelf && asciiClass[c] == clPunct && (len(s) == 1 || s[1] == ' ') {
		// One punctuation mark before a space or the end (rule 4: rule 2
		// needs a letter next, rule 4's run and newlines stop at the space).
		return 1
	}
	r0, n0 := decode(s, 0)
	// 1. contractions
	if r0 == '\'' {
		if k := contraction(s); k > 0 {
			return k
		}
	}
	// 2. [^\r\n\p{L}\p{N}]?\p{L}+
	if isLetter(r0) {
		return letters(s, n0)
	}
	if !isNL(r0) && !isNumber(r0) {
		if r1, _ := decode(s, n0); r1 >= 0 && isLetter(r1) {
			return letters(s, n0)
		}
	}
	// 3. \p{N}{1,3}
	if isNumber(r0) {
		i := n0
		for k := 1; k < 3; k++ {
			r, n := decode(s, i)
			if r < 0 || !isNumber(r) {
				break
			}
			i += n
		}
		return i
	}
	// 4.  ?[^\s\p{L}\p{N}]+[\r\n]*
	punct := func(r rune) bool { return r >= 0 && !isSpace(r) && !isLetter(r) && !isNumber(r) }
	start := -1
	if punct(r0) {
		start = 0
	} else if r0 == ' ' {
		if r1, _ := decode(s, 1); punct(r1) {
			start = 1
		}
	}
	if start >= 0 {
		i := start
		for {
			r, n := decode(s, i)
			if !punct(r) {
				break
			}
			i += n
		}
		for i < len(s) && (s[i] == '\r' || s[i] == '\n') {
			i++
		}
		return i
	}
	// r0 is white space from here on.
	// 5. \s*[\r\n]+ : up to the last newline of the white-space run.
	end, lastNL, prev := 0, -1, 0
	for end < len(s) {
		r, n := decode(s, end)
		if !isSpace(r) {
			break
		}
		if isNL(r) {
			lastNL = end
		}
		prev = end
		end += n
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	// 6. \s+(?!\S): the run at the end of the text, or all but its last rune.
	if end == len(s) || prev > 0 {
		if end == len(s) {
			return end
		}
		return prev
	}
	// 7. \s+
	return end
}
