package engine

import (
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/lang"
	"github.com/zclconf/go-cty/cty"
)

// EventType says what happened.
type EventType string

// The events of a run, in the order they happen to a step.
const (
	// EventExpanded: a for_each step was expanded into Instances instances.
	EventExpanded EventType = "expanded"
	// EventStarted: an instance's call was sent.
	EventStarted EventType = "started"
	// EventRetried: an attempt failed with Err and the call is repeated
	// after Wait (Attempt is the attempt that failed).
	EventRetried EventType = "retried"
	// EventFinished: an instance's call succeeded after Elapsed, in Pages
	// pages when paginated.
	EventFinished EventType = "finished"
	// EventFailed: an instance failed; Err and Diags say why. An instance
	// whose precondition is false fails so too (Err an AssertionError),
	// though it was not called.
	EventFailed EventType = "failed"
	// EventSkipped: a step or an instance did not run; Reason says why.
	EventSkipped EventType = "skipped"
	// EventOutputs: the run is over; Outputs holds the outputs it could
	// compute.
	EventOutputs EventType = "outputs"
	// EventLog: a script step wrote Message with log(...) or print(...).
	EventLog EventType = "log"

	// EventState: the run keeps its state in the journal at Path; Resumed
	// says it continues a recorded run of Recorded records.
	EventState EventType = "state"
	// EventReused: an instance finished in the run being resumed; its
	// recorded result is used and it is not called again.
	EventReused EventType = "reused"
	// EventUnknown: a write sent by the run being resumed, which stopped
	// before its answer was recorded: it may or may not have taken effect.
	// It is not sent again (see StateOptions.RetryUnknown); Reason says so.
	EventUnknown EventType = "outcome_unknown"
	// EventStopping: Options.Stop asked the run to stop: no new call
	// starts, and the InFlight calls are let finish.
	EventStopping EventType = "stopping"
	// EventProgress: how far each running for_each step has come, every
	// Options.ProgressEvery.
	EventProgress EventType = "progress"
)

// Event is one thing that happened during a run.
type Event struct {
	Type      EventType
	Step      lang.Address
	Key       cty.Value // the instance key of a for_each step; cty.NilVal otherwise
	Method    string
	Instances int           // EventExpanded
	Attempt   int           // EventRetried
	Wait      time.Duration // EventRetried
	Elapsed   time.Duration // EventFinished, EventFailed
	Pages     int           // EventFinished of a paginated call
	Err       error         // EventRetried, EventFailed (an AssertionError for a false precondition or postcondition); redacted
	Diags     hcl.Diagnostics
	Reason    string         // EventSkipped
	Outputs   []OutputValue  // EventOutputs
	Message   string         // EventLog; redacted
	Total     int            // EventExpanded: instances in every shard (Instances are this shard's)
	Path      string         // EventState
	Resumed   bool           // EventState
	Recorded  int            // EventState
	InFlight  int            // EventStopping
	Progress  []StepProgress // EventProgress
	// Paced, in EventProgress, are the sessions whose pace (rate_limit)
	// made most of their calls wait since the last EventProgress: they,
	// not the network, bound the run.
	Paced []PacedSession
	// FromScript marks the started, retried, finished, failed and skipped
	// events of one API call a script step made, as opposed to those of
	// the step's instance itself (whose Method is lang.ScriptMethod).
	FromScript bool
}

// HasKey reports whether the event is about one instance of a for_each step.
func (e Event) HasKey() bool { return e.Key != cty.NilVal }

// Observer receives the events of a run. The engine calls it from one
// goroutine at a time, so an Observer need not lock; it must not block for
// long, as calls wait for it.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// serialObserver makes concurrent emitters take turns.
type serialObserver struct {
	mu sync.Mutex
	o  Observer
}

func (s *serialObserver) Observe(e Event) {
	if s == nil || s.o == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.o.Observe(e)
}

// OutputValue is the value of one output.
type OutputValue struct {
	Name      string
	Value     cty.Value // sensitive values carry lang's sensitive mark
	Sensitive bool
}
