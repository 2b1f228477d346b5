package format

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/datasets"
	"github.com/tuneline/tuneline/tokens"
)

func sigOf(t *testing.T, p DedupParams, msgs ...string) Sig {
	t.Helper()
	var ms []datasets.Message
	for i := 0; i+1 < len(msgs); i += 2 {
		ms = append(ms, datasets.Message{Role: msgs[i], Content: msgs[i+1]})
	}
	var n Norm
	check(datasets.Record{Example: datasets.Example{Messages: ms}}, tokens.NewCounter(), 0, &n)
	return Fingerprint(ms, &n, &p)
}

const longA = "The quick brown fox jumps over the lazy dog near the river bank while the sun sets slowly behind the distant hills and birds sing their evening songs in the tall old trees"

func TestFingerprintExact(t *testing.T) {
	p := NewDedupParams(0.8)
	base := sigOf(t, p, "user", "What is the speed of light?", "assistant", "About 300,000 km/s.")
	for _, c := range []struct {
		name string
		msgs []string
		same bool
	}{
		{"identical", []string{"user", "What is the speed of light?", "assistant", "About 300,000 km/s."}, true},
		{"case", []string{"user", "WHAT is the Speed of LIGHT?", "assistant", "about 300,000 KM/S."}, true},
		{"white space runs and kinds", []string{"user", "  What is\tthe   speed of\n\nlight? ", "assistant", "About 300,000\u00a0km/s.\n"}, true},
		{"different word", []string{"user", "What is the speed of sound?", "assistant", "About 300,000 km/s."}, false},
		{"space added inside", []string{"user", "What is the speed of light ?", "assistant", "About 300,000 km/s."}, false},
		{"space removed", []string{"user", "What is the speedof light?", "assistant", "About 300,000 km/s."}, false},
		{"roles swapped", []string{"assistant", "What is the speed of light?", "user", "About 300,000 km/s."}, false},
		{"text moved between messages", []string{"user", "What is the speed of light? About", "assistant", "300,000 km/s."}, false},
		{"system added", []string{"system", "You are a physicist.", "user", "What is the speed of light?", "assistant", "About 300,000 km/s."}, false},
		{"non-ASCII case", []string{"user", "WHAT IS THE SPEED OF LIGHT?", "assistant", "ABOUT 300,000 KM/S."}, true},
	} {
		got := sigOf(t, p, c.msgs...)
		if (got.Exact == base.Exact) != c.same {
			t.Errorf("%s: same exact hash = %v, want %v", c.name, got.Exact == base.Exact, c.same)
		}
	}
	if a, b := sigOf(t, p, "user", "Ärger über Öl", "assistant", "ÉTÉ"), sigOf(t, p, "user", "ärger ÜBER öl", "assistant", "été"); a.Exact != b.Exact {
		t.Error("non-ASCII letters in different case hash differently")
	}
}

func TestFingerprintNear(t *testing.T) {
	p := NewDedupParams(0.8)
	a := sigOf(t, p, "user", "Tell me a story.", "assistant", longA)
	for _, c := range []struct {
		name     string
		msgs     []string
		min, max float64
	}{
		{"one word changed", []string{"user", "Tell me a story.", "assistant", strings.Replace(longA, "lazy", "sleepy", 1)}, 0.8, 1},
		{"punctuation and case", []string{"user", "tell me a story!", "assistant", strings.ToUpper(longA) + "!"}, 0.9, 1},
		{"system prompt ignored", []string{"system", "Be brief.", "user", "Tell me a story.", "assistant", longA}, 0.9, 1},
		{"unrelated", []string{"user", "How do magnets work?", "assistant", "Moving charges and electron spins make magnetic fields that attract or repel other magnets and iron objects nearby"}, -1, 0.3},
	} {
		b := sigOf(t, p, c.msgs...)
		if !b.Near {
			t.Fatalf("%s: no signature", c.name)
		}
		if s := Similarity(&a, &b); s < c.min || s > c.max {
			t.Errorf("%s: similarity %.2f, want %.2f..%.2f", c.name, s, c.min, c.max)
		}
	}
	if s := sigOf(t, p, "user", "?", "assistant", "!"); s.Near {
		t.Error("an example without words got a near-duplicate signature")
	}
}

// Add rejects most candidates on the loosest acceptance line before it reads
// their filled counts: that line must be the lowest.
func TestAcceptLineLowestFirst(t *testing.T) {
	for _, th := range []float64{0.5, 0.8, 0.95} {
		p := NewDedupParams(th)
		for n, a := range p.accept {
			if a < p.accept[0] {
				t.Errorf("threshold %v: accept[%d] = %v below accept[0] = %v", th, n, a, p.accept[0])
			}
		}
	}
}

// nextFilled finds what a walk bin by bin finds.
func TestNextFilled(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		var f [2]uint64
		switch n % 4 {
		case 0:
			f = [2]uint64{rng.Uint64(), rng.Uint64()}
		case 1: // sparse
			f[rng.IntN(2)] = 1 << rng.IntN(64)
		default:
			f = [2]uint64{rng.Uint64() & rng.Uint64() & rng.Uint64(), rng.Uint64() & rng.Uint64()}
		}
		if f == [2]uint64{} {
			continue
		}
		i := rng.IntN(numBins)
		want := -1
		for d := 1; d <= numBins; d++ {
			j := (i + d) % numBins
			if f[j>>6]&(1<<(j&63)) != 0 {
				want = j
				break
			}
		}
		if got := nextFilled(f, i); got != want {
			t.Fatalf("nextFilled(%x, %d) = %d, want %d", f, i, got, want)
		}
	}
}

// Reserve changes the index's growth, never its answers, also when fewer or
// more examples come than were reserved.
func TestReserveSameVerdicts(t *testing.T) {
	p := NewDedupParams(0.8)
	rng := rand.New(rand.NewPCG(3, 4))
	var sigs []Sig
	for i := 0; i < 20000; i++ {
		if i > 0 && rng.IntN(10) == 0 { // a repeat, exact or with other bits
			s := sigs[rng.IntN(len(sigs))]
			if rng.IntN(2) == 0 {
				s.Exact = rng.Uint64()
				s.Bits[0] ^= 1 << rng.IntN(64)
			}
			sigs = append(sigs, s)
			continue
		}
		s := Sig{Exact: rng.Uint64(), Bits: [2]uint64{rng.Uint64(), rng.Uint64()}, Near: true, Filled: 128}
		for b := range s.Bands {
			s.Bands[b] = uint32(rng.IntN(1<<16)) | 1 // some bands shared by unrelated sigs
		}
		sigs = append(sigs, s)
	}
	for _, n := range []int{100, 18000, 100000} {
		plain, reserved := NewDeduper(p), NewDeduper(p)
		reserved.Reserve(n)
		for i := range sigs {
			v1, f1, l1, err1 := plain.Add(&sigs[i], 0, i+1)
			v2, f2, l2, err2 := reserved.Add(&sigs[i], 0, i+1)
			if v1 != v2 || f1 != f2 || l1 != l2 || err1 != err2 {
				t.Fatalf("Reserve(%d): example %d: %d %d %d %v, without %d %d %d %v", n, i, v2, f2, l2, err2, v1, f1, l1, err1)
			}
		}
	}
}
