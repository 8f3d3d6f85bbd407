package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/okru-run/okru-run/engine"
	"github.com/schollz/progressbar/v3"
)

// liveBars draws one progress bar per running for_each step below the
// lines Text prints, on a terminal. progressbar renders each bar (count,
// rate, time left); liveBars stacks them and moves them out of the way of
// every line printed, which a single-line bar library cannot do alone.
type liveBars struct {
	bars  []*liveBar
	drawn int       // bar lines on screen, below the cursor's line
	last  time.Time // last redraw
}

type liveBar struct {
	step    string
	method  string
	pb      *progressbar.ProgressBar
	max     int // instances this run does: the step's less those done earlier
	done    int // over in this run
	reused  int
	retries int
	// sent and size are an upload step's bytes; size is 0 for others.
	sent, size int64
	// shown is what pb was last told, so that it is told only changes.
	shown struct {
		max, done int
		desc      string
	}
}

// redrawEvery bounds how often bars are redrawn while calls finish.
const redrawEvery = 100 * time.Millisecond

func (l *liveBars) start(step, method string, total int) {
	b := &liveBar{step: step, method: method, max: total}
	b.pb = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(io.Discard), // liveBars writes the rendered text
		progressbar.OptionSetDescription(step+": "+method),
		progressbar.OptionSetWidth(20),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("calls"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		// Bars are brought up to date only when liveBars draws them, at
		// most every redrawEvery: counting an instance costs nothing.
		progressbar.OptionThrottle(0),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionUseANSICodes(true),
	)
	b.shown.max, b.shown.desc = total, step+": "+method
	l.bars = append(l.bars, b)
}

func (l *liveBars) find(step string) *liveBar {
	for _, b := range l.bars {
		if b.step == step {
			return b
		}
	}
	return nil
}

// advance counts an instance over; reused ones come off the total
// instead, so the rate and time left are this run's.
func (l *liveBars) advance(step string, reused bool) {
	b := l.find(step)
	if b == nil {
		return
	}
	if reused {
		b.reused++
		b.max--
		return
	}
	b.done++
}

// bytes shows an upload step's bytes on its bar, starting a bar for an
// upload without for_each, which has none.
func (l *liveBars) bytes(step, method string, sent, size int64) {
	b := l.find(step)
	if b == nil {
		l.start(step, method, 1)
		b = l.find(step)
	}
	b.sent, b.size = sent, size
}

func (l *liveBars) retried(step string) {
	if b := l.find(step); b != nil {
		b.retries++
	}
}

// line brings the bar up to date and returns it.
func (b *liveBar) line() string {
	if desc := b.description(); desc != b.shown.desc {
		b.pb.Describe(desc)
		b.shown.desc = desc
	}
	if b.max != b.shown.max && b.max > 0 {
		b.pb.ChangeMax(b.max)
		b.shown.max = b.max
	}
	if b.done != b.shown.done && b.done <= b.max {
		_ = b.pb.Set(b.done)
		b.shown.done = b.done
	}
	line := strings.TrimPrefix(b.pb.String(), "\r")
	return strings.TrimRight(strings.TrimSuffix(line, "\x1b[0K"), " ")
}

func (b *liveBar) description() string {
	d := b.step + ": " + b.method
	var notes []string
	if b.reused > 0 {
		notes = append(notes, fmt.Sprintf("%d done earlier", b.reused))
	}
	if b.retries > 0 {
		notes = append(notes, retries(b.retries))
	}
	if b.size > 0 {
		notes = append(notes, byteCount(b.sent, b.size))
	}
	if len(notes) > 0 {
		d += " (" + strings.Join(notes, ", ") + ")"
	}
	return d
}

func (l *liveBars) remove(step string) {
	for i, b := range l.bars {
		if b.step == step {
			_ = b.pb.Exit()
			l.bars = append(l.bars[:i], l.bars[i+1:]...)
			return
		}
	}
}

// erase returns what moves the cursor up over the bars and clears them.
func (l *liveBars) erase() string {
	if l.drawn == 0 {
		return ""
	}
	s := fmt.Sprintf("\x1b[%dA\r\x1b[J", l.drawn)
	l.drawn = 0
	return s
}

// frame returns the bars, one line each, and notes them as drawn.
func (l *liveBars) frame() string {
	var sb strings.Builder
	for _, b := range l.bars {
		sb.WriteString(b.line())
		sb.WriteString("\x1b[K\n")
	}
	l.drawn = len(l.bars)
	l.last = time.Now()
	return sb.String()
}

// redraw returns erase and frame together, or "" when the bars were
// drawn less than redrawEvery ago and force is false.
func (l *liveBars) redraw(force bool) string {
	if !force && time.Since(l.last) < redrawEvery {
		return ""
	}
	if len(l.bars) == 0 && l.drawn == 0 {
		return ""
	}
	return l.erase() + l.frame()
}

// statusLine is the progress of one for_each step off a terminal: a line
// every few seconds instead of a bar.
func statusLine(p engine.StepProgress) string {
	done := p.Done + p.Reused + p.Failed + p.Skipped
	s := fmt.Sprintf("%s: %s %d/%d", p.Step, p.Method, done, p.Total)
	if p.Total > 0 {
		s += fmt.Sprintf(" (%d%%)", done*100/p.Total)
	}
	var notes []string
	if p.Reused > 0 {
		notes = append(notes, fmt.Sprintf("%d done earlier", p.Reused))
	}
	if p.Failed > 0 {
		notes = append(notes, fmt.Sprintf("%d failed", p.Failed))
	}
	if p.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d skipped", p.Skipped))
	}
	if p.Retries > 0 {
		notes = append(notes, retries(p.Retries))
	}
	if p.TotalBytes > 0 {
		notes = append(notes, byteCount(p.Bytes, p.TotalBytes))
	}
	if p.Rate > 0 {
		notes = append(notes, fmt.Sprintf("%.1f calls/s", p.Rate))
	}
	if p.ETA > 0 {
		notes = append(notes, fmt.Sprintf("about %s left", roundETA(p.ETA)))
	}
	if len(notes) > 0 {
		s += ", " + strings.Join(notes, ", ")
	}
	return s
}

func roundETA(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func retries(n int) string {
	if n == 1 {
		return "1 retry"
	}
	return fmt.Sprintf("%d retries", n)
}

// byteCount shows an upload's bytes: "12.5 of 100.0 MiB sent".
func byteCount(sent, size int64) string {
	const mib = 1 << 20
	if size < mib {
		return fmt.Sprintf("%.1f of %.1f KiB sent", float64(sent)/1024, float64(size)/1024)
	}
	return fmt.Sprintf("%.1f of %.1f MiB sent", float64(sent)/mib, float64(size)/mib)
}
