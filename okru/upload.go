package okru

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// UploadFile is one photo to upload: a file on disk (Path), a way to open
// one (Open), or any reader (Reader with a Name for the multipart header).
// Files are streamed, never read into memory whole.
type UploadFile struct {
	Name   string    // the file name sent; defaults to the base of Path
	Reader io.Reader // read once; closed if it is an io.Closer
	Path   string    // opened when the upload starts, if Reader and Open are nil
	// Open opens the file for each attempt, so that an upload can be
	// repeated; a caller that confines files (os.Root) opens them here.
	Open func() (io.ReadCloser, error)
}

// UploadPhotosRequest says where photos go: an album (AlbumID), a group
// (GroupID, with or without an album of the group), or else the user's
// personal photos.
type UploadPhotosRequest struct {
	AlbumID string
	GroupID string
	Files   []UploadFile
	// Progress, when set, is told how many bytes of the files have been
	// sent so far (from the start again if the upload is repeated).
	Progress func(sent int64)
}

// PhotoToken is an uploaded photo: its id and the token that commits it
// (CommitPhotos) or attaches it to a topic (PhotoAttachment).
type PhotoToken struct {
	PhotoID string `json:"photo_id"`
	Token   string `json:"token"`
	// Comment is the caption CommitPhotos gives the photo; "" for none.
	Comment string `json:"comment,omitempty"`
}

// maxUploadFiles is the most photos one upload URL takes.
const maxUploadFiles = 40

// uploadOp names the post to the upload URL in errors, as Method does for
// calls.
const uploadOp = "upload URL"

// UploadPhotos uploads photos in one go: it asks photosV2.getUploadUrl for
// an upload URL and photo ids, posts the files to it as multipart fields
// pic1..picN (streamed through a pipe, so memory use does not grow with
// the files), and returns a token per file, in the order of req.Files.
//
// The upload is repeated only when it surely never reached the server and
// every file is a Path (a reader cannot be rewound). The upload URL is
// treated as a secret and never appears in errors.
func (a *API) UploadPhotos(ctx context.Context, req UploadPhotosRequest) ([]PhotoToken, error) {
	const method = "photosV2.getUploadUrl"
	if n := len(req.Files); n == 0 || n > maxUploadFiles {
		return nil, fmt.Errorf("upload photos: give 1 to %d files, got %d", maxUploadFiles, n)
	}
	for i, f := range req.Files {
		if f.Reader != nil || f.Open != nil {
			continue
		}
		if f.Path == "" {
			return nil, fmt.Errorf("upload photos: file %d has neither a Reader nor a Path (nor Open)", i+1)
		}
		// Fail before reserving photo ids, rather than halfway through
		// the upload.
		if st, err := os.Stat(f.Path); err != nil {
			return nil, fmt.Errorf("upload photos: file %d: %w", i+1, err)
		} else if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("upload photos: file %d: %s is not a regular file", i+1, f.Path)
		}
	}
	params := Params{"count": len(req.Files)}
	if req.AlbumID != "" {
		params["aid"] = req.AlbumID
	}
	if req.GroupID != "" {
		params["gid"] = req.GroupID
	}
	var target struct {
		UploadURL string   `json:"upload_url"`
		PhotoIDs  []string `json:"photo_ids"`
	}
	if err := a.CallInto(ctx, method, params, &target); err != nil {
		return nil, fmt.Errorf("upload photos: %w", err)
	}
	if target.UploadURL == "" || len(target.PhotoIDs) != len(req.Files) {
		return nil, &DecodeError{Method: method, Status: http.StatusOK,
			Err: fmt.Errorf("want an upload_url and %d photo_ids, got %d ids", len(req.Files), len(target.PhotoIDs))}
	}
	files := req.Files
	if req.Progress != nil {
		files = countedFiles(files, req.Progress)
	}
	tokens, err := a.postPhotos(ctx, target.UploadURL, target.PhotoIDs, files)
	if err != nil {
		return nil, fmt.Errorf("upload photos: %w", err)
	}
	return tokens, nil
}

