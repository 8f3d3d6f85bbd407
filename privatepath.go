package main

import (
	"fmt"
	"path/filepath"

	"github.com/okru-run/okru-run/engine/state"
)

// checkPrivatePath refuses to write a private file (the credentials of
// okru-run login) at path when its folder is not the user's alone or
// path is a link or not a regular file of the user's, by the rules of
// the state journal's files. What is at path is left as it is.
func checkPrivatePath(path string) error {
	if err := state.CheckPrivateFolder(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%s is in %w", path, err)
	}
	if err := state.CheckPrivateFile(path); err != nil {
		return fmt.Errorf("%w; it was left as it is: give another file with -out", err)
	}
	return nil
}
