package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// This file runs upload steps. A photo upload instance is, on the wire,
// photosV2.getUploadUrl, one multipart post of its files, and, for an
// album, photosV2.commit. Only the commit puts photos anywhere a person
// sees them: an uploaded photo that is never committed nor attached to a
// topic is not shown. So the journal keeps, per instance:
//
//   - ID#upload, a done record with the photo ids and upload tokens (not
//     secrets: they only name photos the session's user uploaded), durable
//     once the files are up. A resumed run reuses them and never uploads
//     the same files again; a run that died before the record uploads
//     them again, which shows nothing twice;
//   - ID itself, as for a call: a write with a start record before the
//     commit and a done one after (a topic's photos need no commit: their
//     done record follows the upload's). A commit that was sent and not
//     answered is "outcome unknown", reported and not sent again unless
//     -retry-unknown, which commits the same photo ids again.
//
// Files are checked before any traffic: below the workflow's folder (an
// os.Root: no "..", no symbolic link out), regular, not empty, within
// ok.ru's size limit, and an image by their first bytes.

// PhotoUploader is what an upload step needs of a session's client besides
// calls; *okru.API has it.
type PhotoUploader interface {
	UploadPhotos(ctx context.Context, req okru.UploadPhotosRequest) ([]okru.PhotoToken, error)
	CommitPhotos(ctx context.Context, photos []okru.PhotoToken) ([]okru.CommittedPhoto, error)
}

var _ PhotoUploader = (*okru.API)(nil)

// uploadPhase is the suffix of the record that keeps an instance's tokens.
const uploadPhase = "#upload"

// evalUploadArgs evaluates what an upload instance does into one object,
// its arguments: plans show it and the journal hashes it.
func evalUploadArgs(inst *instance) (cty.Value, hcl.Diagnostics) {
	u := inst.node.step.Upload
	attrs := map[string]cty.Value{}
	var diags hcl.Diagnostics
	for _, name := range u.ArgNames() {
		e := u.Args[name]
		if e == nil {
			continue
		}
		v, d := e.Value(inst.evalCtx())
		diags = append(diags, d...)
		attrs[name] = v
	}
	if diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return cty.ObjectVal(attrs), diags
}

// photoSpec is a photo upload instance's arguments, checked.
type photoSpec struct {
	files    []string
	albumID  string
	groupID  string
	captions map[string]string
}

// uploadArgError is the diagnostic of an upload argument that has the
// wrong shape.
func uploadArgError(inst *instance, name, format string, args ...any) hcl.Diagnostics {
	u := inst.node.step.Upload
	rng := inst.node.rng
	if e := u.Args[name]; e != nil {
		rng = e.Range()
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + name,
		Detail:  InstanceName(inst.node.addr, inst.key) + ": " + fmt.Sprintf(format, args...) + ".",
		Subject: rng.Ptr()}}
}

// idString reads an id argument: a string or a whole number.
func idString(v cty.Value) (string, bool) {
	if v == cty.NilVal || v.IsNull() {
		return "", true
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), true
	case cty.Number:
		return lang.NumberText(v.AsBigFloat()), v.AsBigFloat().IsInt()
	}
	return "", false
}

// argError is an upload argument that has the wrong shape.
type argError struct {
	name, msg string
}

func (e *argError) Error() string { return e.name + ": " + e.msg }

func argErrorf(name, format string, args ...any) *argError {
	return &argError{name: name, msg: fmt.Sprintf(format, args...)}
}

// diags turns an argError into the diagnostic of an instance.
func (e *argError) diags(inst *instance) hcl.Diagnostics {
	return uploadArgError(inst, e.name, "%s", e.msg)
}

// decodeSpec reads the arguments of an upload instance with from (the
// spec of a photo or a video upload); a bad one is the instance's
// diagnostic.
func decodeSpec[T any](inst *instance, args cty.Value, from func(cty.Value) (*T, *argError)) (*T, hcl.Diagnostics) {
	spec, err := from(args)
	if err != nil {
		return nil, err.diags(inst)
	}
	return spec, nil
}

