package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// DefaultSyncEvery bounds how long a record appended with Append may stay
// out of stable storage when no durable record comes to carry it along.
const DefaultSyncEvery = time.Second

// gatherFor is how long the writer waits for more records after an
// Append before it writes: a batch of calls finishing together then costs
// one write instead of one each. A durable append does not wait.
const gatherFor = time.Millisecond

// Journal is an open, locked journal file. Its methods are safe for
// concurrent use.
type Journal struct {
	path string
	lock *lock
	f    *os.File

	// What Open read. Fixed once Open returns: lookups need no lock.
	header  *Header
	index   map[string]Entry
	ended   bool
	outputs json.RawMessage // of the last outputs record
	writes  int             // writes started or done in the recorded run
	records int             // records after the header

	syncEvery time.Duration
	wake      chan struct{} // poked by appends; buffered 1
	urgent    chan struct{} // poked by durable appends; buffered 1
	quit      chan struct{}
	stopped   chan struct{}

	mu       sync.Mutex
	cond     *sync.Cond // signalled when written or synced moves, or on error
	pending  []byte     // encoded records not yet written
	spare    []byte
	seq      uint64 // records appended
	written  uint64 // records handed to the OS
	synced   uint64 // records known to be on stable storage
	wantSync uint64 // the highest record a caller waits to see synced
	err      error  // the first write or sync failure; sticky
	closed   bool
}

// Entry is what a journal holds about one call: its last record.
type Entry struct {
	Kind     Kind // KindStart (a write whose outcome is unknown), KindDone or KindFailed
	Method   string
	Write    bool
	Hash     string
	Redacted bool
	at       int64 // offset of the done record's line
	size     int   // its length
}

// LockedError is returned by Open when another process holds the journal.
type LockedError struct {
	Path string
	PID  int // the holder's process id; 0 when it could not be read
}

func (e *LockedError) Error() string {
	holder := "another okru-run process"
	if e.PID > 0 {
		holder = fmt.Sprintf("another okru-run process (pid %d)", e.PID)
	}
	return fmt.Sprintf("state %s is in use by %s: wait for that run to end, or give this run its own state with -state", e.Path, holder)
}

