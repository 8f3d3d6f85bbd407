package okru

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Video uploads: video.getUploadUrl reserves a video id for a file of a
// given size and answers an upload URL; the file goes to that URL in
// parts, each a POST of raw bytes with "Content-Range: bytes FIRST-LAST/SIZE";
// video.update then gives the video its title, description, tags and
// privacy. A part cut halfway is resumed: the client asks the upload URL
// how many bytes arrived ("Content-Range: bytes */SIZE", empty body) and
// sends the rest, so a large file is not sent again from the start. The
// same question resumes an upload a crashed process left: keep the
// VideoTarget that UploadVideoRequest.Reserved is given, and call
// ResumeVideo with it.

// DefaultVideoPartSize is how many bytes of a video one request carries
// unless UploadVideoRequest says.
const DefaultVideoPartSize = 16 << 20

// MaxVideoSize is the largest video file okru-run sends, in bytes. ok.ru
// does not publish its limit; this is the sandbox's.
const MaxVideoSize = 4 << 30

// maxPartAttempts bounds the tries of one part: each try after the first
// resumes where the upload URL says the bytes stop.
const maxPartAttempts = 4

// UploadVideoRequest is a video to upload.
type UploadVideoRequest struct {
	// File is the video: a Path or an Open (so that a part can be read
	// again), or a Reader (then a cut part cannot be resumed).
	File UploadFile
	// Size is the file's size in bytes; read from File.Path when 0.
	Size    int64
	GroupID string // a group's video; "" for the user's
	// PartSize is how many bytes one request carries; 0 means
	// DefaultVideoPartSize.
	PartSize int64
	// Progress, when set, is told the bytes the upload URL has received.
	Progress func(received int64)
	// Reserved, when set, is given the video's target as soon as
	// video.getUploadUrl answers, before any byte is sent, so that the
	// caller can keep it (durably) and resume the upload after a crash
	// with ResumeVideo. An error stops the upload before it sends.
	Reserved func(VideoTarget) error
}

// VideoTarget is where a video's bytes go: the id video.getUploadUrl
// reserved and the upload URL that takes the file. The upload URL lets
// whoever holds it send bytes into that one video and nothing else: it is
// not a credential of the session, but keep it out of logs.
type VideoTarget struct {
	VideoID   string `json:"video_id"`
	UploadURL string `json:"upload_url"`
	Size      int64  `json:"size"` // the file's size, as video.getUploadUrl was told
}

// ErrUploadGone is wrapped by the error of ResumeVideo when the upload URL
// refuses to say how much of the video it holds: it expired or no longer
// knows the video. The upload cannot go on there; whether the video was
// complete is unknown.
var ErrUploadGone = errors.New("the upload URL no longer takes the video")

// UploadVideo reserves a video id (video.getUploadUrl) and sends the file
// to the upload URL in parts, streamed from the file, resuming a part cut
// halfway. It returns the video id; call UpdateVideo to give the video a
// title. The upload URL is treated as a secret and never appears in errors.
func (a *API) UploadVideo(ctx context.Context, req UploadVideoRequest) (string, error) {
	const method = "video.getUploadUrl"
	name := videoName(req.File)
	size, err := videoSize(req)
	if err != nil {
		return "", err
	}
	params := Params{"file_name": name, "file_size": size}
	if req.GroupID != "" {
		params["gid"] = req.GroupID
	}
	var target struct {
		UploadURL string `json:"upload_url"`
		VideoID   any    `json:"video_id"`
	}
	if err := a.CallInto(ctx, method, params, &target); err != nil {
		return "", fmt.Errorf("upload video: %w", err)
	}
	id := idText(target.VideoID)
	if target.UploadURL == "" || id == "" {
		return "", &DecodeError{Method: method, Status: http.StatusOK, Err: errors.New("want an upload_url and a video_id")}
	}
	if req.Reserved != nil {
		if err := req.Reserved(VideoTarget{VideoID: id, UploadURL: target.UploadURL, Size: size}); err != nil {
			return "", fmt.Errorf("upload video %s: nothing was sent: %w", name, err)
		}
	}
	if err := a.sendVideo(ctx, target.UploadURL, req.File, size, 0, req); err != nil {
		return "", fmt.Errorf("upload video %s: %w", name, err)
	}
	return id, nil
}

