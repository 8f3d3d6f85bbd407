package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// This file holds the upload block: a step that uploads photos (files) or a
// video (video) from the workflow's folder. lang only decodes it; the
// engine checks the files, streams them to ok.ru and journals the upload.

// Upload methods, as events and plans name an upload step's instances.
const (
	UploadPhotosMethod = "upload:photos"
	UploadVideoMethod  = "upload:video"
)

// photoUploadAttrs and videoUploadAttrs are the attributes that say what an
// upload does, in the order plans show them; the engine evaluates them
// into one object, the instance's arguments.
var (
	photoUploadAttrs = []string{"files", "album_id", "group_id", "captions"}
	videoUploadAttrs = []string{"video", "group_id", "title", "description", "tags", "privacy"}
)

var uploadSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "files"}, {Name: "video"}, {Name: "album_id"}, {Name: "group_id"}, {Name: "captions"},
		{Name: "title"}, {Name: "description"}, {Name: "tags"}, {Name: "privacy"},
		{Name: "session"}, {Name: "for_each"}, {Name: "when"}, {Name: "depends_on"}, {Name: "timeout"},
	},
	// No retry block: the client's policy retries what is safe to repeat
	// (a getUploadUrl, a post that surely never left, a cut video part).
	Blocks: conditionBlocks,
}

// Upload is the body of an upload step.
type Upload struct {
	// Video is true for a video upload (the video attribute), false for
	// photos (the files attribute).
	Video bool
	// Args are the attributes that say what to upload and where, by name:
	// files, album_id, group_id, captions for photos; video, group_id,
	// title, description, tags, privacy for a video.
	Args         map[string]hcl.Expression
	Session      string // "" means the only session
	SessionRange hcl.Range
}

// ArgNames lists the argument names of the upload's kind, in order.
func (u *Upload) ArgNames() []string {
	if u.Video {
		return videoUploadAttrs
	}
	return photoUploadAttrs
}

func (c *Config) decodeUpload(b *hcl.Block) hcl.Diagnostics {
	st := &Step{Addr: Address{Kind: KindUpload, Name: b.Labels[0]}, Kind: StepUpload, Upload: &Upload{Args: map[string]hcl.Expression{}}, DeclRange: b.DefRange}
	content, diags := declareBlock(c, &c.Steps, st, st.Addr, b, uploadSchema)
	if content == nil {
		return diags
	}
	u := st.Upload
	files, hasFiles := content.Attributes["files"]
	video, hasVideo := content.Attributes["video"]
	switch {
	case hasFiles && hasVideo:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Both files and video",
			Detail:  fmt.Sprintf("%s sets both files (photos) and video; an upload step uploads one or the other. Use two upload blocks.", st.Addr),
			Subject: video.NameRange.Ptr()})
	case !hasFiles && !hasVideo:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nothing to upload",
			Detail:  fmt.Sprintf("%s needs files = [...] (photos, paths below the workflow's folder, e.g. fileset(\".\", \"photos/*.jpg\")) or video = \"clip.mp4\".", st.Addr),
			Subject: b.DefRange.Ptr()})
	case hasVideo:
		u.Video = true
	}
	_ = files
	allowed := map[string]bool{}
	for _, name := range u.ArgNames() {
		allowed[name] = true
	}
	for _, a := range SortedAttributes(content.Attributes) {
		switch a.Name {
		case "session", "for_each", "when", "depends_on", "timeout":
			continue
		}
		if !allowed[a.Name] {
			kind, other := "a photo upload (files)", "a video upload (video)"
			if u.Video {
				kind, other = other, kind
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument",
				Detail:  fmt.Sprintf("%s is %s, which takes no %s: that is an argument of %s.", st.Addr, kind, a.Name, other),
				Subject: a.NameRange.Ptr()})
			continue
		}
		u.Args[a.Name] = a.Expr
	}
	if a, ok := content.Attributes["captions"]; ok && content.Attributes["album_id"] == nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Captions need an album",
			Detail:  fmt.Sprintf("%s sets captions, which are given when photos are committed into an album: set album_id too. Photos for a topic take no caption; write the text in the topic.", st.Addr),
			Subject: a.NameRange.Ptr()})
	}
	if a, ok := content.Attributes["session"]; ok {
		s, d := staticString(a)
		diags = append(diags, d...)
		u.Session, u.SessionRange = s, a.Expr.Range()
	}
	diags = append(diags, c.decodeStepMeta(st, content)...)
	return diags
}
