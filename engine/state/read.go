package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ReadOutputs reads the outputs record of the journal at path without
// locking it or changing anything there, so that okru-run output can read
// a state while a run holds it, and any number of readers at once. A run
// appends whole lines, so a reader sees the records written so far and
// drops a last line still being written; outputs are recorded once, at
// the end of a run. found is false when no outputs record is there yet.
// The path is held to Open's rules: no symbolic link at the last step, a
// journal of this user's that others cannot write.
func ReadOutputs(path string) (outputs json.RawMessage, found bool, err error) {
	before, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("open the state: %w", err)
	}
	if err := checkKind(path, before); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, false, fmt.Errorf("open the state: %w", err)
	}
	defer f.Close()
	if err := sameFile(path, f, before); err != nil {
		return nil, false, err
	}
	if _, err := prove(path, f); err != nil {
		return nil, false, err
	}
	j := &Journal{path: path, f: f, index: map[string]Entry{}}
	if _, err := j.read(); err != nil {
		return nil, false, err
	}
	return j.outputs, j.outputs != nil, nil
}
