package memory

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/tuneline/tuneline/datasets"
)

// maxLogLine bounds one line of interactions.jsonl as Rebuild reads it.
const maxLogLine = 16 << 20

// Rebuild makes a new memory.db in dir from interactions.jsonl, the record
// of every interaction: the old file, when there is one, is kept as
// memory.db.damaged. Facts are not in the log and start empty. It returns
// the interactions restored and the lines of the log it could not read.
func Rebuild(dir string) (restored, skipped int, err error) {
	path := filepath.Join(dir, "memory.db")
	if _, err := os.Lstat(path); err == nil {
		if err := os.Rename(path, path+".damaged"); err != nil {
			return 0, 0, err
		}
	}
	s, err := Open(dir)
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Open(s.LogPath())
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var eps []Episode
	r := bufio.NewReader(f)
	for {
		line, err := datasets.ReadLine(r, maxLogLine)
		if err == io.EOF {
			break
		}
		tooLong := errors.Is(err, datasets.ErrRecordTooLong)
		if err != nil && !tooLong {
			return 0, skipped, fmt.Errorf("%s: %w", s.LogPath(), err)
		}
		var e Episode
		if tooLong || json.Unmarshal(line, &e) != nil || e.ID == 0 {
			skipped++
			continue
		}
		eps = append(eps, e)
		if len(eps) == 1000 {
			if err := s.putEpisodes(eps); err != nil {
				return restored, skipped, err
			}
			restored += len(eps)
			eps = eps[:0]
		}
	}
	if err := s.putEpisodes(eps); err != nil {
		return restored, skipped, err
	}
	return restored + len(eps), skipped, nil
}

// putEpisodes writes episodes under their own ids, the bucket's sequence
// past the highest.
func (s *Store) putEpisodes(eps []Episode) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEpisodes)
		for _, e := range eps {
			v, _ := json.Marshal(e)
			k := make([]byte, 8)
			binary.BigEndian.PutUint64(k, e.ID)
			if err := b.Put(k, v); err != nil {
				return err
			}
			if e.ID > b.Sequence() {
				if err := b.SetSequence(e.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
