package publish_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tuneline/tuneline/publish"
)

func TestCheckExportRandomModel(t *testing.T) {
	dir := t.TempDir()
	if _, err := publish.CheckExport(dir, false); err == nil || !strings.Contains(err.Error(), "no export-report.json") {
		t.Errorf("folder without a report: %v", err)
	}
	if _, err := publish.CheckExport(dir, true); err != nil {
		t.Errorf("forced: %v", err)
	}
	os.WriteFile(filepath.Join(dir, publish.ReportFile), []byte(`{"tool":"tuneline","random_model":true}`), 0o644)
	_, err := publish.CheckExport(dir, false)
	if err == nil || !strings.Contains(err.Error(), "random-weight model") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("random model export: %v", err)
	}
	if rep, err := publish.CheckExport(dir, true); err != nil || !rep.RandomModel {
		t.Errorf("forced random model export: %v %+v", err, rep)
	}
}

func TestFilesSkipsHidden(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data", ".cache"), 0o755)
	for _, f := range []string{"README.md", "data/train-00000-of-00001.parquet", ".export.tmp", "data/.cache/x"} {
		os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
	}
	got, err := publish.Files(dir)
	if err != nil || strings.Join(got, ",") != "README.md,data/train-00000-of-00001.parquet" {
		t.Errorf("Files = %v, %v", got, err)
	}
}
