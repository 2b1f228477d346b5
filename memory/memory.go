// Package memory keeps a persona's memory for chat: facts (topic, key,
// value) and an episodic log of past interactions, in one embedded database
// file (bbolt: one writer at a time, other processes wait for the lock), and
// retrieves what is relevant to a question with BM25 — no external service.
package memory

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"gopkg.in/yaml.v3"

	"github.com/tuneline/tuneline/internal/smallfile"
)

var (
	bucketFacts    = []byte("facts")
	bucketEpisodes = []byte("episodes")
)

// Fact is one remembered fact.
type Fact struct {
	Topic string `json:"topic" yaml:"topic"`
	Key   string `json:"key" yaml:"key"`
	Value string `json:"value" yaml:"value"`
}

func (f Fact) String() string { return fmt.Sprintf("%s: %s = %s", f.Topic, f.Key, f.Value) }

// Episode is one past interaction.
type Episode struct {
	ID       uint64    `json:"id"`
	Time     time.Time `json:"timestamp"`
	Query    string    `json:"query"`
	Response string    `json:"response"`
	Rating   string    `json:"rating,omitempty"`
}

// Store is a memory folder: memory.db and interactions.jsonl. The database
// is opened for each operation and closed after it, so that several chat
// sessions (processes) can share one memory: each operation takes the
// file's lock in turn.
type Store struct {
	Dir string
	db  *dbHandle
}

type dbHandle struct {
	path    string
	checked bool // checkFile passed once in this process
}

// with runs fn in a transaction. The file is checked (checkFile) before
// bbolt first maps it, and faults while bbolt reads it (a panic, or a
// fault reading the mapping) end as an ErrDamaged error that says how to
// recover, not as a crash.
func (h *dbHandle) with(write bool, fn func(*bolt.Tx) error) (err error) {
	if !h.checked {
		if err := checkFile(h.path); err != nil {
			return h.damaged(err)
		}
		h.checked = true
	}
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = h.damaged(fmt.Errorf("%w: %v", ErrDamaged, r))
		}
	}()
	db, err := bolt.Open(h.path, 0o644, &bolt.Options{Timeout: 30 * time.Second, ReadOnly: false})
	if err != nil {
		if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) || errors.Is(err, bolterrors.ErrVersionMismatch) {
			return h.damaged(fmt.Errorf("%w: %w", ErrDamaged, err))
		}
		return fmt.Errorf("memory %s: %w", h.path, err)
	}
	defer db.Close()
	run := db.View
	if write {
		run = db.Update
	}
	if err := run(fn); err != nil {
		if errors.Is(err, ErrDamaged) {
			return h.damaged(err)
		}
		return fmt.Errorf("memory %s: %w", h.path, err)
	}
	return nil
}

// decode reads a stored record. A record that is not the JSON tuneline
// wrote (bbolt keeps no checksum of values, so the page checks pass) is
// damage: the error names the bucket and the key, and with() adds the
// file and how to recover.
func decode(v []byte, into any, bucket []byte, key string) error {
	if err := json.Unmarshal(v, into); err != nil {
		return fmt.Errorf("%w: the record %s in %q is not valid JSON: %v", ErrDamaged, key, bucket, err)
	}
	return nil
}

// episodeKey names an episode's key in errors.
func episodeKey(k []byte) string {
	if len(k) == 8 {
		return fmt.Sprintf("of interaction %d", binary.BigEndian.Uint64(k))
	}
	return fmt.Sprintf("%q", k)
}

// damaged says the file cannot be read and how to recover.
func (h *dbHandle) damaged(err error) error {
	if !errors.Is(err, ErrDamaged) {
		return fmt.Errorf("memory %s: %w", h.path, err)
	}
	return fmt.Errorf("memory %s: %w; interactions.jsonl beside it holds every interaction: rebuild the memory from it with "+
		"'tuneline chat --memory %s --rebuild-memory' (the damaged file is kept as memory.db.damaged; facts added with /fact are "+
		"not in the log: load them again with --facts)", h.path, err, filepath.Dir(h.path))
}

func (h *dbHandle) Update(fn func(*bolt.Tx) error) error { return h.with(true, fn) }
func (h *dbHandle) View(fn func(*bolt.Tx) error) error   { return h.with(false, fn) }

// Open opens (or creates) the memory in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Store{Dir: dir, db: &dbHandle{path: filepath.Join(dir, "memory.db")}}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFacts, bucketEpisodes} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				if errors.Is(err, bolterrors.ErrIncompatibleValue) {
					return fmt.Errorf("%w: %q is a value, not a bucket", ErrDamaged, b)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close is a no-op kept for symmetry (the database is closed after each
// operation).
func (s *Store) Close() error { return nil }

// LogPath is the interaction log that tuneline ingest reads as examples.
func (s *Store) LogPath() string { return filepath.Join(s.Dir, "interactions.jsonl") }

// AddFact remembers (or updates) a fact.
func (s *Store) AddFact(f Fact) error {
	f.Topic, f.Key = strings.TrimSpace(f.Topic), strings.TrimSpace(f.Key)
	if f.Topic == "" || f.Key == "" {
		return fmt.Errorf("a fact needs a topic and a key")
	}
	b, _ := json.Marshal(f)
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFacts).Put([]byte(f.Topic+"\x00"+f.Key), b)
	})
}

