package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"time"

	"github.com/okru-run/okru-run/okru/okrutest"
)

func init() {
	register("sandbox", "serve the ok.ru sandbox: a local emulator of the API for offline runs and tests", runSandbox)
}

// sandboxMaxCalls bounds the call log of a long-running sandbox process, so
// that a benchmark of millions of calls does not grow it without end.
const sandboxMaxCalls = 100_000

// sandboxShutdownGrace is how long calls in flight may finish after SIGINT.
const sandboxShutdownGrace = 5 * time.Second

// sandboxBanner is the one line okru-run sandbox prints on stdout: where the
// sandbox listens and its credentials. It is the only place the sandbox's
// secrets are shown, on purpose: they are fake and exist only in this
// process, and scripts need them to call it.
type sandboxBanner struct {
	APIURL       string            `json:"api_url"`
	ConnectURL   string            `json:"connect_url"`
	ControlURL   string            `json:"control_url"`
	AppID        string            `json:"app_id"`
	AppKey       string            `json:"app_key"`
	AppSecretKey string            `json:"app_secret_key"`
	User         sandboxBannerUser `json:"user"`
}

type sandboxBannerUser struct {
	Login            string `json:"login"`
	Password         string `json:"password"`
	UID              string `json:"uid"`
	AccessToken      string `json:"access_token"`
	SessionSecretKey string `json:"session_secret_key"`
}

// newSandboxBanner describes srv for clients; run --sandbox can use it too.
func newSandboxBanner(srv *okrutest.Server) sandboxBanner {
	app, u := srv.App(), srv.DemoUser()
	return sandboxBanner{
		APIURL: srv.URL + "/", ConnectURL: srv.URL + "/", ControlURL: srv.URL + "/__sandbox/",
		AppID: app.ID, AppKey: app.Key, AppSecretKey: app.SecretKey,
		User: sandboxBannerUser{
			Login: u.Login, Password: u.Password, UID: u.UID,
			AccessToken: u.AccessToken, SessionSecretKey: u.SessionSecretKey,
		},
	}
}

// runSandbox serves the sandbox until ctx ends (SIGINT or SIGTERM), then
// shuts down gracefully and exits 0.
func runSandbox(ctx context.Context, env *cliEnv, args []string) int {
	fs := newCommandFlags(env, "sandbox", "sandbox [flags]",
		"Serves a local emulator of the ok.ru API. Prints one JSON line to stdout with\n"+
			"api_url, connect_url, the app's credentials and a demo user's token; logs to\n"+
			"stderr; runs until interrupted.")
	addr := fs.String("addr", "127.0.0.1:0", "listen `address`; port 0 picks a free port")
	var sb sandboxFlags
	sb.register(fs, "", "")
	flood := fs.Float64("flood-limit", 0, "calls per second allowed per token; beyond it calls answer FLOOD_BLOCKED (8); 0 means no limit")
	ttl := fs.Duration("token-ttl", 0, "lifetime of issued tokens; 0 means they do not expire")
	verbose := fs.Bool("v", false, "log every API call to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitInvalid // flag has printed the error and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(env.stderr, "okru-run sandbox: an argument is not a flag (not shown: it may be a value); the sandbox takes flags only (see okru-run sandbox -h)")
		return exitInvalid
	}
	if !listenAddress(*addr) {
		fmt.Fprintln(env.stderr, "okru-run sandbox: -addr: want HOST:PORT, such as 127.0.0.1:8080, or :0 for a free port")
		return exitInvalid
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
	cfg := sb.config()
	cfg.Addr, cfg.TokenTTL, cfg.Faults.FloodLimit = *addr, *ttl, *flood
	cfg.MaxCalls, cfg.Logger = sandboxMaxCalls, logger
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.stderr, "okru-run sandbox: %v\n", err)
		return exitInvalid
	}
	srv, err := okrutest.Start(cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "okru-run sandbox: %v\n", err)
		return exitFailed
	}
	line, err := json.Marshal(newSandboxBanner(srv))
	if err != nil {
		srv.Close()
		fmt.Fprintf(env.stderr, "okru-run sandbox: encode the banner: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(env.stdout, "%s\n", line)
	logger.Info("sandbox ready; the JSON line on stdout has the credentials; press Ctrl-C to stop", "control", srv.URL+"/__sandbox/")

	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sandboxShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("calls in flight were cut short by the shutdown", "err", err)
	}
	return exitOK
}

// listenAddress reports whether addr has the form of an address to listen
// on: HOST:PORT, a port number and a host name or IP address (or none).
// Checked before listening, as net's errors repeat the address, which
// might be something else typed in the wrong place.
func listenAddress(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return false
	}
	return host == "" || net.ParseIP(host) != nil || hostNameRE.MatchString(host)
}

var hostNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