// CorruptError is returned by Open when a whole line (one that ends in a
// newline, unlike a last line torn by a crash) cannot be read: something
// other than a crash changed the file.
type CorruptError struct {
	Path string
	Line int
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state %s is damaged at line %d (%v): it cannot be resumed; start over with -fresh, or move the file away", e.Path, e.Line, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Open locks the journal at path and reads what it holds, creating the
// file (mode 0600) and its folder (mode 0700) when missing. A last line cut
// short by a crash is dropped. It fails at once with a *LockedError when
// another process holds the journal, and with an *UnsafeError, changing
// nothing, when path is not a journal it may use (see path.go). Close
// releases it.
func Open(path string) (*Journal, error) {
	dir := folderOf(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the state folder: %w", err)
	}
	if err := checkFolder(path, dir); err != nil {
		return nil, err
	}
	f, created, err := openFile(path)
	if err != nil {
		return nil, err
	}
	lk, err := acquire(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	j := &Journal{path: path, lock: lk, f: f, index: map[string]Entry{}, syncEvery: DefaultSyncEvery,
		wake: make(chan struct{}, 1), urgent: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	j.cond = sync.NewCond(&j.mu)
	if err := j.open(created); err != nil {
		lk.release()
		f.Close()
		return nil, err
	}
	go j.writer()
	return j, nil
}

// open checks the locked file and reads it.
func (j *Journal) open(created bool) error {
	if err := stillThere(j.path, j.f); err != nil {
		return err
	}
	loose := false
	if created {
		syncDir(folderOf(j.path))
	} else {
		var err error
		if loose, err = prove(j.path, j.f); err != nil {
			return err
		}
	}
	end, err := j.read()
	if err != nil {
		return err
	}
	if j.header != nil && j.header.Version > Version {
		return fmt.Errorf("state %s was written by a newer okru-run (format %d, this one reads %d): resume it with that version, or start over with -fresh", j.path, j.header.Version, Version)
	}
	if loose {
		if err := j.f.Chmod(0o600); err != nil {
			return fmt.Errorf("open the state: %w", err)
		}
	}
	if err := j.f.Truncate(end); err != nil {
		return fmt.Errorf("open the state: drop a torn last line: %w", err)
	}
	if _, err := j.f.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("open the state: %w", err)
	}
	return nil
}

// read indexes the file and returns the offset after its last whole line.
func (j *Journal) read() (int64, error) {
	r := bufio.NewReaderSize(j.f, 64<<10)
	var off int64
	methods := map[string]string{} // interned: thousands of records share a few names
	for line := 1; ; line++ {
		b, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long result: gather the whole line.
			buf := append([]byte(nil), b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = r.ReadSlice('\n')
				buf = append(buf, b...)
			}
			b = buf
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read the state: %w", err)
		}
		if len(b) == 0 {
			return off, nil
		}
		if b[len(b)-1] != '\n' {
			// Cut short by a crash: the newline is written with the record.
			return off, nil
		}
		if len(bytes.TrimSpace(b)) == 0 {
			off += int64(len(b))
			continue
		}
		var w wireRecord
		if uerr := json.Unmarshal(b, &w); uerr != nil || !j.accept(&w, methods, off, len(b), line) {
			// A whole line, newline included, was not torn by a crash
			// (only a last line without its newline is): it is damaged.
			if uerr == nil {
				uerr = fmt.Errorf("unexpected record %q", w.Kind)
			}
			return 0, &CorruptError{Path: j.path, Line: line, Err: uerr}
		}
		off += int64(len(b))
	}
}

// accept adds one record to the index; it reports false for a record that
// has no place there.
func (j *Journal) accept(w *wireRecord, methods map[string]string, at int64, size, line int) bool {
	if w.Kind == kindHeader {
		if line != 1 || w.Header == nil || w.Magic != magicValue {
			return false
		}
		h := *w.Header
		j.header = &h
		return true
	}
	switch {
	case j.header == nil:
		return false
	case w.Kind == KindEnd:
	case w.Kind == KindOutputs:
		j.outputs = w.Result
		return true
	case w.Kind != KindStart && w.Kind != KindDone && w.Kind != KindFailed, w.ID == "":
		return false
	}
	j.records++
	j.ended = w.Kind == KindEnd
	m, ok := methods[w.Method]
	if !ok {
		m = w.Method
		methods[m] = m
	}
	switch w.Kind {
	case KindEnd:
		return true
	case KindStart:
		j.index[w.ID] = Entry{Kind: KindStart, Method: m, Write: true, Hash: w.Hash}
		j.writes++
	case KindDone:
		if w.Write && j.index[w.ID].Kind != KindStart {
			j.writes++
		}
		if w.Result == nil {
			// A write a diverging script carried over keeps no result.
			size = 0
		}
		j.index[w.ID] = Entry{Kind: KindDone, Method: m, Write: w.Write, Hash: w.Hash, Redacted: w.Redacted, at: at, size: size}
	case KindFailed:
		j.index[w.ID] = Entry{Kind: KindFailed, Method: m, Write: w.Write, Hash: w.Hash}
	}
	return true
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// Header returns the header read by Open; false when the file had none
// (it is new, or was empty).
func (j *Journal) Header() (Header, bool) {
	if j.header == nil {
		return Header{}, false
	}
	return *j.header, true
}

// Outputs returns the outputs the recorded run computed when it ended;
// false when it recorded none.
func (j *Journal) Outputs() (json.RawMessage, bool) { return j.outputs, j.outputs != nil }

// Ended reports whether the recorded run finished with every call done.
func (j *Journal) Ended() bool { return j.ended }

// Records returns how many records Open read after the header.
func (j *Journal) Records() int { return j.records }

// Writes returns how many writes the recorded run started or finished.
func (j *Journal) Writes() int { return j.writes }

// Lookup returns what the recorded run did about one call.
func (j *Journal) Lookup(id string) (Entry, bool) {
	e, ok := j.index[id]
	return e, ok
}

// Entries calls f for every call the recorded run has a record of, in no
// particular order.
func (j *Journal) Entries(f func(id string, e Entry)) {
	for id, e := range j.index {
		f(id, e)
	}
}

// Result reads back the result of a done entry. Results stay on disk
// until asked for, so a resumed run holds in memory only those it uses.
func (j *Journal) Result(e Entry) (json.RawMessage, error) {
	if e.Kind != KindDone || e.size == 0 {
		return nil, errors.New("the state holds no result for this call")
	}
	b := make([]byte, e.size)
	if _, err := j.f.ReadAt(b, e.at); err != nil {
		return nil, fmt.Errorf("read a result from the state: %w", err)
	}
	var w struct {
		Result json.RawMessage `json:"r"`
	}
	if err := json.Unmarshal(b, &w); err != nil || w.Result == nil {
		return nil, fmt.Errorf("read a result from the state %s: the record changed since it was opened", j.path)
	}
	return w.Result, nil
}

// Reset empties the journal and starts it with h, durably: what it held
// is gone. The engine resets when a run starts over.
func (j *Journal) Reset(h Header) error {
	h.Version = Version
	if h.Created.IsZero() {
		h.Created = time.Now().UTC()
	}
	line, err := headerLine(h)
	if err != nil {
		return fmt.Errorf("start the state: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.seq != 0 || j.closed {
		return errors.New("start the state: records were already appended")
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("start the state: %w", err)
	}
	if _, err := j.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("start the state: %w", err)
	}
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("start the state: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("start the state: %w", err)
	}
	j.header = &h
	j.index = map[string]Entry{}
	j.ended, j.writes, j.records, j.outputs = false, 0, 0, nil
	return nil
}

// encodeBuf recycles record buffers: encoding runs outside the lock.
var encodeBuf = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Append queues r for the file and returns without waiting: the record is
// written at once by the writer goroutine and synced within SyncEvery or
// with the next durable record. A failure to write is returned by later
// calls and by Close.
func (j *Journal) Append(r *Record) error {
	_, err := j.append(r, false)
	return err
}

// AppendDurable appends r and waits until it, and every record before it,
// is on stable storage.
func (j *Journal) AppendDurable(r *Record) error {
	seq, err := j.append(r, true)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.synced < seq && j.err == nil {
		j.cond.Wait()
	}
	if j.synced < seq {
		return j.err
	}
	return nil
}

func (j *Journal) append(r *Record, durable bool) (uint64, error) {
	bp := encodeBuf.Get().(*[]byte)
	line, err := appendRecord((*bp)[:0], r)
	defer func() {
		if cap(line) <= 64<<10 {
			*bp = line[:0]
			encodeBuf.Put(bp)
		}
	}()
	if err != nil {
		return 0, fmt.Errorf("record %s in the state: %w", r.ID, err)
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return 0, errors.New("the state is closed")
	}
	if j.err != nil {
		err := j.err
		j.mu.Unlock()
		return 0, err
	}
	if j.header == nil {
		j.mu.Unlock()
		return 0, errors.New("the state has no header: call Reset first")
	}
	j.pending = append(j.pending, line...)
	j.seq++
	seq := j.seq
	if durable {
		j.wantSync = seq
	}
	j.mu.Unlock()
	poke(j.wake)
	if durable {
		poke(j.urgent)
	}
	return seq, nil
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// writer is the one goroutine that writes to the file: it takes what was
// appended since its last pass, writes it in one go and syncs when a
// caller waits for it or SyncEvery has passed.
func (j *Journal) writer() {
	defer close(j.stopped)
	tick := time.NewTicker(j.syncEvery)
	defer tick.Stop()
	gather := time.NewTimer(gatherFor)
	defer gather.Stop()
	for {
		select {
		case <-j.wake:
			gather.Reset(gatherFor)
			select {
			case <-gather.C:
			case <-j.urgent:
			case <-j.quit:
				j.flush(true)
				return
			}
			j.flush(false)
		case <-j.urgent:
			j.flush(false)
		case <-tick.C:
			j.flush(true)
		case <-j.quit:
			j.flush(true)
			return
		}
	}
}

func (j *Journal) flush(syncAnyway bool) {
	j.mu.Lock()
	if j.err != nil {
		j.mu.Unlock()
		return
	}
	buf, seq := j.pending, j.seq
	j.pending = j.spare[:0]
	doSync := j.wantSync > j.synced || (syncAnyway && seq > j.synced)
	j.mu.Unlock()

	var err error
	if len(buf) > 0 {
		_, err = j.f.Write(buf)
	}
	if err == nil && doSync {
		err = j.f.Sync()
	}

	j.mu.Lock()
	if cap(buf) <= 1<<20 {
		j.spare = buf[:0]
	}
	if err != nil {
		j.err = fmt.Errorf("write the state %s: %w", j.path, err)
	} else {
		j.written = seq
		if doSync {
			j.synced = seq
		}
	}
	j.cond.Broadcast()
	j.mu.Unlock()
}

// Close writes and syncs what is queued, then closes the file and
// releases the lock. It returns the first failure to write, if any.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.quit)
	<-j.stopped
	j.mu.Lock()
	err := j.err
	j.mu.Unlock()
	if cerr := j.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close the state: %w", cerr)
	}
	j.lock.release()
	return err
}

// syncDir makes a new file's name durable. Failure only weakens
// durability after a power loss, so it is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
