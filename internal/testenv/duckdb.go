// Package testenv provides the real outside programs tests check tuneline
// against, installing them on first use into a cache folder: DuckDB (through
// npm's @duckdb/node-api) to read exported Parquet independently.
package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tuneline/tuneline/internal/localollama"
)

// DuckDBVersion is the @duckdb/node-api release the tests use.
const DuckDBVersion = "1.5.6-r.1"

// CacheDir is where installed tools live (see localollama.CacheDir).
func CacheDir() string { return localollama.CacheDir() }

var (
	duckOnce sync.Once
	duckDir  string
	duckErr  error
)

// DuckDBDir installs @duckdb/node-api (once per cache) and returns the
// folder holding its node_modules.
func DuckDBDir() (string, error) {
	duckOnce.Do(func() {
		dir := filepath.Join(CacheDir(), "duckdb-node-"+DuckDBVersion)
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")); err == nil {
			duckDir = dir
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			duckErr = fmt.Errorf("npm is needed to install DuckDB for the Parquet read-back test: %w", err)
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			duckErr = err
			return
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "@duckdb/node-api@"+DuckDBVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			duckErr = fmt.Errorf("npm install @duckdb/node-api: %v\n%s", err, out)
			return
		}
		duckDir = dir
	})
	return duckDir, duckErr
}

const queryScript = `
const duckdb = require(process.argv[2] + '/node_modules/@duckdb/node-api');
(async () => {
  const inst = await duckdb.DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  const reader = await conn.runAndReadAll(process.argv[3]);
  for (const row of reader.getRowObjectsJson()) process.stdout.write(JSON.stringify(row) + '\n');
})().catch(e => { console.error(e.message || e); process.exit(1); });
`

// DuckDBQuery runs sql in DuckDB and returns each result row as a JSON object.
func DuckDBQuery(sql string) ([]map[string]any, error) {
	dir, err := DuckDBDir()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "query.cjs")
	if err := os.WriteFile(script, []byte(queryScript), 0o644); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command("node", script, dir, sql)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("duckdb: %v: %s", err, stderr.String())
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("duckdb output: %w", err)
		}
		rows = append(rows, m)
	}
	return rows, sc.Err()
}

// MustDuckDB is DuckDBQuery that fails the test on error (never skips: a
// test that cannot reach its checker is a failure, not a pass).
func MustDuckDB(t testing.TB, sql string) []map[string]any {
	t.Helper()
	Integration(t, "DuckDB through npm")
	rows, err := DuckDBQuery(sql)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