// argTable returns the arguments of an upload, an object or a map by
// name, unmarked; first and want say which argument is missing and what a
// table must hold.
func argTable(args cty.Value, first, want string) (map[string]cty.Value, *argError) {
	args, _ = args.UnmarkDeep()
	if args.IsNull() || !args.Type().IsObjectType() && !args.Type().IsMapType() {
		return nil, argErrorf(first, "want a table of %s", want)
	}
	return args.AsValueMap(), nil
}

// photoSpecFrom reads the arguments of a photo upload, an object.
func photoSpecFrom(args cty.Value) (*photoSpec, *argError) {
	m, err := argTable(args, "files", "files, album_id, group_id and captions")
	if err != nil {
		return nil, err
	}
	spec := &photoSpec{captions: map[string]string{}}
	files := m["files"]
	if files.IsNull() || !(files.Type().IsListType() || files.Type().IsTupleType() || files.Type().IsSetType()) {
		return nil, argErrorf("files", "want a list of file paths below the workflow's folder, such as fileset(\".\", \"photos/*.jpg\")")
	}
	for it := files.ElementIterator(); it.Next(); {
		_, f := it.Element()
		if f.IsNull() || f.Type() != cty.String || f.AsString() == "" {
			return nil, argErrorf("files", "every file must be a non-empty path string")
		}
		if slices.Contains(spec.files, f.AsString()) {
			return nil, argErrorf("files", "%q is listed twice", f.AsString())
		}
		spec.files = append(spec.files, f.AsString())
	}
	if n := len(spec.files); n == 0 || n > okru.MaxUploadPhotos {
		return nil, argErrorf("files", "an upload takes 1 to %d photos (one upload URL), got %d; upload more with for_each, e.g. for_each = chunklist(FILES, %d)", okru.MaxUploadPhotos, n, okru.MaxUploadPhotos)
	}
	var ok bool
	if spec.albumID, ok = idString(m["album_id"]); !ok {
		return nil, argErrorf("album_id", "want an album id, a string")
	}
	if spec.groupID, ok = idString(m["group_id"]); !ok {
		return nil, argErrorf("group_id", "want a group id, a string")
	}
	if c, has := m["captions"]; has && !c.IsNull() {
		if !c.Type().IsMapType() && !c.Type().IsObjectType() {
			return nil, argErrorf("captions", "want a map of file path to caption")
		}
		for k, v := range c.AsValueMap() {
			if !slices.Contains(spec.files, k) {
				return nil, argErrorf("captions", "%q is not one of the files", k)
			}
			if v.IsNull() || v.Type() != cty.String {
				return nil, argErrorf("captions", "the caption of %q is not a string", k)
			}
			spec.captions[k] = v.AsString()
		}
	}
	return spec, nil
}

// photoTypes are the image types ok.ru takes for photos.
var photoTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp"}

// FileError is a file of an upload that cannot be sent: it names the file
// as the workflow wrote it, and says why.
type FileError struct {
	File   string
	Reason string
}

func (e *FileError) Error() string { return e.File + ": " + e.Reason }

// openRoot opens the folder upload files are read from: the workflow's.
func (w *Workflow) openRoot() (*os.Root, error) {
	dir := w.cfg.Dir
	if dir == "" {
		dir = "."
	}
	return os.OpenRoot(dir)
}