// ResumeVideo goes on with an upload that UploadVideo started, maybe in
// another process: it asks the upload URL how many bytes of t it holds
// and sends the rest of req.File from there (nothing when it is whole).
// req.Size, when set, must be t.Size: a file whose size changed is not the
// one being uploaded. An upload URL that refuses to answer (expired, or
// the video unknown) gives an error wrapping ErrUploadGone.
func (a *API) ResumeVideo(ctx context.Context, t VideoTarget, req UploadVideoRequest) error {
	name := videoName(req.File)
	if t.VideoID == "" || t.UploadURL == "" || t.Size <= 0 {
		return fmt.Errorf("resume video %s: the target needs a video id, an upload URL and a size", name)
	}
	if req.Size > 0 && req.Size != t.Size {
		return fmt.Errorf("resume video %s: the file has %d bytes, the upload was started for %d", name, req.Size, t.Size)
	}
	secrets := append(a.s.secrets(), t.UploadURL)
	var received int64
	var err error
	for try := 1; try <= maxPartAttempts; try++ {
		received, err = a.postVideoPart(ctx, t.UploadURL, http.NoBody, 0, fmt.Sprintf("bytes */%d", t.Size), secrets)
		if err == nil || !resumableError(err) || ctx.Err() != nil {
			break
		}
	}
	switch {
	case err != nil && uploadRefused(err):
		return fmt.Errorf("resume video %s (%s): %w: %w", name, t.VideoID, ErrUploadGone, err)
	case err != nil:
		return fmt.Errorf("resume video %s (%s): %w", name, t.VideoID, err)
	case received < 0 || received > t.Size:
		return &DecodeError{Method: uploadOp, Status: http.StatusOK,
			Err: fmt.Errorf("the upload URL holds %d bytes of a %d-byte video", received, t.Size)}
	}
	if req.Progress != nil {
		req.Progress(received)
	}
	if received == t.Size {
		return nil
	}
	if err := a.sendVideo(ctx, t.UploadURL, req.File, t.Size, received, req); err != nil {
		return fmt.Errorf("resume video %s (%s): %w", name, t.VideoID, err)
	}
	return nil
}

// uploadRefused reports an answer of the upload URL that refuses it, not a
// failure on the way: an API error, or a page with a 4xx status.
func uploadRefused(err error) bool {
	if _, ok := errors.AsType[*Error](err); ok {
		return true
	}
	de, ok := errors.AsType[*DecodeError](err)
	return ok && de.Status >= 400 && de.Status < 500
}

// videoName is the file name video.getUploadUrl is told.
func videoName(f UploadFile) string {
	if f.Name != "" {
		return f.Name
	}
	return filepath.Base(f.Path)
}

// videoSize is the size of the request's file: Size, or the file's.
func videoSize(req UploadVideoRequest) (int64, error) {
	size := req.Size
	if size <= 0 && req.File.Path != "" {
		st, err := os.Stat(req.File.Path)
		if err != nil {
			return 0, fmt.Errorf("upload video: %w", err)
		}
		size = st.Size()
	}
	if size <= 0 {
		return 0, errors.New("upload video: the file is empty or its Size is not given")
	}
	return size, nil
}