// postPhotos posts the files to the upload URL and reads the tokens.
func (a *API) postPhotos(ctx context.Context, uploadURL string, ids []string, files []UploadFile) ([]PhotoToken, error) {
	const op = uploadOp
	cfg := a.config(nil)
	if a.opts.AttemptTimeout <= 0 {
		cfg.attemptTimeout = 0 // an upload takes as long as its files need
	}
	rewindable := true
	for _, f := range files {
		if f.Reader != nil {
			rewindable = false
		}
	}
	if !rewindable {
		cfg.retry.MaxAttempts = 1
	}
	secrets := append(a.s.secrets(), uploadURL)
	raw, err := a.run(ctx, op, &cfg, func(ctx context.Context) (json.RawMessage, uint64, error) {
		res, err := a.postMultipart(ctx, uploadURL, files, secrets)
		return res, 0, err
	})
	if err != nil {
		return nil, err
	}
	var answer struct {
		Photos map[string]struct {
			Token string `json:"token"`
		} `json:"photos"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, &DecodeError{Method: op, Status: http.StatusOK, Err: err}
	}
	out := make([]PhotoToken, len(ids))
	for i, id := range ids {
		p, ok := answer.Photos[id]
		if !ok || p.Token == "" {
			return nil, &DecodeError{Method: op, Status: http.StatusOK,
				Err: fmt.Errorf("the answer has no token for photo %d (id %s)", i+1, id)}
		}
		out[i] = PhotoToken{PhotoID: id, Token: p.Token}
	}
	return out, nil
}

// postMultipart makes one attempt of the upload. A goroutine writes the
// multipart body into a pipe while the transport reads it, so a file is
// read as it is sent.
func (a *API) postMultipart(ctx context.Context, uploadURL string, files []UploadFile, secrets []string) (json.RawMessage, error) {
	const op = uploadOp
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(writeParts(mw, files))
	}()
	// However the request ends, stop the writer and wait for it, so that
	// no goroutine outlives the call and every file is closed.
	defer func() {
		pr.CloseWithError(errors.New("upload ended"))
		<-done
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uploadURL, pr)
	if err != nil {
		return nil, &TransportError{Method: op, Err: errors.New(Redact(err.Error(), secrets...))}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.hc.Do(req)
	if err != nil {
		// The upload URL is a credential: hide it, keeping the cause
		// (a cancelled context, a refused connection) unwrappable.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = &url.Error{Op: ue.Op, URL: Redact(ue.URL, secrets...), Err: ue.Err}
		}
		return nil, a.transportError(op, err, nil)
	}
	if re := unfollowedRedirect(resp); re != nil {
		resp.Body.Close()
		return nil, &TransportError{Method: op, Sent: true, Err: re}
	}
	body, err := readBody(op, resp)
	if de, ok := errors.AsType[*DecodeError](err); ok {
		return nil, de
	}
	if err != nil {
		return nil, &TransportError{Method: op, Sent: true, Err: err}
	}
	if err := a.apiError(op, resp, body, nil, secrets...); err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			e.DidYouMean = nil // op is not a method
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !isJSONType(resp.Header.Get("Content-Type")) || !json.Valid(body) {
		return nil, &DecodeError{Method: op, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Excerpt: excerpt(Redact(string(body), secrets...))}
	}
	return json.RawMessage(body), nil
}

// writeParts writes every file as field picN and closes the multipart
// writer. It closes the files it opened and the readers that are Closers.
func writeParts(mw *multipart.Writer, files []UploadFile) error {
	for i, f := range files {
		if err := writePart(mw, i+1, f); err != nil {
			closeRest(files[i+1:])
			return err
		}
	}
	return mw.Close()
}

func writePart(mw *multipart.Writer, n int, f UploadFile) error {
	r, name := f.Reader, f.Name
	if r == nil && f.Open != nil {
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("photo %d: %w", n, err)
		}
		r = rc
	}
	if r == nil {
		file, err := os.Open(f.Path)
		if err != nil {
			return fmt.Errorf("photo %d: %w", n, err)
		}
		r = file
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	if name == "" {
		name = filepath.Base(f.Path)
	}
	if name == "" || name == "." {
		name = "photo" + strconv.Itoa(n) + ".jpg"
	}
	part, err := mw.CreateFormFile("pic"+strconv.Itoa(n), name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, r); err != nil {
		return fmt.Errorf("photo %d (%s): %w", n, name, err)
	}
	return nil
}

// closeRest closes the readers of files that were not reached.
func closeRest(files []UploadFile) {
	for _, f := range files {
		if c, ok := f.Reader.(io.Closer); ok {
			c.Close()
		}
	}
}

// CommittedPhoto is one photo of CommitPhotos' answer.
type CommittedPhoto struct {
	PhotoID         string `json:"photo_id"`
	AssignedPhotoID string `json:"assigned_photo_id"`
	Status          string `json:"status"` // "SUCCESS" when committed
}

// CommitPhotos puts uploaded photos into the album they were uploaded for
// (photosV2.commit with the photos parameter). Photos that go only into a
// topic need no commit.
func (a *API) CommitPhotos(ctx context.Context, photos []PhotoToken) ([]CommittedPhoto, error) {
	if len(photos) == 0 {
		return nil, errors.New("call photosV2.commit: no photos to commit")
	}
	var out struct {
		Photos []CommittedPhoto `json:"photos"`
	}
	if err := a.CallInto(ctx, "photosV2.commit", Params{"photos": photos}, &out); err != nil {
		return nil, err
	}
	return out.Photos, nil
}

// PhotoMedia is a mediatopic.post media item showing uploaded photos:
// {"type": "photo", "list": [{"id": token}, ...]}.
type PhotoMedia struct {
	Type string     `json:"type"`
	List []PhotoRef `json:"list"`
}

// PhotoRef names one photo of a PhotoMedia by its upload token.
type PhotoRef struct {
	ID string `json:"id"`
}

// PhotoAttachment returns the media item that puts uploaded photos into a
// topic. Use it inside the attachment's media list:
//
//	att := map[string]any{"media": []any{
//		map[string]any{"type": "text", "text": "Holidays"},
//		okru.PhotoAttachment(tokens),
//	}}
//	api.Call(ctx, "mediatopic.post", okru.Params{"type": "USER", "attachment": att})
func PhotoAttachment(tokens []PhotoToken) PhotoMedia {
	m := PhotoMedia{Type: "photo", List: make([]PhotoRef, len(tokens))}
	for i, t := range tokens {
		m.List[i] = PhotoRef{ID: t.Token}
	}
	return m
}

// Limits of photo uploads. ok.ru does not publish them; these are the
// sandbox's, and what okru-run checks before sending a file.
const (
	// MaxUploadPhotos is the most photos one upload URL takes.
	MaxUploadPhotos = maxUploadFiles
	// MaxPhotoSize is the largest photo file okru-run sends, in bytes.
	MaxPhotoSize = 10 << 20
)

// countedFiles returns files whose readers tell progress the bytes read
// from all of them so far; each attempt of the upload starts from zero.
// Readers stay readers, so that an upload holding one is not repeated.
func countedFiles(files []UploadFile, progress func(int64)) []UploadFile {
	out := make([]UploadFile, len(files))
	var sent int64 // read by one goroutine at a time: the body's writer
	for i, f := range files {
		c := f
		if f.Reader != nil {
			c.Reader = &countingReader{r: f.Reader, n: &sent, progress: progress}
			out[i] = c
			continue
		}
		if c.Name == "" {
			c.Name = filepath.Base(f.Path)
		}
		c.Path = ""
		first := i == 0
		c.Open = func() (io.ReadCloser, error) {
			if first {
				sent = 0
			}
			var r io.ReadCloser
			var err error
			if f.Open != nil {
				r, err = f.Open()
			} else {
				r, err = os.Open(f.Path)
			}
			if err != nil {
				return nil, err
			}
			return &countingReader{r: r, n: &sent, progress: progress}, nil
		}
		out[i] = c
	}
	return out
}

// countingReader counts the bytes read into *n and tells progress.
type countingReader struct {
	r        io.Reader
	n        *int64
	progress func(int64)
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		*r.n += int64(n)
		r.progress(*r.n)
	}
	return n, err
}

// Close closes the reader if it is a Closer, as writePart would have.
func (r *countingReader) Close() error {
	if c, ok := r.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