// checkFile checks one file before anything is sent: confined to root,
// regular, not empty, at most limit bytes and, when types is set, of one
// of those types by its first bytes (a type ending in "/" is a prefix). It returns the file's size.
func checkFile(root *os.Root, name string, limit int64, types []string) (int64, error) {
	fail := func(format string, args ...any) (int64, error) {
		return 0, &FileError{File: name, Reason: fmt.Sprintf(format, args...)}
	}
	if filepath.IsAbs(name) {
		return fail("the path is absolute; upload paths are relative to the workflow's folder")
	}
	clean := path.Clean(filepath.ToSlash(name))
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return fail("the path leaves the workflow's folder")
	}
	st, err := root.Stat(filepath.FromSlash(clean))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fail("no such file")
	case err != nil && strings.Contains(err.Error(), "escapes"):
		return fail("the path leads out of the workflow's folder (through a symbolic link or ..)")
	case err != nil:
		return fail("%s", pathError(err))
	case st.IsDir():
		return fail("it is a folder, not a file")
	case !st.Mode().IsRegular():
		return fail("it is not a regular file")
	case st.Size() == 0:
		return fail("the file is empty")
	case st.Size() > limit:
		return fail("the file has %d bytes, more than ok.ru's limit of %d", st.Size(), limit)
	}
	if len(types) == 0 {
		return st.Size(), nil
	}
	f, err := root.Open(filepath.FromSlash(clean))
	if err != nil {
		return fail("%s", pathError(err))
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fail("%s", pathError(err))
	}
	ct := http.DetectContentType(head[:n])
	if ct = strings.SplitN(ct, ";", 2)[0]; !slices.ContainsFunc(types, func(t string) bool {
		return t == ct || strings.HasSuffix(t, "/") && strings.HasPrefix(ct, t)
	}) {
		if slices.Contains(types, "video/") {
			return fail("it is not a video (its content is %s); ok.ru takes video files such as MP4, WebM or AVI", ct)
		}
		return fail("it is not a photo (its content is %s); ok.ru takes JPEG, PNG, GIF, WebP and BMP images", ct)
	}
	return st.Size(), nil
}

// pathError is an error of the os package without the operation and the
// path, which the message gives already.
func pathError(err error) string {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// uploadedPhoto is one photo of a photo upload's result.
type uploadedPhoto struct {
	File            string `json:"file"`
	PhotoID         string `json:"photo_id"`
	Token           string `json:"token"`
	Caption         string `json:"caption,omitempty"`
	AssignedPhotoID string `json:"assigned_photo_id,omitempty"`
}

// photoUploadResult is upload.NAME.result of a photo upload.
type photoUploadResult struct {
	AlbumID string          `json:"album_id,omitempty"`
	GroupID string          `json:"group_id,omitempty"`
	Photos  []uploadedPhoto `json:"photos"`
}

// executeUpload runs one upload instance on a worker.
func (r *runner) executeUpload(ctx context.Context, inst *instance) result {
	n := inst.node
	st := n.step
	res := result{inst: inst}
	args, diags := evalUploadArgs(inst)
	if diags.HasErrors() {
		res.diags = diags
		return res
	}
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
	}
	begin := time.Now()
	if st.Upload.Video {
		res = r.executeVideoUpload(ctx, inst, args)
	} else {
		res = r.executePhotoUpload(ctx, inst, args)
	}
	res.took = time.Since(begin)
	return res
}

// fileFailure is the result of an instance whose files failed their check.
func fileFailure(inst *instance, name string, err error) result {
	rng := inst.node.rng
	if e := inst.node.step.Upload.Args[name]; e != nil {
		rng = e.Range()
	}
	return result{inst: inst, diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot upload the file",
		Detail: fmt.Sprintf("%s: %s. Nothing was uploaded. Upload paths are relative to the workflow's folder and may not leave it.",
			InstanceName(inst.node.addr, inst.key), err), Subject: rng.Ptr()}}}
}

