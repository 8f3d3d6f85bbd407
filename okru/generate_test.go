package okru

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesUpToDate regenerates codes_gen.go and methods_gen.go into
// a temporary folder and compares them with the committed ones.
func TestGeneratedFilesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./internal/gen", "-data", "data", "-out", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator failed: %v\n%s", err, out)
	}
	for _, name := range []string{"codes_gen.go", "methods_gen.go"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./okru", name)
		}
	}
}

// TestDataMatchesShared checks that the embedded copies of the project's
// shared data files have not drifted from the originals, when those are
// beside the checkout (as on developer machines and in CI).
func TestDataMatchesShared(t *testing.T) {
	for _, name := range []string{"methods.tsv", "errors.tsv", "signature-vectors.tsv"} {
		shared, err := os.ReadFile(filepath.Join("..", "..", "shared", "okru", name))
		if err != nil {
			t.Logf("shared/okru/%s not found beside the checkout; nothing to compare", name)
			continue
		}
		ours, err := os.ReadFile(filepath.Join("data", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, shared) {
			t.Errorf("okru/data/%s differs from shared/okru/%s: copy it over and run go generate ./okru", name, name)
		}
	}
}
