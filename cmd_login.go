package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/okru-run/okru-run/okru"
)

func init() {
	register("login", "log in to ok.ru with a login and password and save the token", runLogin)
}

// credentialsFile is what okru-run login writes: everything a later run
// needs to call the API as the user, and no more (not the password, not
// the app secret key). The file is created with mode 0600.
type credentialsFile struct {
	// Magic is credentialsMagic, on the first line of the file: with
	// the format, what proves a file at -out is one login may replace.
	Magic            string    `json:"okru-run"`
	AppID            string    `json:"app_id"`
	AppKey           string    `json:"app_key"`
	UID              string    `json:"uid,omitempty"`
	AccessToken      string    `json:"access_token"`
	SessionSecretKey string    `json:"session_secret_key"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	Permissions      []string  `json:"permissions"`
	APIURL           string    `json:"api_url,omitempty"`
	LoggedInAt       time.Time `json:"logged_in_at"`
}

// defaultCredentialsPath is <user config dir>/okru-run/credentials.json,
// e.g. ~/.config/okru-run/credentials.json on Linux.
func defaultCredentialsPath(getenv func(string) string) (string, error) {
	if p := getenv("OKRU_CREDENTIALS"); p != "" {
		return p, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("find the config folder: %w; give the file with -out", err)
		}
	}
	return filepath.Join(dir, "okru-run", "credentials.json"), nil
}

type loginFlags struct {
	appID, appKey, login, scope  string
	connectURL, apiURL, redirect string
	out                          string
	env                          bool
	timeout                      time.Duration
}

func runLogin(ctx context.Context, env *cliEnv, args []string) int {
	fs := newCommandFlags(env, "login", "login [flags]",
		"Logs in through ok.ru's OAuth pages (the implicit flow) with a login and a password,\n"+
			"and writes the access token and session secret key to a credentials file (mode 0600),\n"+
			"or prints them as export lines with -env. The password comes from $OKRU_PASSWORD or\n"+
			"a prompt on the terminal, never from a flag.")
	var f loginFlags
	fs.StringVar(&f.appID, "app-id", "", "application id (default $OKRU_APP_ID)")
	fs.StringVar(&f.appKey, "app-key", "", "application public key (default $OKRU_APP_KEY)")
	fs.StringVar(&f.login, "login", "", "the user's login: e-mail, phone or user name (default $OKRU_LOGIN)")
	fs.StringVar(&f.scope, "scope", okru.ScopeValuableAccess, "permissions to ask for, separated by ; or ,")
	fs.StringVar(&f.connectURL, "connect-url", "", "base `URL` of the OAuth pages (default $OKRU_CONNECT_URL or "+okru.DefaultConnectURL+")")
	fs.StringVar(&f.apiURL, "api-url", "", "base `URL` of the API (default $OKRU_API_URL or "+okru.DefaultAPIURL+")")
	fs.StringVar(&f.redirect, "redirect-uri", "", "redirect URI registered for the app (default "+okru.DefaultRedirectURI+")")
	fs.StringVar(&f.out, "out", "", "credentials `file` to write (default $OKRU_CREDENTIALS or <config dir>/okru-run/credentials.json)")
	fs.BoolVar(&f.env, "env", false, "print shell export lines to stdout instead of writing a file")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long")
	for _, a := range args {
		if name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-"); strings.HasPrefix(a, "-") && (name == "password" || name == "passwd") {
			fmt.Fprintln(env.stderr, "okru-run login: a password is never taken as a flag, where ps and the shell history would show it; set OKRU_PASSWORD or answer the prompt")
			return exitInvalid
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitInvalid
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(env.stderr, "okru-run login: an argument is not a flag (not shown: it may be a value); login takes flags only (see okru-run login -h)")
		return exitInvalid
	}
	cfg, err := f.config(env)
	if err != nil {
		fmt.Fprintf(env.stderr, "okru-run login: %s\n", strings.TrimPrefix(err.Error(), "okru login: "))
		return exitInvalid
	}
	out := f.out
	if !f.env && out == "" {
		if out, err = defaultCredentialsPath(env.getenv); err != nil {
			fmt.Fprintf(env.stderr, "okru-run login: %v\n", err)
			return exitInvalid
		}
	}
	// Refused before the password is read and the login made: a token
	// that could not be saved would be wasted.
	if out != "" {
		if err := checkCredentialsTarget(out); err != nil {
			fmt.Fprintf(env.stderr, "okru-run login: -out: %v\n", err)
			return exitInvalid
		}
	}
	if cfg.Password, err = readPassword(env, cfg.Login); err != nil {
		fmt.Fprintf(env.stderr, "okru-run login: %v\n", err)
		return exitInvalid
	}

	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	secrets := []string{cfg.Password, cfg.AppSecretKey}
	tok, err := okru.ImplicitLogin(ctx, cfg)
	if err != nil {
		return loginFailed(ctx, env, err, secrets)
	}
	secrets = append(secrets, tok.AccessToken, tok.SessionSecretKey)
	uid := whoAmI(ctx, env, cfg, tok, secrets)
	creds := credentialsFile{
		Magic: credentialsMagic, AppID: cfg.AppID, AppKey: cfg.AppKey, UID: uid, AccessToken: tok.AccessToken,
		SessionSecretKey: tok.SessionSecretKey, ExpiresAt: tok.ExpiresAt, Permissions: tok.Permissions,
		APIURL: cfg.APIURL, LoggedInAt: time.Now().UTC().Truncate(time.Second),
	}
	who := "logged in"
	if uid != "" {
		who += " as user " + uid
	}
	who += " with " + strings.Join(tok.Permissions, ";")
	if !tok.ExpiresAt.IsZero() {
		who += "; the token expires at " + tok.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if f.env {
		// The one deliberate output of secrets: the user asked for them
		// on stdout, to eval in a shell.
		writeExports(env.stdout, creds)
		fmt.Fprintf(env.stderr, "okru-run login: %s; eval the lines on stdout to use them: eval \"$(okru-run login -env)\"\n", who)
		return exitOK
	}
	if err := writeCredentials(out, creds); err != nil {
		fmt.Fprintf(env.stderr, "okru-run login: %s, but %s\n", who, okru.Redact(err.Error(), secrets...))
		return exitFailed
	}
	fmt.Fprintf(env.stderr, "okru-run login: %s; credentials written to %s (mode 0600)\n", who, out)
	return exitOK
}

// config builds the login from the flags and the environment.
func (f *loginFlags) config(env *cliEnv) (okru.ImplicitConfig, error) {
	pick := func(flagValue, name string) string {
		if flagValue != "" {
			return flagValue
		}
		return env.getenv(name)
	}
	cfg := okru.ImplicitConfig{
		AppID:        pick(f.appID, "OKRU_APP_ID"),
		AppKey:       pick(f.appKey, "OKRU_APP_KEY"),
		AppSecretKey: env.getenv("OKRU_APP_SECRET_KEY"),
		Login:        pick(f.login, "OKRU_LOGIN"),
		ConnectURL:   pick(f.connectURL, "OKRU_CONNECT_URL"),
		APIURL:       pick(f.apiURL, "OKRU_API_URL"),
		RedirectURI:  f.redirect,
	}
	// Checked here, before the password is asked for: ok.ru would
	// refuse a bad list only after the login form was posted.
	cfg.Permissions = okru.SplitScopes(strings.ToUpper(f.scope))
	if len(cfg.Permissions) == 0 {
		return cfg, errors.New("-scope is empty; ask for at least VALUABLE_ACCESS")
	}
	if err := okru.CheckScopes(cfg.Permissions); err != nil {
		return cfg, fmt.Errorf("-scope: %w", err)
	}
	var missing []string
	for _, m := range []struct{ value, what string }{
		{cfg.AppID, "the app id (-app-id or OKRU_APP_ID)"},
		{cfg.AppKey, "the app key (-app-key or OKRU_APP_KEY)"},
		{cfg.Login, "the login (-login or OKRU_LOGIN)"},
	} {
		if m.value == "" {
			missing = append(missing, m.what)
		}
	}
	if len(missing) > 0 {
		return cfg, fmt.Errorf("%s must be set", strings.Join(missing, ", "))
	}
	// Checked here so that no error quotes a value typed in the wrong
	// place: the URLs would be repeated by transport errors, the app id
	// in the authorize URL they quote.
	if !appIDRE.MatchString(cfg.AppID) {
		return cfg, errors.New("-app-id (or OKRU_APP_ID): want the app's number, as in the app's settings on ok.ru")
	}
	for _, u := range []struct{ value, what string }{
		{cfg.ConnectURL, "-connect-url (or OKRU_CONNECT_URL)"},
		{cfg.APIURL, "-api-url (or OKRU_API_URL)"},
		{cfg.RedirectURI, "-redirect-uri"},
	} {
		if u.value != "" && !absoluteHTTPURL(u.value) {
			return cfg, fmt.Errorf("%s: want an absolute http:// or https:// URL", u.what)
		}
	}
	if f.timeout <= 0 {
		return cfg, errors.New("-timeout must be positive")
	}
	return cfg, nil
}

// appIDRE is what ok.ru's application ids look like: numbers.
var appIDRE = regexp.MustCompile(`^[0-9]{1,20}$`)

// absoluteHTTPURL reports whether s is an absolute http or https URL.
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// readPassword takes the password from OKRU_PASSWORD, or asks for it on
// the terminal without echo. It never reads a password from a pipe it was
// not asked to, nor from a flag.
func readPassword(env *cliEnv, login string) (string, error) {
	if p := env.getenv("OKRU_PASSWORD"); p != "" {
		return p, nil
	}
	in, ok := env.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", errors.New("no password: set OKRU_PASSWORD, or run on a terminal to be asked for it")
	}
	fmt.Fprintf(env.stderr, "Password for %s on ok.ru: ", login)
	// A second Ctrl-C ends the process inside ReadPassword, which would
	// leave the terminal without echo: give it its state back first.
	if state, err := term.GetState(int(in.Fd())); err == nil {
		defer atHardExit(func() { term.Restore(int(in.Fd()), state) })()
	}
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(env.stderr)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("the password is empty")
	}
	return string(b), nil
}

// loginFailed reports a failed login: 130 when interrupted, else 1.
func loginFailed(ctx context.Context, env *cliEnv, err error, secrets []string) int {
	// okru's login errors say "okru login: ..."; after "okru-run login: "
	// that would be said twice.
	msg := strings.TrimPrefix(okru.Redact(err.Error(), secrets...), "okru login: ")
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(env.stderr, "okru-run login: interrupted")
		return exitInterrupted
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg += " (the login took longer than -timeout)"
	}
	fmt.Fprintf(env.stderr, "okru-run login: %s\n", msg)
	return exitFailed
}

// whoAmI asks the API for the user's id with the new token, which also
// proves that the token works. A failure is a warning: the token is saved
// anyway.
func whoAmI(ctx context.Context, env *cliEnv, cfg okru.ImplicitConfig, tok okru.Token, secrets []string) string {
	opts := []okru.SessionOption{}
	if cfg.APIURL != "" {
		opts = append(opts, okru.WithAPIURL(cfg.APIURL))
	}
	s := okru.ClientSession(cfg.AppKey, tok.AccessToken, tok.SessionSecretKey, opts...)
	var uid string
	if err := okru.New(s, nil).CallInto(ctx, "users.getLoggedInUser", nil, &uid); err != nil {
		fmt.Fprintf(env.stderr, "okru-run login: warning: the token could not be checked: %s\n", okru.Redact(err.Error(), secrets...))
		return ""
	}
	return uid
}

// writeExports prints the credentials as POSIX shell export lines.
func writeExports(w io.Writer, c credentialsFile) {
	for _, l := range c.exportVars() {
		fmt.Fprintf(w, "export %s=%s\n", l[0], shellQuote(l[1]))
	}
}

// shellQuote quotes s for a POSIX shell: inside single quotes, where a
// single quote is written by closing the quotes, escaping it and opening
// them again.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeCredentials writes c to path atomically: a temporary file created
// with mode 0600 in the same folder, written, synced, then renamed over
// path, so that a crash leaves either the old file or the new one and the
// token is never readable by others, not even for a moment. It refuses a
// folder others can change (they could swap the file for theirs), a path
// that is a link or not a regular file of this user's, and a file that is
// neither empty nor credentials okru-run wrote, and then leaves what is
// there alone.
func writeCredentials(path string, c credentialsFile) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the folder for the credentials: %w", err)
	}
	if err := checkCredentialsTarget(path); err != nil {
		return fmt.Errorf("write the credentials: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("write the credentials: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	enc := json.NewEncoder(tmp)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("write the credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write the credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the credentials to %s: %w", path, err)
	}
	// Make the rename itself durable; not every system can sync a folder.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
