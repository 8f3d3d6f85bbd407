package lang

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// topicAttachmentFunc is topic_attachment(text, uploads...): the
// attachment of a mediatopic.post that shows text and uploaded media,
//
//	{media = [{type = "text", text = TEXT},
//	          {type = "photo", list = [{id = TOKEN}, ...]},
//	          {type = "movie", list = [{id = VIDEO_ID}]}]}
//
// Each upload is an upload step's result (upload.NAME.result), a list of
// them (upload.NAME[*].result), or null (skipped); photos keep their
// order. The text item is left out when text is "" or null.
var topicAttachmentFunc = function.New(&function.Spec{
	Description: "Returns the attachment of a mediatopic.post with a text and the photos and videos of upload steps.",
	Params:      []function.Parameter{{Name: "text", Type: cty.String, AllowNull: true}},
	VarParam:    &function.Parameter{Name: "uploads", Type: cty.DynamicPseudoType, AllowNull: true},
	Type:        function.StaticReturnType(cty.DynamicPseudoType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		var media []cty.Value
		if t := args[0]; !t.IsNull() && t.AsString() != "" {
			media = append(media, cty.ObjectVal(map[string]cty.Value{"type": cty.StringVal("text"), "text": t}))
		}
		var photos, videos []cty.Value
		for i, u := range args[1:] {
			if err := collectUploads(u, &photos, &videos); err != nil {
				return cty.NilVal, function.NewArgErrorf(i+1, "%s", err)
			}
		}
		if len(photos) > 0 {
			media = append(media, cty.ObjectVal(map[string]cty.Value{"type": cty.StringVal("photo"), "list": cty.TupleVal(photos)}))
		}
		if len(videos) > 0 {
			media = append(media, cty.ObjectVal(map[string]cty.Value{"type": cty.StringVal("movie"), "list": cty.TupleVal(videos)}))
		}
		if len(media) == 0 {
			return cty.NilVal, fmt.Errorf("topic_attachment needs a text or at least one uploaded photo or video")
		}
		return cty.ObjectVal(map[string]cty.Value{"media": cty.TupleVal(media)}), nil
	},
})

// collectUploads adds the photo tokens and video ids of an upload result,
// or of a list of them, as {id = ...} objects.
func collectUploads(v cty.Value, photos, videos *[]cty.Value) error {
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if err := collectUploads(e, photos, videos); err != nil {
				return err
			}
		}
		return nil
	case !ty.IsObjectType() && !ty.IsMapType():
		return fmt.Errorf("want the result of an upload step (upload.NAME.result), not %s", ty.FriendlyName())
	}
	m := v.AsValueMap()
	found := false
	if list, ok := m["photos"]; ok && !list.IsNull() {
		found = true
		for it := list.ElementIterator(); it.Next(); {
			_, p := it.Element()
			tok := cty.NilVal
			if p.Type().IsObjectType() && p.Type().HasAttribute("token") {
				tok = p.GetAttr("token")
			}
			if tok == cty.NilVal || tok.IsNull() || tok.Type() != cty.String {
				return fmt.Errorf("a photo of the upload has no token: give the result of a photo upload step")
			}
			*photos = append(*photos, cty.ObjectVal(map[string]cty.Value{"id": tok}))
		}
	}
	if id, ok := m["video_id"]; ok && !id.IsNull() {
		found = true
		*videos = append(*videos, cty.ObjectVal(map[string]cty.Value{"id": id}))
	}
	if !found {
		return fmt.Errorf("want the result of an upload step (upload.NAME.result), which has photos or video_id")
	}
	return nil
}
