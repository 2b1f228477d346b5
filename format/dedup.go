package format

import (
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/internal/setting"
	"github.com/tuneline/tuneline/tokens"
)

// Near-duplicate detection is one-permutation MinHash over word 2-gram
// shingles of the non-system messages (a shared system prompt says nothing
// about whether two conversations are the same), with locality-sensitive
// hashing bands to find candidates and a 1-bit-per-bin signature to check
// them. The whole index costs about 100 bytes per kept example and never
// holds text.

const (
	numBins  = 128
	maxBands = 6
	shingleN = 2
	replicas = 4
)

// Sig is what the deduplicator needs of one example; Fingerprint computes it
// without shared state, so that it can run on many goroutines.
type Sig struct {
	// Exact is a 64-bit hash of the normalised conversation (roles, case
	// folded text with white space collapsed).
	Exact uint64
	// Bits holds the lowest bit of each MinHash bin.
	Bits [2]uint64
	// Bands are the LSH band hashes; Near is false when the example had no
	// words to shingle (near-duplicate detection then skips it).
	Bands [maxBands]uint32
	Near  bool
	// Filled is the number of bins that got a shingle of their own (the
	// rest were densified from neighbours and carry no new information).
	Filled uint8
}

// DedupParams are the LSH parameters derived from the threshold.
type DedupParams struct {
	Threshold   float64 `json:"threshold"`
	Bands, Rows int
	// accept[n] is the lowest estimated similarity taken as a match when
	// the sparser of the two signatures has n filled bins.
	accept [numBins + 1]float64
}

// NewDedupParams picks r rows for 6 bands so that the LSH curve's knee,
// (1/b)^(1/r), sits well below the threshold: candidates are then checked
// against the signature, so recall is what the bands are for. The check
// accepts an estimated similarity down to 2.5 standard errors below the
// threshold, so that pairs at the threshold are caught with ~98% probability.
// The standard error is that of the bins that got values of their own (the
// sparser signature's): in a short text many bins are copies of their
// neighbours and say nothing new, so the estimate is looser there.
func NewDedupParams(threshold float64) DedupParams {
	p := DedupParams{Threshold: threshold, Bands: maxBands}
	if threshold <= 0 {
		return p
	}
	target := math.Max(0.05, threshold-0.25)
	r := int(math.Round(math.Log(1/float64(p.Bands)) / math.Log(target)))
	p.Rows = min(max(r, 1), numBins/maxBands)
	q := (1 + threshold) / 2 // chance that one bin's bit agrees at the threshold
	for n := range p.accept {
		p.accept[n] = threshold - 2.5*2*math.Sqrt(q*(1-q)/float64(max(n, 16)))
	}
	return p
}

// replicaMul are odd multipliers that derive a shingle's replica hashes
// from its one mixed hash.
var replicaMul = [replicas]uint64{1, 0x9e3779b97f4a7c15, 0xd1b54a32d192ed03, 0xc2b2ae3d27d4eb4f}

