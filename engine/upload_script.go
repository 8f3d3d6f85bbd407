package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"

	"github.com/okru-run/okru-run/lang"
	"github.com/okru-run/okru-run/okru"
)

// Scripts upload with okru.upload_photos{...} and okru.upload_video{...},
// which reach the engine as calls of the methods lang.UploadPhotosMethod
// and lang.UploadVideoMethod. Such a call is journaled as a script's write
// (a start record before anything is sent, a done record with the result,
// the tokens or the video id, after), so a resumed run answers a finished
// upload from the journal and reports an unfinished one "outcome unknown",
// as for okru.call. The files are checked, confined and streamed as for
// upload blocks. A video's target and its whole file are recorded as for
// upload blocks, under the call's id (script.x#3#video, #3#upload), so a
// resumed run goes on with a file the recorded run was sending rather than
// report the call "outcome unknown": only video.update, once the file was
// whole, can have taken effect unseen.

// isUploadMethod reports the methods that are uploads, not API calls.
func isUploadMethod(method string) bool {
	return method == lang.UploadPhotosMethod || method == lang.UploadVideoMethod
}

// scriptUpload runs one upload of a script, journaled as c (nil without
// state), and returns its result as JSON.
func (r *runner) scriptUpload(ctx context.Context, client Caller, c *scriptCall, method string, params map[string]any) (json.RawMessage, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	args, err := lang.ValueFromJSON(raw)
	if err != nil {
		return nil, err
	}
	root, err := r.w.openRoot()
	if err != nil {
		return nil, fmt.Errorf("open the folder files are read from: %w", err)
	}
	defer root.Close()
	opener := func(name string) func() (io.ReadCloser, error) {
		rel := filepath.FromSlash(path.Clean(filepath.ToSlash(name)))
		return func() (io.ReadCloser, error) { return root.Open(rel) }
	}
	if method == lang.UploadVideoMethod {
		spec, aerr := videoSpecFrom(args)
		if aerr != nil {
			return nil, aerr
		}
		size, err := checkFile(root, spec.file, okru.MaxVideoSize, []string{"video/"})
		if err != nil {
			return nil, fmt.Errorf("%w; nothing was uploaded", err)
		}
		up, ok := client.(VideoUploader)
		if !ok {
			return nil, errors.New("this session's client cannot upload")
		}
		var callID, hash string
		if c != nil {
			callID, hash = c.id, c.hash
		}
		id, err := r.sendVideoFile(ctx, up, callID, hash, okru.UploadVideoRequest{File: okru.UploadFile{Name: path.Base(spec.file), Open: opener(spec.file)},
			Size: size, GroupID: spec.groupID})
		if gone, ok := errors.AsType[*videoGoneError](err); ok {
			gone.file = spec.file
			return nil, &okru.Error{Method: method, Code: CodeOutcomeUnknown, Msg: "outcome unknown: " + gone.Error()}
		}
		if err != nil {
			return nil, err
		}
		spec.update.VideoID = id
		if err := up.UpdateVideo(ctx, spec.update); err != nil {
			return nil, fmt.Errorf("the video %s (%s) was uploaded, but %w", id, spec.file, err)
		}
		u := spec.update
		return json.Marshal(videoUploadResult{VideoID: id, File: spec.file, GroupID: spec.groupID,
			Title: u.Title, Description: u.Description, Tags: u.Tags, Privacy: u.Privacy})
	}
	spec, aerr := photoSpecFrom(args)
	if aerr != nil {
		return nil, aerr
	}
	files := make([]okru.UploadFile, len(spec.files))
	for i, name := range spec.files {
		if _, err := checkFile(root, name, okru.MaxPhotoSize, photoTypes); err != nil {
			return nil, fmt.Errorf("%w; nothing was uploaded", err)
		}
		files[i] = okru.UploadFile{Name: path.Base(name), Open: opener(name)}
	}
	up, ok := client.(PhotoUploader)
	if !ok {
		return nil, errors.New("this session's client cannot upload")
	}
	tokens, err := up.UploadPhotos(ctx, okru.UploadPhotosRequest{AlbumID: spec.albumID, GroupID: spec.groupID, Files: files})
	if err != nil {
		return nil, err
	}
	out := photoUploadResult{AlbumID: spec.albumID, GroupID: spec.groupID, Photos: make([]uploadedPhoto, len(tokens))}
	commit := make([]okru.PhotoToken, len(tokens))
	for i, t := range tokens {
		f := spec.files[i]
		out.Photos[i] = uploadedPhoto{File: f, PhotoID: t.PhotoID, Token: t.Token, Caption: spec.captions[f]}
		commit[i] = okru.PhotoToken{PhotoID: t.PhotoID, Token: t.Token, Comment: spec.captions[f]}
	}
	if spec.albumID != "" {
		committed, err := up.CommitPhotos(ctx, commit)
		if err == nil {
			err = checkCommitted(committed, out.Photos)
		}
		if err != nil {
			return nil, fmt.Errorf("the photos were uploaded, but putting them into the album failed: %w", err)
		}
	}
	return json.Marshal(out)
}