func (r *runner) executePhotoUpload(ctx context.Context, inst *instance, args cty.Value) result {
	n := inst.node
	res := result{inst: inst}
	spec, diags := decodeSpec(inst, args, photoSpecFrom)
	if diags.HasErrors() {
		res.diags = diags
		return res
	}
	root, err := r.w.openRoot()
	if err != nil {
		return fileFailure(inst, "files", fmt.Errorf("open the workflow's folder: %w", err))
	}
	defer root.Close()
	files := make([]okru.UploadFile, len(spec.files))
	var total int64
	for i, name := range spec.files {
		size, err := checkFile(root, name, okru.MaxPhotoSize, photoTypes)
		if err != nil {
			return fileFailure(inst, "files", err)
		}
		total += size
		rel := filepath.FromSlash(path.Clean(filepath.ToSlash(name)))
		files[i] = okru.UploadFile{Name: filepath.Base(rel), Open: func() (io.ReadCloser, error) { return root.Open(rel) }}
	}
	up, ok := r.callers[n.sess].(PhotoUploader)
	if !ok {
		res.err = errors.New("this session's client cannot upload")
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot upload", Detail: res.err.Error() + ".", Subject: n.rng.Ptr()}}
		return res
	}
	id := InstanceName(n.addr, inst.key)
	hash := argsHash(args)
	res.called = true
	r.obs.Observe(Event{Type: EventStarted, Step: n.addr, Key: inst.key, Method: lang.UploadPhotosMethod})
	tokens, reused := r.journal.uploaded(id, hash)
	if !reused {
		tokens, err = up.UploadPhotos(ctx, okru.UploadPhotosRequest{AlbumID: spec.albumID, GroupID: spec.groupID, Files: files,
			Progress: r.uploads.track(n.addr, total)})
		if err != nil {
			return r.uploadFailed(inst, res, spec.files, err)
		}
		r.journal.recordUploaded(id, hash, tokens)
	}
	out := photoUploadResult{AlbumID: spec.albumID, GroupID: spec.groupID, Photos: make([]uploadedPhoto, len(tokens))}
	for i, t := range tokens {
		out.Photos[i] = uploadedPhoto{File: spec.files[i], PhotoID: t.PhotoID, Token: t.Token, Caption: spec.captions[spec.files[i]]}
	}
	if spec.albumID == "" {
		// Photos for a topic: the topic's post is their commit.
		raw, _ := json.Marshal(out)
		res.value, err = lang.ValueFromJSON(raw)
		if err == nil && r.journal != nil {
			r.journal.recordDone(id, lang.UploadPhotosMethod, true, hash, raw)
		}
		res.err = err
		return res
	}
	jc, err := r.journal.begin(inst, lang.UploadPhotosMethod, args)
	if err != nil {
		res.err = err
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot record the upload", Detail: err.Error() + ".", Subject: n.rng.Ptr()}}
		return res
	}
	commit := make([]okru.PhotoToken, len(tokens))
	for i, t := range tokens {
		commit[i] = okru.PhotoToken{PhotoID: t.PhotoID, Token: t.Token, Comment: spec.captions[spec.files[i]]}
	}
	var raw []byte
	committed, err := up.CommitPhotos(ctx, commit)
	if err == nil {
		err = checkCommitted(committed, out.Photos)
	}
	if err == nil {
		raw, _ = json.Marshal(out)
		res.value, err = lang.ValueFromJSON(raw)
	}
	if err != nil {
		res = r.commitFailed(inst, res, err)
	}
	r.journal.end(jc, &res, raw)
	return res
}

// checkCommitted fills the assigned ids and fails unless every photo was
// committed.
func checkCommitted(committed []okru.CommittedPhoto, photos []uploadedPhoto) error {
	byID := map[string]okru.CommittedPhoto{}
	for _, c := range committed {
		byID[c.PhotoID] = c
	}
	for i := range photos {
		c, ok := byID[photos[i].PhotoID]
		if !ok || c.Status != "SUCCESS" {
			return &okru.DecodeError{Method: "photosV2.commit", Status: http.StatusOK,
				Err: fmt.Errorf("photo %s (%s) was not committed: status %q", photos[i].PhotoID, photos[i].File, c.Status)}
		}
		photos[i].AssignedPhotoID = c.AssignedPhotoID
	}
	return nil
}

// uploadFailed is the result of an upload that failed before anything was
// placed: nothing is recorded, a resumed run uploads the files again.
func (r *runner) uploadFailed(inst *instance, res result, files []string, err error) result {
	res.err = r.redact(err)
	shown := files
	if len(shown) > 3 {
		shown = shown[:3]
	}
	what := strings.Join(shown, ", ")
	if len(files) > len(shown) {
		what += fmt.Sprintf(" and %d more", len(files)-len(shown))
	}
	res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Upload failed",
		Detail:  fmt.Sprintf("%s (%s): %s. Nothing was put in an album or a topic.", InstanceName(inst.node.addr, inst.key), what, res.err),
		Subject: inst.node.rng.Ptr()}}
	return res
}

