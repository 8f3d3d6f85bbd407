package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// maxCredentialsSize bounds what -credentials reads: the file login
// writes is well under a kilobyte.
const maxCredentialsSize = 64 << 10

// credentialsMagic is the value of the "okru-run" key that opens every
// credentials file login writes, as "journal" opens every journal.
const credentialsMagic = "credentials"

// checkCredentialsTarget refuses a path login may not write credentials
// to: a link, anything but a regular file of the user's, a folder others
// can change (checkPrivatePath), or a file that is neither empty nor
// credentials okru-run wrote, so that a user's file given to -out by
// mistake keeps its bytes and its mode. A folder that does not exist yet
// is fine: writeCredentials creates it.
func checkCredentialsTarget(path string) error {
	if _, err := os.Stat(filepath.Dir(path)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := checkPrivatePath(path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look at %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialsSize+1))
	if err != nil {
		return fmt.Errorf("look at %s: %w", path, err)
	}
	if len(data) == 0 || writtenByLogin(data) {
		return nil
	}
	// Never a word of the content: it may be anything of the user's.
	return fmt.Errorf("%s is neither empty nor a credentials file okru-run login wrote; it was left as it is: "+
		"give -out another path, or move the file away", path)
}

// writtenByLogin proves data to be a credentials file okru-run login
// wrote: one JSON object of credentialsFile's keys and no other, opened
// by the magic key, or, as login wrote it before the key existed, holding
// an access token and the login's time.
func writtenByLogin(data []byte) bool {
	if len(data) > maxCredentialsSize {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c credentialsFile
	if dec.Decode(&c) != nil || dec.Decode(&struct{}{}) != io.EOF {
		return false
	}
	return c.Magic == credentialsMagic || (c.Magic == "" && c.AccessToken != "" && !c.LoggedInAt.IsZero())
}

// exportVars are the environment variables that carry c, in the order
// login -env prints them. Empty values are left out.
func (c credentialsFile) exportVars() [][2]string {
	vars := [][2]string{
		{"OKRU_APP_ID", c.AppID}, {"OKRU_APP_KEY", c.AppKey},
		{"OKRU_ACCESS_TOKEN", c.AccessToken}, {"OKRU_SESSION_SECRET_KEY", c.SessionSecretKey},
		{"OKRU_API_URL", c.APIURL},
	}
	out := vars[:0]
	for _, v := range vars {
		if v[1] != "" {
			out = append(out, v)
		}
	}
	return out
}

// readCredentials reads a credentials file written by okru-run login. It
// refuses a file others may read (the token in it is the user's), and
// never quotes the file's contents in an error.
func readCredentials(path string) (credentialsFile, error) {
	var c credentialsFile
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("read the credentials: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return c, fmt.Errorf("read the credentials: %w", err)
	}
	if !st.Mode().IsRegular() {
		return c, fmt.Errorf("the credentials file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return c, fmt.Errorf("the credentials file %s may be read by others (mode %04o); make it private with chmod 600 %s, as okru-run login writes it", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialsSize+1))
	if err != nil {
		return c, fmt.Errorf("read the credentials: %w", err)
	}
	if len(data) > maxCredentialsSize {
		return c, fmt.Errorf("the credentials file %s is larger than %d bytes: not a file okru-run login wrote", path, maxCredentialsSize)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		// The JSON error may quote a piece of the file: say where only.
		where := ""
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			where = fmt.Sprintf(" (invalid JSON at byte %d)", se.Offset)
		}
		return credentialsFile{}, fmt.Errorf("the credentials file %s is not a file okru-run login wrote%s", path, where)
	}
	if c.Magic != "" && c.Magic != credentialsMagic {
		return credentialsFile{}, fmt.Errorf("the credentials file %s is another okru-run file, not one okru-run login wrote", path)
	}
	if c.AccessToken == "" || c.AppKey == "" {
		return credentialsFile{}, fmt.Errorf("the credentials file %s lacks the app key or the access token; run okru-run login again", path)
	}
	return c, nil
}

// credentialsGetenv returns what env() sees in a workflow: with
// -credentials FILE, the variables login -env would export, read from
// FILE, in front of the process environment; else the environment.
func (f *workflowFlags) credentialsGetenv(env *cliEnv) (func(string) string, bool) {
	if f.credentials == "" {
		return env.getenv, true
	}
	c, err := readCredentials(f.credentials)
	if err != nil {
		fmt.Fprintf(env.stderr, "okru-run: -credentials: %v\n", err)
		return nil, false
	}
	if !c.ExpiresAt.IsZero() && time.Now().After(c.ExpiresAt) {
		fmt.Fprintf(env.stderr, "okru-run: warning: the token in %s expired at %s; run okru-run login again\n",
			f.credentials, c.ExpiresAt.Format(time.RFC3339))
	}
	vars := map[string]string{}
	for _, v := range c.exportVars() {
		vars[v[0]] = v[1]
	}
	return func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return env.getenv(name)
	}, true
}
