package engine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
	"github.com/zclconf/go-cty/cty"
)

// A video upload instance is video.getUploadUrl, the file sent in parts,
// and video.update. The journal keeps, per instance (and per okru.upload_video
// call of a script, under the call's id):
//
//   - ID#video, the video id and upload URL, durable as soon as
//     video.getUploadUrl answers and before any byte is sent. A resumed
//     run asks that upload URL how much of the file it holds and sends the
//     rest: a large file killed halfway is not sent again, nor reserved
//     twice. The upload URL is kept as photo tokens are: it lets bytes into
//     that one reserved video, nothing else, and is not a credential (see
//     docs/threat-model.md); errors and events never show it;
//   - ID#upload, the video id once the file is whole, so a resumed run
//     sends nothing;
//   - ID itself, a write around video.update (which sets the same values
//     when repeated with -retry-unknown).
//
// An upload URL that no longer takes the video (expired, or it forgot
// the video) leaves the recorded upload's outcome unknown: the file may
// have been whole. It is reported as for a write, and -retry-unknown
// uploads the file again as a new video.

// VideoUploader is what a video upload step needs of a session's client
// besides calls; *okru.API has it.
type VideoUploader interface {
	UploadVideo(ctx context.Context, req okru.UploadVideoRequest) (string, error)
	ResumeVideo(ctx context.Context, t okru.VideoTarget, req okru.UploadVideoRequest) error
	UpdateVideo(ctx context.Context, u okru.VideoUpdate) error
}

// videoPhase is the suffix of the record that keeps a video's target.
const videoPhase = "#video"

var _ VideoUploader = (*okru.API)(nil)

// videoSpec is a video upload instance's arguments, checked.
type videoSpec struct {
	file    string
	update  okru.VideoUpdate
	groupID string
}