func (r *runner) commitFailed(inst *instance, res result, err error) result {
	res.err = r.redact(err)
	res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Commit failed",
		Detail:  fmt.Sprintf("%s: the photos were uploaded, but putting them into the album failed: %s.", InstanceName(inst.node.addr, inst.key), ErrorText(res.err, "photosV2.commit")),
		Subject: inst.node.rng.Ptr()}}
	return res
}

// uploaded returns the tokens a resumed run recorded for an instance with
// the same arguments.
func (j *journal) uploaded(id, hash string) ([]okru.PhotoToken, bool) {
	if j == nil || !j.resumed {
		return nil, false
	}
	e, ok := j.st.Lookup(id + uploadPhase)
	if !ok || e.Kind != state.KindDone || e.Hash != hash {
		return nil, false
	}
	raw, err := j.st.Result(e)
	if err != nil {
		return nil, false
	}
	var rec struct {
		Photos []okru.PhotoToken `json:"photos"`
	}
	if json.Unmarshal(raw, &rec) != nil || len(rec.Photos) == 0 {
		return nil, false
	}
	return rec.Photos, true
}

// recordUploaded keeps an instance's tokens, durably, before anything is
// done with them.
func (j *journal) recordUploaded(id, hash string, tokens []okru.PhotoToken) {
	if j == nil {
		return
	}
	raw, _ := json.Marshal(map[string]any{"photos": tokens})
	j.record(&state.Record{Kind: state.KindDone, ID: id + uploadPhase, Method: lang.UploadPhotosMethod, Hash: hash, Result: raw}, true)
}

// uploadBytes counts, per upload step, the bytes sent and to send; workers
// add to it, the progress tracker reads it. The map is built once, so
// reading it needs no lock.
type uploadBytes map[lang.Address]*byteCount

type byteCount struct{ sent, total atomic.Int64 }

func newUploadBytes(w *Workflow) uploadBytes {
	var u uploadBytes
	for _, n := range w.nodes {
		if n.step != nil && n.step.Upload != nil {
			if u == nil {
				u = uploadBytes{}
			}
			u[n.addr] = &byteCount{}
		}
	}
	return u
}

func (u uploadBytes) get(a lang.Address) (sent, total int64) {
	if c := u[a]; c != nil {
		return c.sent.Load(), c.total.Load()
	}
	return 0, 0
}

// track adds an instance's total and returns the Progress function of its
// upload, which adds what it sends.
func (u uploadBytes) track(a lang.Address, total int64) func(int64) {
	c := u[a]
	if c == nil {
		return nil
	}
	c.total.Add(total)
	var last int64
	return func(sent int64) {
		// An upload repeated from the start counts again from zero.
		if sent < last {
			c.sent.Add(-min(last, total))
			last = 0
		}
		c.sent.Add(min(sent, total) - min(last, total))
		last = sent
	}
}

// checkUploadFiles checks an upload instance's files while planning, when
// its arguments are known, so that a run with a missing or unfit file
// stops before anything at all is sent; the instance checks them again
// before its own upload.
func (w *Workflow) checkUploadFiles(inst *instance, args cty.Value) hcl.Diagnostics {
	if !args.IsWhollyKnown() {
		return nil
	}
	var files []string
	limit, types, attr := int64(okru.MaxPhotoSize), photoTypes, "files"
	if inst.node.step.Upload.Video {
		spec, aerr := videoSpecFrom(args)
		if aerr != nil {
			return aerr.diags(inst)
		}
		files, limit, types, attr = []string{spec.file}, okru.MaxVideoSize, []string{"video/"}, "video"
	} else {
		spec, aerr := photoSpecFrom(args)
		if aerr != nil {
			return aerr.diags(inst)
		}
		files = spec.files
	}
	root, err := w.openRoot()
	if err != nil {
		return fileFailure(inst, attr, fmt.Errorf("open the workflow's folder: %w", err)).diags
	}
	defer root.Close()
	for _, f := range files {
		if _, err := checkFile(root, f, limit, types); err != nil {
			return fileFailure(inst, attr, err).diags
		}
	}
	return nil
}