func mix64(x uint64) uint64 { // splitmix64 finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// exactHasher hashes a sequence of 64-bit values in two lanes that take
// turns, so that consecutive values do not wait for each other's multiply.
type exactHasher struct{ h, g uint64 }

func (e *exactHasher) add(v uint64) {
	h := (e.h ^ v) * 0x9e3779b97f4a7c15
	e.h, e.g = e.g, h^h>>32
}

func (e *exactHasher) sum() uint64 { return mix64(e.h ^ bits.RotateLeft64(e.g, 32)) }

// Markers in the exact hash's stream: a collapsed run of white space, and
// the end of a message.
const (
	markSpace = 0x5a5a5a5a5a5a5a5a
	markEnd   = 0xa5a5a5a5a5a5a5a5
)

// roleHash is the exact hash's value for a message's role.
func roleHash(role string) uint64 {
	switch role { // the common roles, hashed once
	case datasets.RoleUser:
		return userHash
	case datasets.RoleAssistant:
		return assistantHash
	case datasets.RoleSystem:
		return systemHash
	}
	return hashRole(role)
}

var (
	userHash      = hashRole(datasets.RoleUser)
	assistantHash = hashRole(datasets.RoleAssistant)
	systemHash    = hashRole(datasets.RoleSystem)
)

func hashRole(role string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(role); i++ {
		h = (h ^ uint64(role[i])) * 1099511628211
	}
	return mix64(h)
}

// Fingerprint computes the example's exact hash and MinHash signature from
// the normalised pieces of its messages (norm, as check fills it with
// tokens.CountNorm in the pass that counts the tokens), without another
// pass over the text.
//
// Exact: each message's role, then its pieces with case folded and every
// run of white space collapsed to one marker (none at the ends), so that
// texts that differ only in case and white space hash alike. Near: MinHash
// over 2-grams of the word pieces (those with a letter or digit) of the
// non-system messages.
func Fingerprint(msgs []datasets.Message, norm *Norm, p *DedupParams) Sig {
	var s Sig
	near := p.Threshold > 0
	ex := exactHasher{h: 14695981039346656037, g: 0x243f6a8885a308d3}
	var binsv [numBins]uint32
	for i := range binsv {
		binsv[i] = math.MaxUint32
	}
	var prev uint64
	nw, nsh := 0, 0
	add := func(cur uint64) {
		// Each shingle goes in replicas times under different hashes: the
		// Jaccard similarity of the replicated sets is the same, and far
		// more bins get a value of their own in short texts, so the
		// estimate is nearly as good as classic k-hash MinHash.
		x := mix64(prev*0x9e3779b97f4a7c15 ^ bits.RotateLeft64(cur, 29))
		for j := range replicas {
			y := bits.RotateLeft64(x, 16*j) * replicaMul[j]
			bin := y >> 57
			binsv[bin] = min(binsv[bin], uint32(y>>25)) // branch-free: updates are unpredictable
		}
		nsh++
	}
	from := 0
	for i, m := range msgs {
		ex.add(roleHash(m.Role))
		words := near && m.Role != datasets.RoleSystem
		// space (0 or 1): white space came after the last piece; started:
		// a piece with text came before. A piece preceded by white space is
		// hashed with markSpace folded in, computed without branches (which
		// piece has white space around it is unpredictable).
		var space, started uint64
		for _, v := range norm.H[from:norm.Ends[i]] {
			if v == tokens.NormSpace {
				space = started
				continue
			}
			space = (space | v>>1&1) & started // NormLead is bit 1
			ex.add(v&^(tokens.NormFlags&^tokens.NormWord) ^ -space&markSpace)
			started = 1
			space = v >> 2 & 1 // NormTrail is bit 2
			if words && v&tokens.NormWord != 0 {
				w := v &^ tokens.NormFlags
				nw++
				if nw >= shingleN {
					add(w)
				}
				prev = w
			}
		}
		from = norm.Ends[i]
		ex.add(markEnd)
	}
	s.Exact = ex.sum()
	if !near {
		return s
	}
	if nw > 0 && nw < shingleN { // a very short text is one shingle
		add(prev)
	}
	if nsh == 0 {
		return s
	}
	// Filled bins and the low bit of every bin, without branches.
	var filled [2]uint64
	for h := range 2 {
		var f, b uint64
		for k, v := range binsv[h*64 : h*64+64] {
			var e uint64
			if v != math.MaxUint32 {
				e = 1
			}
			f |= e << k
			b |= uint64(v&1) << k
		}
		filled[h], s.Bits[h] = f, b
	}
	s.Filled = uint8(min(bits.OnesCount64(filled[0])+bits.OnesCount64(filled[1]), 255))
	// Densify empty bins by borrowing from the next filled one, rotated.
	for h := range 2 {
		for empty := ^filled[h]; empty != 0; empty &= empty - 1 {
			i := h*64 + bits.TrailingZeros64(empty)
			j := nextFilled(filled, i)
			binsv[i] = binsv[j] + uint32((j-i+numBins)%numBins)*0x9e3779b9
			s.Bits[h] = s.Bits[h]&^(1<<(i&63)) | uint64(binsv[i]&1)<<(i&63)
		}
	}
	for b := 0; b < p.Bands; b++ {
		bh := uint64(b+1) * 0x9e3779b97f4a7c15
		for _, v := range binsv[b*p.Rows : (b+1)*p.Rows] {
			bh = mix64(bh ^ uint64(v))
		}
		s.Bands[b] = uint32(bh>>32) | 1
	}
	s.Near = true
	return s
}

// nextFilled returns the first bin after i (circularly) whose bit is set in
// filled (which has at least one bit set).
func nextFilled(filled [2]uint64, i int) int {
	for d := 0; d < 3; d++ {
		h := (i>>6 + d) % 2
		w := filled[h]
		if d == 0 {
			w &^= 1<<(i&63+1) - 1 // only bins after i in i's word (none when i&63 is 63)
		}
		if w != 0 {
			return h*64 + bits.TrailingZeros64(w)
		}
	}
	return i
}

// Similarity estimates the Jaccard similarity of two signatures from their
// 1-bit MinHash bins: a bin agrees with probability J + (1-J)/2.
func Similarity(a, b *Sig) float64 {
	agree := numBins - bits.OnesCount64(a.Bits[0]^b.Bits[0]) - bits.OnesCount64(a.Bits[1]^b.Bits[1])
	return 2*float64(agree)/numBins - 1
}

// Deduper finds exact and near duplicates in a stream of examples, keeping
// the first of each cluster. Per kept example it holds the exact hash, the
// 128-bit signature, the band hashes and the line (52 bytes) plus about 7
// bytes of hash-table slot per key.
type Deduper struct {
	P     DedupParams
	exact slotTable // keyed by Sig.Exact
	bands slotTable // keyed by band hash
	kept  chunked[keptSig]
	// bits holds the MinHash bits of kept example i, apart from the rest
	// so that checking a candidate touches 16 bytes of a compact array.
	bits  chunked[[2]uint64]
	cands []uint32 // scratch: the candidates of one Add
	// touched keeps the touched slots' values from being optimised away.
	touched uint32
	bandh   chunked[uint32] // Bands of kept example i at [i*P.Bands:]
	// fileStart[f] is the index of the first kept example of file f.
	fileStart []uint32
}

type keptSig struct {
	exact  uint64
	line   uint32
	filled uint8
}

// NewDeduper returns a Deduper for the given parameters.
func NewDeduper(p DedupParams) *Deduper {
	d := &Deduper{P: p}
	d.exact.keyOf = func(i uint32) uint64 { return d.kept.at(i).exact }
	d.bands.keyOf = func(e uint32) uint64 { return uint64(*d.bandh.at(e)) }
	return d
}

// Verdicts of Deduper.Add.
const (
	Unique = iota
	ExactDup
	NearDup
)

// Add records an example of the file with index file (files must come in
// increasing order). It returns Unique (and remembers it), or ExactDup or
// NearDup with the file index and line of the kept example it repeats.
func (d *Deduper) Add(s *Sig, file int, line int) (verdict int, ofFile, ofLine int, err error) {
	// Touch the home slots of every key first: the loads are independent,
	// so their cache misses overlap instead of coming one lookup at a time.
	t := d.exact.touch(s.Exact)
	if d.P.Threshold > 0 && s.Near {
		for b := 0; b < d.P.Bands; b++ {
			t |= d.bands.touch(uint64(s.Bands[b]))
		}
	}
	d.touched += t & 1
	found := -1
	d.exact.lookup(s.Exact, func(i uint32) bool {
		if d.kept.at(i).exact == s.Exact {
			found = int(i)
			return false
		}
		return true
	})
	if found >= 0 {
		f, l := d.where(found)
		return ExactDup, f, l, nil
	}
	if d.P.Threshold > 0 && s.Near {
		// All candidates first, then their checks: the checks' loads are
		// independent of each other, so their cache misses overlap.
		cands := d.cands[:0]
		for b := 0; b < d.P.Bands; b++ {
			d.bands.lookup(uint64(s.Bands[b]), func(e uint32) bool {
				cands = append(cands, e/uint32(d.P.Bands))
				return true
			})
		}
		d.cands = cands
		for _, i := range cands {
			// Unrelated examples share a band now and then; most fail the
			// loosest acceptance line before their filled count is read.
			sim := Similarity(s, &Sig{Bits: *d.bits.at(i)})
			if sim >= d.P.accept[0] && sim >= d.P.accept[min(s.Filled, d.kept.at(i).filled)] {
				found = int(i)
				break
			}
		}
		if found >= 0 {
			f, l := d.where(found)
			return NearDup, f, l, nil
		}
	}
	for len(d.fileStart) <= file {
		d.fileStart = append(d.fileStart, uint32(d.kept.n))
	}
	idx := uint32(d.kept.n)
	d.kept.append(keptSig{exact: s.Exact, line: uint32(min(line, math.MaxUint32)), filled: s.Filled})
	d.bits.append(s.Bits)
	if err := d.exact.insert(s.Exact, idx); err != nil {
		return 0, 0, 0, err
	}
	if d.P.Threshold > 0 {
		for b := 0; b < d.P.Bands; b++ {
			d.bandh.append(s.Bands[b])
			if s.Near {
				if err := d.bands.insert(uint64(s.Bands[b]), idx*uint32(d.P.Bands)+uint32(b)); err != nil {
					return 0, 0, 0, err
				}
			}
		}
	}
	return Unique, 0, 0, nil
}

// Reserve makes room for n kept examples in all, so that the tables do not
// grow (and move every entry, a cache miss each) on the way there. It is an
// optimisation only: more examples than reserved still fit.
func (d *Deduper) Reserve(n int) {
	d.exact.reserve(n)
	if d.P.Threshold > 0 {
		d.bands.reserve(n * d.P.Bands)
	}
}

var errIndexFull = &setting.Error{Section: "export", Key: "near_dup", Flag: "near-dup", Problem: fmt.Sprintf("the deduplication index is full (%d entries: about %d million examples with near-duplicate detection); set it to 0 or export in parts", MaxEntries, MaxEntries/maxBands/1_000_000)}

func (d *Deduper) where(i int) (file, line int) {
	f := 0
	for f+1 < len(d.fileStart) && int(d.fileStart[f+1]) <= i {
		f++
	}
	return f, int(d.kept.at(uint32(i)).line)
}

// IndexBytes is the memory the index holds.
func (d *Deduper) IndexBytes() int {
	return d.kept.bytes() + d.bits.bytes() + d.bandh.bytes() + len(d.exact.slots)*4 + len(d.bands.slots)*4
}

// slotTable is an open-addressing hash table whose 32-bit slots hold an
// entry number (plus one) in the low 26 bits and a 6-bit tag of the key's
// hash in the high bits; keys are not stored but recomputed through keyOf
// when the table grows. Lookups skip slots whose tag differs and hand the
// rest to the caller to check. Linear probing, load at most 3/4.
type slotTable struct {
	slots []uint32
	n     int
	keyOf func(uint32) uint64
}

const (
	entryBits = 26
	entryMask = 1<<entryBits - 1
	// MaxEntries is how many entries one table can hold.
	MaxEntries = entryMask - 1
)

func tagOf(h uint64) uint32 { return uint32(h>>58) << entryBits }

func (t *slotTable) lookup(key uint64, fn func(uint32) bool) {
	if len(t.slots) == 0 {
		return
	}
	h := mix64(key)
	tag := tagOf(h)
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := t.slots[i]
		if v == 0 {
			return
		}
		if v&^entryMask == tag && !fn(v&entryMask-1) {
			return
		}
	}
}

