package llm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/tuneline/tuneline/internal/atomicfile"
)

// Cache stores validated replies by a hash of everything that produced
// them (model, persona, prompt version, chunk content, options, seed). Each
// entry is its own file written atomically, so a crash at any moment leaves
// whole entries or none.
type Cache struct{ Dir string }

// Key hashes the parts of a request.
func Key(parts ...any) string {
	b, _ := json.Marshal(parts)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, key[:2], key+".json") }

// Get loads an entry; ok is false when there is none (or it is unreadable).
func (c *Cache) Get(key string, v any) (bool, error) {
	if c == nil || c.Dir == "" {
		return false, nil
	}
	b, err := os.ReadFile(c.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if json.Unmarshal(b, v) != nil {
		return false, nil // a damaged entry is redone
	}
	return true, nil
}

// Put stores an entry.
func (c *Cache) Put(key string, v any) error {
	if c == nil || c.Dir == "" {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path(key), b)
}