// videoUploadResult is upload.NAME.result of a video upload.
type videoUploadResult struct {
	VideoID     string   `json:"video_id"`
	File        string   `json:"file"`
	GroupID     string   `json:"group_id,omitempty"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Privacy     string   `json:"privacy,omitempty"`
}

// videoSpecFrom reads the arguments of a video upload, an object.
func videoSpecFrom(args cty.Value) (*videoSpec, *argError) {
	m, err := argTable(args, "video", "video, title, description, tags, privacy and group_id")
	if err != nil {
		return nil, err
	}
	spec := &videoSpec{}
	str := func(name string) (string, *argError) {
		v, ok := m[name]
		if !ok || v.IsNull() {
			return "", nil
		}
		if v.Type() != cty.String {
			return "", argErrorf(name, "want a string")
		}
		return v.AsString(), nil
	}
	var d *argError
	if spec.file, d = str("video"); d != nil || spec.file == "" {
		return nil, argErrorf("video", "want the path of a video file below the workflow's folder")
	}
	var ok bool
	if spec.groupID, ok = idString(m["group_id"]); !ok {
		return nil, argErrorf("group_id", "want a group id, a string")
	}
	u := &spec.update
	for name, field := range map[string]*string{"title": &u.Title, "description": &u.Description, "privacy": &u.Privacy} {
		if *field, d = str(name); d != nil {
			return nil, d
		}
	}
	if tags, has := m["tags"]; has && !tags.IsNull() {
		ty := tags.Type()
		if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
			return nil, argErrorf("tags", "want a list of strings")
		}
		for it := tags.ElementIterator(); it.Next(); {
			_, t := it.Element()
			if t.IsNull() || t.Type() != cty.String {
				return nil, argErrorf("tags", "want a list of strings")
			}
			u.Tags = append(u.Tags, t.AsString())
		}
	}
	return spec, nil
}

func (r *runner) executeVideoUpload(ctx context.Context, inst *instance, args cty.Value) result {
	n := inst.node
	res := result{inst: inst}
	spec, diags := decodeSpec(inst, args, videoSpecFrom)
	if diags.HasErrors() {
		res.diags = diags
		return res
	}
	root, err := r.w.openRoot()
	if err != nil {
		return fileFailure(inst, "video", fmt.Errorf("open the workflow's folder: %w", err))
	}
	defer root.Close()
	size, err := checkFile(root, spec.file, okru.MaxVideoSize, []string{"video/"})
	if err != nil {
		return fileFailure(inst, "video", err)
	}
	rel := filepath.FromSlash(path.Clean(filepath.ToSlash(spec.file)))
	up, ok := r.callers[n.sess].(VideoUploader)
	if !ok {
		res.err = errors.New("this session's client cannot upload")
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot upload", Detail: res.err.Error() + ".", Subject: n.rng.Ptr()}}
		return res
	}
	id := InstanceName(n.addr, inst.key)
	hash := argsHash(args)
	res.called = true
	r.obs.Observe(Event{Type: EventStarted, Step: n.addr, Key: inst.key, Method: lang.UploadVideoMethod})

	videoID, err := r.sendVideoFile(ctx, up, id, hash, okru.UploadVideoRequest{
		File:     okru.UploadFile{Name: filepath.Base(rel), Open: func() (io.ReadCloser, error) { return root.Open(rel) }},
		Size:     size,
		GroupID:  spec.groupID,
		Progress: r.uploads.track(n.addr, size),
	})
	if gone, ok := errors.AsType[*videoGoneError](err); ok {
		gone.file = spec.file
		res.replay, res.reason = replayUnknown, gone.Error()
		return res
	}
	if err != nil {
		return r.uploadFailed(inst, res, []string{spec.file}, err)
	}
	jc, err := r.journal.begin(inst, lang.UploadVideoMethod, args)
	if err != nil {
		res.err = err
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot record the upload", Detail: err.Error() + ".", Subject: n.rng.Ptr()}}
		return res
	}
	spec.update.VideoID = videoID
	var raw []byte
	err = up.UpdateVideo(ctx, spec.update)
	if err == nil {
		u := spec.update
		raw, _ = json.Marshal(videoUploadResult{VideoID: videoID, File: spec.file, GroupID: spec.groupID,
			Title: u.Title, Description: u.Description, Tags: u.Tags, Privacy: u.Privacy})
		res.value, err = lang.ValueFromJSON(raw)
	}
	if err != nil {
		res.err = r.redact(err)
		res.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Video update failed",
			Detail: fmt.Sprintf("%s: the video %s (%s) was uploaded, but video.update failed: %s.",
				id, videoID, spec.file, ErrorText(res.err, "video.update")),
			Subject: n.rng.Ptr()}}
	}
	r.journal.end(jc, &res, raw)
	return res
}

// sendVideoFile gets the file of a video upload (id names an instance or
// a script's call) to ok.ru and returns the video id: the one recorded
// when the recorded run sent the whole file; the recorded target's, the
// rest of the file sent, when it sent part of it; else a new one, its
// target recorded before the first byte. A recorded target whose upload
// URL no longer takes the video is a *videoGoneError, unless
// -retry-unknown asks to upload the file again.
func (r *runner) sendVideoFile(ctx context.Context, up VideoUploader, id, hash string, req okru.UploadVideoRequest) (string, error) {
	j := r.journal
	if videoID, ok := j.uploadedVideo(id, hash); ok {
		if req.Progress != nil {
			req.Progress(req.Size)
		}
		return videoID, nil
	}
	if t, found, kept := j.videoTarget(id, hash); found && (!kept || t.Size == req.Size) {
		err := errUnkeptTarget
		if kept {
			err = up.ResumeVideo(ctx, t, req)
		}
		switch {
		case err == nil:
			j.recordVideoUploaded(id, hash, t.VideoID)
			return t.VideoID, nil
		case (errors.Is(err, okru.ErrUploadGone) || !kept) && !j.retryUnknown:
			return "", &videoGoneError{videoID: t.VideoID, err: err}
		case !errors.Is(err, okru.ErrUploadGone) && kept:
			return "", err // the target stays: a later resume tries again
		}
		// -retry-unknown: upload the file again, as a new video.
	}
	req.Reserved = func(t okru.VideoTarget) error { return j.recordVideoTarget(id, hash, t) }
	videoID, err := up.UploadVideo(ctx, req)
	if err != nil {
		return "", err
	}
	j.recordVideoUploaded(id, hash, videoID)
	return videoID, nil
}

// errUnkeptTarget: the journal holds a video's target without its upload
// URL, which held a secret and was cut out.
var errUnkeptTarget = errors.New("the state could not keep its upload URL, which held a secret")

// videoGoneError is a video the recorded run began uploading whose upload
// URL no longer takes it: whether its file is whole is unknown.
type videoGoneError struct {
	videoID, file string
	err           error
}

func (e *videoGoneError) Error() string {
	what := cmp.Or(e.file, "the file")
	cause := e.err.Error()
	if ae, ok := errors.AsType[*okru.Error](e.err); ok {
		cause = ae.Error() // without the "resume video" the message says
	}
	return fmt.Sprintf("the run being resumed began uploading %s as video %s, whose upload URL no longer takes it (%s), so whether the video is whole is unknown; it was not uploaded again (-retry-unknown uploads it again as a new video)",
		what, e.videoID, cause)
}

func (e *videoGoneError) Unwrap() error { return e.err }

// uploadedVideo returns the video id a resumed run recorded for an
// instance with the same arguments once its file was whole.
func (j *journal) uploadedVideo(id, hash string) (string, bool) {
	var rec struct {
		VideoID string `json:"video_id"`
	}
	if _, ok := j.recorded(id+uploadPhase, hash, &rec); !ok || rec.VideoID == "" {
		return "", false
	}
	return rec.VideoID, true
}

// videoWhole reports whether a resumed run recorded the whole file of an
// upload with the same arguments.
func (j *journal) videoWhole(id, hash string) bool {
	_, ok := j.uploadedVideo(id, hash)
	return ok
}

// videoTarget returns the target a resumed run recorded for an instance
// with the same arguments before sending its file; kept is false when the
// upload URL was cut out of the record as a secret.
func (j *journal) videoTarget(id, hash string) (t okru.VideoTarget, found, kept bool) {
	e, ok := j.recorded(id+videoPhase, hash, &t)
	if !ok || t.VideoID == "" {
		return okru.VideoTarget{}, false, false
	}
	return t, true, !e.Redacted && t.UploadURL != ""
}

// recorded reads the done record id of a resumed run into v, when its
// hash is hash.
func (j *journal) recorded(id, hash string, v any) (state.Entry, bool) {
	if j == nil || !j.resumed {
		return state.Entry{}, false
	}
	e, ok := j.st.Lookup(id)
	if !ok || e.Kind != state.KindDone || e.Hash != hash {
		return state.Entry{}, false
	}
	raw, err := j.st.Result(e)
	if err != nil || json.Unmarshal(raw, v) != nil {
		return state.Entry{}, false
	}
	return e, true
}

// recordVideoTarget keeps a video's target, durably, before its first
// byte is sent; an error stops the upload.
func (j *journal) recordVideoTarget(id, hash string, t okru.VideoTarget) error {
	if j == nil {
		return nil
	}
	raw, _ := json.Marshal(t)
	redacted := false
	if j.mayHoldSecret(raw) {
		clean := j.redactJSON(raw)
		redacted, raw = !bytes.Equal(clean, raw), clean
	}
	err := j.st.AppendDurable(&state.Record{Kind: state.KindDone, ID: id + videoPhase, Method: lang.UploadVideoMethod, Hash: hash,
		Result: raw, Redacted: redacted})
	if err != nil {
		return fmt.Errorf("the video could not be recorded in the state first: %w", err)
	}
	return nil
}

// recordVideoUploaded keeps the video id once the file is whole.
func (j *journal) recordVideoUploaded(id, hash, videoID string) {
	if j == nil {
		return
	}
	raw, _ := json.Marshal(map[string]string{"video_id": videoID})
	j.record(&state.Record{Kind: state.KindDone, ID: id + uploadPhase, Method: lang.UploadVideoMethod, Hash: hash, Result: raw}, true)
}
