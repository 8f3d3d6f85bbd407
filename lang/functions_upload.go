package lang

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/okru-run/okru-run/okru/media"
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
// order. The text item is left out when text is "" or null. Package media
// builds it, as it does for Lua's okru.topic_attachment, from the uploads
// as JSON.
var topicAttachmentFunc = function.New(&function.Spec{
	Description: "Returns the attachment of a mediatopic.post with a text and the photos and videos of upload steps.",
	Params:      []function.Parameter{{Name: "text", Type: cty.String, AllowNull: true}},
	VarParam:    &function.Parameter{Name: "uploads", Type: cty.DynamicPseudoType, AllowNull: true},
	Type:        function.StaticReturnType(cty.DynamicPseudoType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		var topic media.Topic
		if t := args[0]; !t.IsNull() {
			topic.Text = t.AsString()
		}
		for i, u := range args[1:] {
			if !u.IsWhollyKnown() {
				// A list of upload results some of which are not known
				// yet, as plan sees them.
				return cty.DynamicVal, nil
			}
			if err := topic.Add(jsonValue(u)); err != nil {
				return cty.NilVal, function.NewArgErrorf(i+1, "%s; give upload.NAME.result", err)
			}
		}
		att, err := topic.Attachment()
		if err != nil {
			return cty.NilVal, fmt.Errorf("topic_attachment: %w", err)
		}
		raw, err := json.Marshal(att)
		if err != nil {
			return cty.NilVal, err
		}
		return ValueFromJSON(raw)
	},
})

// jsonValue returns a wholly known value as encoding/json decodes its
// JSON, numbers as json.Number so that big ids keep every digit.
func jsonValue(v cty.Value) any {
	raw := appendJSON(nil, v, jsonWire)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	_ = dec.Decode(&out) // appendJSON writes valid JSON
	return out
}
