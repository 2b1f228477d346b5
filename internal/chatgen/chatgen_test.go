package chatgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
)

// The same seed writes the same bytes, and the counted plants are in the
// output: every line but the invalid ones parses with a last assistant turn.
func TestWrite(t *testing.T) {
	var a, b bytes.Buffer
	sa, err := Write(&a, 2000, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := Write(&b, 2000, Options{})
	if sa != sb || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different output")
	}
	if sa.Lines != 2000 || sa.ExactDups == 0 || sa.NearDups == 0 || sa.Invalid == 0 {
		t.Fatalf("stats %+v", sa)
	}
	sc := bufio.NewScanner(&a)
	sc.Buffer(nil, 1<<20)
	seen := map[string]int{}
	sound := 0
	for sc.Scan() {
		seen[sc.Text()]++
		var ex example
		if json.Unmarshal(sc.Bytes(), &ex) != nil || len(ex.Messages) < 3 {
			continue
		}
		last := ex.Messages[len(ex.Messages)-1]
		if last.Role == "assistant" && len(bytes.TrimSpace([]byte(last.Content))) > 0 && ex.Messages[1].Role == "user" {
			sound++
		}
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	if dups < sa.ExactDups {
		t.Errorf("%d repeated lines, planted %d exact duplicates", dups, sa.ExactDups)
	}
	if bad := sa.Lines - sound; bad != sa.Invalid {
		t.Errorf("%d unsound lines, planted %d", bad, sa.Invalid)
	}
}
