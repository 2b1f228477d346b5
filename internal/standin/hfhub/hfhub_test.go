package hfhub_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tuneline/tuneline/internal/standin/hfhub"
	"github.com/tuneline/tuneline/internal/testenv"
)

// officialClient runs the official @huggingface/hub client against the
// stand-in: whoAmI, createRepo (twice: the second must fail with 409),
// commit of a binary file and a text file, listFiles and downloadFile.
const officialClient = `
const hub = require(process.argv[2] + '/node_modules/@huggingface/hub');
const fs = require('fs');
(async () => {
  const [, , , hubUrl, accessToken, binPath] = process.argv;
  const repo = { type: 'dataset', name: 'alice/demo' };
  const out = {};
  out.whoami = (await hub.whoAmI({ accessToken, hubUrl })).name;
  await hub.createRepo({ repo, accessToken, hubUrl });
  try { await hub.createRepo({ repo, accessToken, hubUrl }); out.second = 'created'; }
  catch (e) { out.second = e.statusCode; }
  const bin = fs.readFileSync(binPath);
  const c = await hub.commit({ repo, accessToken, hubUrl, title: 'from the official client',
    operations: [
      { operation: 'addOrUpdate', path: 'data/train-00000-of-00001.parquet', content: new Blob([bin]) },
      { operation: 'addOrUpdate', path: 'README.md', content: new Blob(['# demo\n']) },
    ] });
  out.commit = c.commit.oid;
  out.files = [];
  for await (const f of hub.listFiles({ repo, accessToken, hubUrl, recursive: true })) out.files.push(f);
  const blob = await hub.downloadFile({ repo, accessToken, hubUrl, path: 'data/train-00000-of-00001.parquet' });
  out.downloaded = Buffer.from(await blob.arrayBuffer()).toString('base64');
  try { await hub.whoAmI({ accessToken: 'hf_wrong', hubUrl }); out.badToken = 'accepted'; }
  catch (e) { out.badToken = e.statusCode; }
  process.stdout.write(JSON.stringify(out));
})().catch(e => { console.error(e.stack || e); process.exit(1); });
`

func TestOfficialClient(t *testing.T) {
	dir := testenv.HFHubJS(t)
	srv := hfhub.Start(map[string]string{"hf_alice": "alice"})
	defer srv.Close()
	tmp := t.TempDir()
	script := filepath.Join(tmp, "client.cjs")
	os.WriteFile(script, []byte(officialClient), 0o644)
	// A real Parquet shard's bytes are binary; these start with the
	// magic and hold NUL bytes, as one does.
	bin := append([]byte("PAR1\x00\x01\x02"), bytes.Repeat([]byte{0, 1, 2, 3, 250}, 300<<10)...)
	binPath := filepath.Join(tmp, "shard.parquet")
	os.WriteFile(binPath, bin, 0o644)
	cmd := exec.Command("node", script, dir, srv.URL, "hf_alice", binPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("official client: %v\n%s", err, stderr.String())
	}
	var out struct {
		Whoami     string
		Second     any
		Commit     string
		Downloaded []byte
		BadToken   any
		Files      []struct {
			Path string
			Size int
			LFS  *struct {
				Oid  string
				Size int
			}
		}
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if out.Whoami != "alice" || out.Second != float64(409) || out.BadToken != float64(401) || len(out.Commit) != 40 {
		t.Errorf("official client saw %+v", out)
	}
	if !bytes.Equal(out.Downloaded, bin) {
		t.Errorf("downloaded %d bytes, want the %d committed", len(out.Downloaded), len(bin))
	}
	lfs := map[string]bool{}
	for _, f := range out.Files {
		lfs[f.Path] = f.LFS != nil
	}
	if !lfs["data/train-00000-of-00001.parquet"] || lfs["README.md"] || len(lfs) != 3 {
		t.Errorf("tree: %+v", out.Files)
	}
	if got, isLFS, _ := srv.File("datasets/alice/demo", "main", "data/train-00000-of-00001.parquet"); !bytes.Equal(got, bin) || !isLFS {
		t.Errorf("stored shard: %d bytes, lfs %v", len(got), isLFS)
	}
	if got, isLFS, _ := srv.File("datasets/alice/demo", "main", "README.md"); string(got) != "# demo\n" || isLFS {
		t.Errorf("stored README: %q, lfs %v", got, isLFS)
	}
	if srv.Commits() != 1 || srv.LFSUploads() != 1 {
		t.Errorf("%d commits, %d LFS uploads; want 1 and 1", srv.Commits(), srv.LFSUploads())
	}
}
