package engine

import (
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
// and video.update. It is journaled as photos are: ID#upload keeps the
// video id once the file is up, so a resumed run never sends the file
// again, and ID is a write around video.update (which sets the same values
// when repeated with -retry-unknown).

// VideoUploader is what a video upload step needs of a session's client
// besides calls; *okru.API has it.
type VideoUploader interface {
	UploadVideo(ctx context.Context, req okru.UploadVideoRequest) (string, error)
	UpdateVideo(ctx context.Context, u okru.VideoUpdate) error
}

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

	videoID, reused := r.journal.uploadedVideo(id, hash)
	if !reused {
		videoID, err = up.UploadVideo(ctx, okru.UploadVideoRequest{
			File:     okru.UploadFile{Name: filepath.Base(rel), Open: func() (io.ReadCloser, error) { return root.Open(rel) }},
			Size:     size,
			GroupID:  spec.groupID,
			Progress: r.uploads.track(n.addr, size),
		})
		if err != nil {
			return r.uploadFailed(inst, res, []string{spec.file}, err)
		}
		if r.journal != nil {
			raw, _ := json.Marshal(map[string]string{"video_id": videoID})
			r.journal.record(&state.Record{Kind: state.KindDone, ID: id + uploadPhase, Method: lang.UploadVideoMethod, Hash: hash, Result: raw}, true)
		}
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

// uploadedVideo returns the video id a resumed run recorded for an
// instance with the same arguments.
func (j *journal) uploadedVideo(id, hash string) (string, bool) {
	if j == nil || !j.resumed {
		return "", false
	}
	e, ok := j.st.Lookup(id + uploadPhase)
	if !ok || e.Kind != state.KindDone || e.Hash != hash {
		return "", false
	}
	raw, err := j.st.Result(e)
	if err != nil {
		return "", false
	}
	var rec struct {
		VideoID string `json:"video_id"`
	}
	if json.Unmarshal(raw, &rec) != nil || rec.VideoID == "" {
		return "", false
	}
	return rec.VideoID, true
}