// idText reads an id that may come as a string or a number.
func idText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// sendVideo sends the parts in order, from the byte at offset.
func (a *API) sendVideo(ctx context.Context, uploadURL string, f UploadFile, size, offset int64, req UploadVideoRequest) error {
	var src io.Reader
	switch {
	case f.Reader != nil:
		src = f.Reader
		if c, ok := f.Reader.(io.Closer); ok {
			defer c.Close()
		}
	case f.Open != nil:
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		src = rc
	default:
		file, err := os.Open(f.Path)
		if err != nil {
			return err
		}
		defer file.Close()
		src = file
	}
	at, resumable := src.(io.ReaderAt)
	if !resumable && offset > 0 {
		// A reader is read from its start: skip what arrived.
		if _, err := io.CopyN(io.Discard, src, offset); err != nil {
			return err
		}
	}
	part := req.PartSize
	if part <= 0 {
		part = DefaultVideoPartSize
	}
	secrets := append(a.s.secrets(), uploadURL)
	for offset < size {
		n := min(part, size-offset)
		var body io.Reader = io.LimitReader(src, n)
		if resumable {
			body = io.NewSectionReader(at, offset, n)
		}
		rng := fmt.Sprintf("bytes %d-%d/%d", offset, offset+n-1, size)
		received, err := a.postVideoPart(ctx, uploadURL, body, n, rng, secrets)
		for try := 1; err != nil && resumable && try < maxPartAttempts && ctx.Err() == nil && resumableError(err); try++ {
			// Ask where the bytes stop, and go on from there.
			received, err = a.postVideoPart(ctx, uploadURL, http.NoBody, 0, fmt.Sprintf("bytes */%d", size), secrets)
			if err != nil || received < offset || received > size {
				continue
			}
			offset = received
			if offset == size {
				break
			}
			n = min(part, size-offset)
			rng = fmt.Sprintf("bytes %d-%d/%d", offset, offset+n-1, size)
			received, err = a.postVideoPart(ctx, uploadURL, io.NewSectionReader(at, offset, n), n, rng, secrets)
		}
		if err != nil {
			return err
		}
		if received <= offset && offset < size {
			return &DecodeError{Method: uploadOp, Status: http.StatusOK, Err: fmt.Errorf("the upload URL received no bytes of %s", rng)}
		}
		offset = received
		if req.Progress != nil {
			req.Progress(offset)
		}
	}
	return nil
}

// resumableError reports failures after which asking the upload URL how
// far it got makes sense: the connection, not the server's refusal.
func resumableError(err error) bool {
	_, transport := errors.AsType[*TransportError](err)
	return transport
}

type partAnswer struct {
	Received int64 `json:"received"`
}

// postVideoPart posts one part (or, with n == 0, asks what arrived) and
// returns how many bytes the upload URL holds.
func (a *API) postVideoPart(ctx context.Context, uploadURL string, body io.Reader, n int64, contentRange string, secrets []string) (int64, error) {
	const op = uploadOp
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uploadURL, body)
	if err != nil {
		return 0, &TransportError{Method: op, Err: errors.New(Redact(err.Error(), secrets...))}
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", contentRange)
	resp, err := a.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = &url.Error{Op: ue.Op, URL: Redact(ue.URL, secrets...), Err: ue.Err}
		}
		return 0, a.transportError(op, err, nil)
	}
	if re := unfollowedRedirect(resp); re != nil {
		resp.Body.Close()
		return 0, &TransportError{Method: op, Sent: true, Err: re}
	}
	raw, err := readBody(op, resp)
	if de, ok := errors.AsType[*DecodeError](err); ok {
		return 0, de
	}
	if err != nil {
		return 0, &TransportError{Method: op, Sent: true, Err: err}
	}
	if err := a.apiError(op, resp, raw, nil, secrets...); err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			e.DidYouMean = nil
		}
		return 0, err
	}
	var ans partAnswer
	ok := (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable) &&
		isJSONType(resp.Header.Get("Content-Type")) && json.Unmarshal(raw, &ans) == nil
	if !ok {
		return 0, &DecodeError{Method: op, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Excerpt: excerpt(Redact(string(raw), secrets...))}
	}
	return ans.Received, nil
}

// VideoUpdate is what UpdateVideo sets; empty fields are not sent.
type VideoUpdate struct {
	VideoID     string
	Title       string
	Description string
	Tags        []string
	Privacy     string // e.g. "PUBLIC", "FRIENDS"
}

// UpdateVideo gives an uploaded video its title, description, tags and
// privacy (video.update). Repeating it sets the same values again.
func (a *API) UpdateVideo(ctx context.Context, u VideoUpdate) error {
	p := Params{"vid": u.VideoID}
	for k, v := range map[string]string{"title": u.Title, "description": u.Description, "privacy": u.Privacy,
		"tags": strings.Join(u.Tags, ",")} {
		if v != "" {
			p[k] = v
		}
	}
	_, err := a.Call(ctx, "video.update", p)
	return err
}
