package lang

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadTestFileWorkflow: the workflow a test file names is relative to
// the file, unless it is absolute; without one, the default.
func TestLoadTestFileWorkflow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "elsewhere", "wf.hcl")
	tests := []struct {
		name, attr, want string
	}{
		{"relative", `workflow = "../wf.hcl"`, filepath.Join(dir, "..", "wf.hcl")},
		{"absolute", `workflow = "` + filepath.ToSlash(abs) + `"`, abs},
		{"default", ``, "default-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tt.name+TestFileSuffix)
			src := tt.attr + "\nrun \"r\" {}\n"
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			tf, diags := LoadTestFile(path, "default-dir")
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if tf.Workflow != filepath.Clean(tt.want) {
				t.Errorf("workflow = %q, want %q", tf.Workflow, filepath.Clean(tt.want))
			}
		})
	}
}
