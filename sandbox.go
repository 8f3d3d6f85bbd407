package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/okru-run/okru-run/engine"
	"github.com/okru-run/okru-run/okru"
	"github.com/okru-run/okru-run/okru/okrutest"
)

// The in-process sandbox of run, plan and script runs (-sandbox), and the
// flags that choose its data, shared with okru-run sandbox.

// sandboxFlags choose the sandbox's data and latency. okru-run sandbox
// registers them as -seed, -users and -latency; run, plan and script runs
// as -sandbox-seed, ... for their in-process sandbox, with the same
// defaults, so both serve the same users unless told otherwise.
type sandboxFlags struct {
	seed    uint64
	users   int
	latency time.Duration
}

func (f *sandboxFlags) register(fs *flag.FlagSet, prefix, doc string) {
	fs.Uint64Var(&f.seed, prefix+"seed", 1, doc+"seed of the sandbox's social graph: the same seed gives the same users, friends and groups")
	fs.IntVar(&f.users, prefix+"users", okrutest.DefaultUsers, doc+"number of users in the sandbox's graph")
	fs.DurationVar(&f.latency, prefix+"latency", 0, doc+"delay every API call of the sandbox by this `duration`, to rehearse a batch at ok.ru's pace")
}

func (f sandboxFlags) config() okrutest.Config {
	return okrutest.Config{Seed: f.seed, Users: f.users, Faults: okrutest.Faults{Latency: f.latency}}
}

// useSandbox starts the in-process sandbox for -sandbox and points opts
// at it. It returns the sandbox's credentials, for redaction, and stop,
// which the caller defers.
func useSandbox(sb sandboxFlags, opts *engine.Options) (stop func(), secrets []string, err error) {
	srv, connect, secrets, err := startSandbox(sb)
	if err != nil {
		return nil, nil, err
	}
	opts.Connect = connect
	return srv.Close, secrets, nil
}

// startSandbox starts the in-process sandbox and returns a Connector that
// points every session at it with the demo user's credentials, and those
// credentials for redaction. It serves the data okru-run sandbox serves
// with the same flags, so ids found on one work on the other.
func startSandbox(sb sandboxFlags) (*okrutest.Server, engine.Connector, []string, error) {
	cfg := sb.config()
	// Nothing reads the call log of an in-process sandbox: keep a little,
	// so a batch of 100,000 calls does not hold them all.
	cfg.MaxCalls = 1000
	srv, err := okrutest.Start(cfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("start the sandbox: %w", err)
	}
	app, demo := srv.App(), srv.DemoUser()
	connect := func(_ context.Context, sc engine.SessionConfig) (engine.Caller, error) {
		// The workflow's credentials give way to the sandbox's; its
		// circuit is kept, server-server unless it names another.
		circuit := strings.ToLower(sc.Circuit)
		if circuit != "app" && circuit != "client" {
			circuit = "server"
		}
		s, err := engine.NewSession(engine.SessionConfig{Name: sc.Name, AppID: app.ID, AppKey: app.Key,
			AppSecretKey: app.SecretKey, AccessToken: demo.AccessToken, SessionSecretKey: demo.SessionSecretKey,
			APIURL: srv.URL + "/", Circuit: circuit})
		if err != nil {
			return nil, err
		}
		// The default pace would only slow examples down: the sandbox sets
		// no limit unless asked. A rate_limit the workflow sets is kept, so
		// a batch rehearsed offline keeps its pace.
		rate := okru.Unlimited
		if sc.RateLimit != 0 {
			rate = sc.RateLimit
		}
		return okru.New(s, &okru.Options{Rate: rate}), nil
	}
	secrets := []string{app.SecretKey, demo.AccessToken, demo.SessionSecretKey, demo.Password,
		okru.ServerSecret(demo.AccessToken, app.SecretKey)}
	return srv, connect, secrets, nil
}
