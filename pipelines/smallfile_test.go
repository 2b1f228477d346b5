package pipelines

import (
	"strings"
	"testing"

	"github.com/tuneline/tuneline/internal/memlimit"
)

// A workspace file at /dev/zero is refused, not read until memory runs
// out (issue 29, case 4). In a child limited to 1 GiB.
func TestWorkspaceFileCapped(t *testing.T) {
	if !memlimit.Child(t, 1<<30) {
		return
	}
	if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "too large for a workspace file") {
		t.Errorf("%v, want it refused as too large", err)
	}
}