// LoadFacts reads a facts YAML file: a map of topic to key/value pairs.
func (s *Store) LoadFacts(path string) (int, error) {
	b, err := smallfile.ReadFile(path, smallfile.Facts, "facts file")
	if err != nil {
		return 0, err
	}
	var m map[string]map[string]string
	if err := yaml.Unmarshal(b, &m); err != nil {
		return 0, fmt.Errorf("%s: want topic: {key: value}: %w", path, err)
	}
	n := 0
	for topic, kv := range m {
		for k, v := range kv {
			if err := s.AddFact(Fact{topic, k, v}); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Facts lists every fact.
func (s *Store) Facts() ([]Fact, error) {
	var out []Fact
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFacts).ForEach(func(k, v []byte) error {
			var f Fact
			if err := decode(v, &f, bucketFacts, fmt.Sprintf("%q", bytes.ReplaceAll(k, []byte{0}, []byte(": ")))); err != nil {
				return err
			}
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// AddEpisode records an interaction and appends it to the log.
func (s *Store) AddEpisode(e Episode) (Episode, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEpisodes)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.ID = id
		if e.Time.IsZero() {
			e.Time = time.Now().UTC()
		}
		v, _ := json.Marshal(e)
		k := make([]byte, 8)
		binary.BigEndian.PutUint64(k, id)
		return b.Put(k, v)
	})
	return e, err
}

// Rate marks an episode (good or bad).
func (s *Store) Rate(id uint64, rating string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEpisodes)
		k := make([]byte, 8)
		binary.BigEndian.PutUint64(k, id)
		v := b.Get(k)
		if v == nil {
			return fmt.Errorf("no interaction %d", id)
		}
		var e Episode
		if err := decode(v, &e, bucketEpisodes, episodeKey(k)); err != nil {
			return err
		}
		e.Rating = rating
		nv, _ := json.Marshal(e)
		return b.Put(k, nv)
	})
}

// Episodes lists the interactions in order.
func (s *Store) Episodes() ([]Episode, error) {
	var out []Episode
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEpisodes).ForEach(func(k, v []byte) error {
			var e Episode
			if err := decode(v, &e, bucketEpisodes, episodeKey(k)); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// AppendLog writes an episode as one line of the interaction log (one
// O_APPEND write call, so lines of concurrent writers do not interleave).
func (s *Store) AppendLog(e Episode) error {
	f, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	b, _ := json.Marshal(e)
	_, err = f.Write(append(b, '\n'))
	return err
}

// Recall is what retrieval found for a question.
type Recall struct {
	Facts    []Fact
	Episodes []Episode
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// bm25 scores documents against the query (k1 1.2, b 0.75).
func bm25(query string, docs []string) []float64 {
	q := words(query)
	n := float64(len(docs))
	tf := make([]map[string]int, len(docs))
	df := map[string]int{}
	var total float64
	for i, d := range docs {
		tf[i] = map[string]int{}
		ws := words(d)
		total += float64(len(ws))
		for _, w := range ws {
			if tf[i][w] == 0 {
				df[w]++
			}
			tf[i][w]++
		}
	}
	avg := total / math.Max(n, 1)
	scores := make([]float64, len(docs))
	for i := range docs {
		dl := 0
		for _, c := range tf[i] {
			dl += c
		}
		for _, w := range q {
			f := float64(tf[i][w])
			if f == 0 {
				continue
			}
			idf := math.Log(1 + (n-float64(df[w])+0.5)/(float64(df[w])+0.5))
			scores[i] += idf * f * 2.2 / (f + 1.2*(0.25+0.75*float64(dl)/math.Max(avg, 1)))
		}
	}
	return scores
}

// Retrieve returns the k facts and k past interactions most relevant to the
// question (by BM25; nothing when nothing matches).
func (s *Store) Retrieve(question string, k int) (Recall, error) {
	var r Recall
	facts, err := s.Facts()
	if err != nil {
		return r, err
	}
	eps, err := s.Episodes()
	if err != nil {
		return r, err
	}
	fd := make([]string, len(facts))
	for i, f := range facts {
		fd[i] = f.Topic + " " + f.Key + " " + f.Value
	}
	for _, i := range top(bm25(question, fd), k) {
		r.Facts = append(r.Facts, facts[i])
	}
	ed := make([]string, len(eps))
	for i, e := range eps {
		ed[i] = e.Query + " " + e.Response
	}
	for _, i := range top(bm25(question, ed), k) {
		r.Episodes = append(r.Episodes, eps[i])
	}
	return r, nil
}

func top(scores []float64, k int) []int {
	idx := make([]int, 0, len(scores))
	for i, s := range scores {
		if s > 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	if len(idx) > k {
		idx = idx[:k]
	}
	return idx
}

// Context renders a recall as the memory section of a system prompt.
func (r Recall) Context() string {
	if len(r.Facts) == 0 && len(r.Episodes) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Memory context (use it when relevant):\n")
	for _, f := range r.Facts {
		fmt.Fprintf(&b, "- fact: %s\n", f)
	}
	for _, e := range r.Episodes {
		fmt.Fprintf(&b, "- earlier the user asked %q and you answered %q\n", e.Query, e.Response)
	}
	return b.String()
}
