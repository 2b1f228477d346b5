package memory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/memlimit"
)

// pristine builds a memory of facts and 400 logged interactions, enough
// for the episodes' tree to have a branch page, and returns its folder.
func pristine(t testing.TB) string {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.AddFact(Fact{"topic", fmt.Sprint("key", i), "value"})
	}
	for i := range 400 {
		e, err := s.AddEpisode(Episode{Query: fmt.Sprintf("question %d about entropy", i), Response: strings.Repeat("a reply ", 10)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AppendLog(e); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// use does what chat does with a memory, and returns the first error.
func use(dir string) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	if _, err := s.Facts(); err != nil {
		return err
	}
	if _, err := s.Retrieve("entropy", 3); err != nil {
		return err
	}
	e, err := s.AddEpisode(Episode{Query: "q", Response: "r"})
	if err != nil {
		return err
	}
	return s.Rate(e.ID, "good")
}

// pageOf finds a page of the current tree of the type given (branch 1,
// leaf 2, freelist 0x10).
func pageOf(db []byte, ps int, flags uint16) int {
	c := &checker{f: bytes.NewReader(db), size: int64(len(db)), seen: map[uint64]bool{}}
	if err := c.check(); err != nil {
		panic(err)
	}
	if flags == freelistFlag {
		return int(c.meta.freelist)
	}
	for id := range c.seen {
		if binary.LittleEndian.Uint16(db[int(id)*ps+8:]) == flags {
			return int(id)
		}
	}
	return -1
}

// damages are the ways a memory.db was found to crash chat (issue 29,
// case 2), each a change to a sound file.
func damages() map[string]func(db []byte, ps int) {
	le := binary.LittleEndian
	return map[string]func([]byte, int){
		"a branch points past the file": func(db []byte, ps int) {
			le.PutUint64(db[pageOf(db, ps, branchFlag)*ps+pageHeaderSize+8:], 1<<40)
		},
		"a branch points to itself": func(db []byte, ps int) {
			b := pageOf(db, ps, branchFlag)
			le.PutUint64(db[b*ps+pageHeaderSize+8:], uint64(b))
		},
		"a leaf claims 65535 elements": func(db []byte, ps int) {
			le.PutUint16(db[pageOf(db, ps, leafFlag)*ps+10:], 0xFFFF)
		},
		"a leaf's key offset is 2^31": func(db []byte, ps int) {
			le.PutUint32(db[pageOf(db, ps, leafFlag)*ps+pageHeaderSize+4:], 1<<31)
		},
		"a leaf runs 2^20 overflow pages": func(db []byte, ps int) {
			le.PutUint32(db[pageOf(db, ps, leafFlag)*ps+12:], 1<<20)
		},
		"a page of zeros": func(db []byte, ps int) {
			clear(db[pageOf(db, ps, leafFlag)*ps:][:ps])
		},
		"the freelist claims 2^40 pages": func(db []byte, ps int) {
			f := pageOf(db, ps, freelistFlag)
			le.PutUint16(db[f*ps+10:], 0xFFFF)
			le.PutUint64(db[f*ps+pageHeaderSize:], 1<<40)
		},
		"truncated to half": nil, // handled by the caller
		"both meta pages zeroed": func(db []byte, ps int) {
			clear(db[:2*ps])
		},
		// bbolt keeps no checksum of values: a changed byte in a record
		// passes the page checks and reaches the JSON decoder (found by
		// FuzzMemoryDB: the error named neither the file nor the damage).
		// Every copy is changed, the live one among the freed ones.
		"a fact's record is not JSON": func(db []byte, _ int) {
			breakEvery(db, []byte(`"key":"key3"`))
		},
		"an interaction's record is not JSON": func(db []byte, _ int) {
			breakEvery(db, []byte("question 7 about"))
		},
	}
}

// breakEvery puts a control character, which JSON strings may not hold,
// into every copy of what in db.
func breakEvery(db, what []byte) {
	for i := 0; ; {
		j := bytes.Index(db[i:], what)
		if j < 0 {
			return
		}
		db[i+j+len(what)-1] = 0x10
		i += j + len(what)
	}
}

// A damaged memory.db ends with an error that says so and how to recover,
// never with a crash (in a child limited to 1 GiB); Rebuild makes a sound
// one from interactions.jsonl with every interaction.
func TestDamagedMemory(t *testing.T) {
	if !memlimit.Child(t, 1<<30) {
		return
	}
	src := pristine(t)
	sound, err := os.ReadFile(filepath.Join(src, "memory.db"))
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	if pageOf(sound, ps, branchFlag) < 0 || pageOf(sound, ps, freelistFlag) < 0 {
		t.Fatal("the sound file has no branch page or freelist to damage")
	}
	logged, _ := os.ReadFile(filepath.Join(src, "interactions.jsonl"))
	for name, damage := range damages() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db := append([]byte(nil), sound...)
			if damage == nil {
				db = db[:len(db)/2]
			} else {
				damage(db, ps)
			}
			os.WriteFile(filepath.Join(dir, "memory.db"), db, 0o644)
			os.WriteFile(filepath.Join(dir, "interactions.jsonl"), logged, 0o644)
			err := use(dir)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "--rebuild-memory") {
				t.Fatalf("error %v, want it to say memory.db is damaged and how to rebuild it", err)
			}
			n, skipped, err := Rebuild(dir)
			if err != nil || n != 400 || skipped != 0 {
				t.Fatalf("rebuilt %d interactions (%d skipped): %v", n, skipped, err)
			}
			if err := use(dir); err != nil {
				t.Fatalf("after the rebuild: %v", err)
			}
			s, _ := Open(dir)
			eps, _ := s.Episodes()
			if len(eps) != 401 || eps[400].ID != 401 {
				t.Errorf("%d episodes after the rebuild and one more, the last %+v", len(eps), eps[len(eps)-1])
			}
			if _, err := os.Stat(filepath.Join(dir, "memory.db.damaged")); err != nil {
				t.Errorf("the damaged file was not kept: %v", err)
			}
		})
	}
}

// FuzzMemoryDB: any memory.db ends in an error or works, never a crash.
// Seeds: a sound file and each damage of TestDamagedMemory.
func FuzzMemoryDB(f *testing.F) {
	src := pristine(f)
	sound, _ := os.ReadFile(filepath.Join(src, "memory.db"))
	f.Add(sound)
	ps := os.Getpagesize()
	for _, damage := range damages() {
		db := append([]byte(nil), sound...)
		if damage == nil {
			db = db[:len(db)/2]
		} else {
			damage(db, ps)
		}
		f.Add(db)
	}
	f.Fuzz(func(t *testing.T, db []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "memory.db"), db, 0o644)
		if err := use(dir); err != nil && !errors.Is(err, ErrDamaged) && !strings.Contains(err.Error(), "memory") {
			t.Fatalf("an error that does not name the memory: %v", err)
		}
	})
}