// touch loads the home slot of key (see Deduper.Add).
func (t *slotTable) touch(key uint64) uint32 {
	if len(t.slots) == 0 {
		return 0
	}
	return t.slots[mix64(key)&uint64(len(t.slots)-1)]
}

func (t *slotTable) insert(key uint64, e uint32) error {
	if t.n >= MaxEntries {
		return errIndexFull
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow(max(1024, 2*len(t.slots)))
	}
	t.put(key, e)
	t.n++
	return nil
}

// grow moves the entries to a table of size slots (a power of two).
func (t *slotTable) grow(size int) {
	old := t.slots
	t.slots = make([]uint32, size)
	for _, v := range old {
		if v != 0 {
			t.put(t.keyOf(v&entryMask-1), v&entryMask-1)
		}
	}
}

// reserve grows the table once to hold n entries at most 3/4 full.
func (t *slotTable) reserve(n int) {
	n = min(n, MaxEntries)
	size := max(1024, len(t.slots))
	for size*3 < n*4 {
		size *= 2
	}
	if size > len(t.slots) {
		t.grow(size)
	}
}

func (t *slotTable) put(key uint64, e uint32) {
	h := mix64(key)
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = tagOf(h) | (e + 1)
}

// chunked is an append-only array in fixed chunks: growing it never copies
// and never leaves half of a doubled allocation unused.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const chunkBits = 14

func (c *chunked[T]) append(v T) {
	if c.n>>chunkBits == len(c.chunks) {
		c.chunks = append(c.chunks, make([]T, 0, 1<<chunkBits))
	}
	last := len(c.chunks) - 1
	c.chunks[last] = append(c.chunks[last], v)
	c.n++
}

func (c *chunked[T]) at(i uint32) *T { return &c.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

func (c *chunked[T]) bytes() int {
	var zero T
	return len(c.chunks) << chunkBits * int(unsafe.Sizeof(zero))
}
