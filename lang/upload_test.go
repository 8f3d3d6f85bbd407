package lang

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestUploadBlockErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"nothing to upload", `upload "u" {}`, "Nothing to upload"},
		{"both", `upload "u" {
  files = ["a.png"]
  video = "v.mp4"
}`, "Both files and video"},
		{"video argument on photos", `upload "u" {
  files = ["a.png"]
  title = "x"
}`, "takes no title"},
		{"captions without album", `upload "u" {
  files    = ["a.png"]
  captions = { "a.png" = "x" }
}`, "Captions need an album"},
		{"retry block", `upload "u" {
  files = ["a.png"]
  retry { attempts = 3 }
}`, "Blocks of type \"retry\" are not expected here"},
		{"depends on a call", `upload "u" {
  files      = ["a.png"]
  depends_on = [call.none]
}`, "undeclared call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := LoadSource("test.hcl", []byte(tt.src), t.TempDir())
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.want) {
				t.Errorf("diagnostics %q, want %q", diags.Error(), tt.want)
			}
		})
	}
}

func TestUploadReferences(t *testing.T) {
	t.Parallel()
	cfg, diags := LoadSource("test.hcl", []byte(`
upload "pics" {
  files = ["a.png"]
}
call "post" {
  method = "mediatopic.post"
  params = { attachment = topic_attachment("hi", upload.pics.result) }
  depends_on = [upload.pics]
}
`), t.TempDir())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	st := cfg.Step(Address{Kind: KindCall, Name: "post"})
	if len(st.Refs) != 1 || st.Refs[0].Addr != (Address{Kind: KindUpload, Name: "pics"}) || len(st.DependsOn) != 1 {
		t.Errorf("refs %v, depends_on %v: want upload.pics", st.Refs, st.DependsOn)
	}
	if m := cfg.Step(Address{Kind: KindUpload, Name: "pics"}).Method(); m != UploadPhotosMethod {
		t.Errorf("method %q", m)
	}
}

func TestTopicAttachment(t *testing.T) {
	t.Parallel()
	photos := cty.ObjectVal(map[string]cty.Value{"photos": cty.TupleVal([]cty.Value{
		cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal("a.png"), "token": cty.StringVal("T1")}),
		cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal("b.png"), "token": cty.StringVal("T2")}),
	})})
	video := cty.ObjectVal(map[string]cty.Value{"video_id": cty.StringVal("V1")})
	tests := []struct {
		name string
		expr string
		want string
		err  string
	}{
		{"text and photos", `topic_attachment("Hello", p)`, `{"media":[{"text":"Hello","type":"text"},{"list":[{"id":"T1"},{"id":"T2"}],"type":"photo"}]}`, ""},
		{"list of uploads and a video", `topic_attachment("", [p, null], v)`, `{"media":[{"list":[{"id":"T1"},{"id":"T2"}],"type":"photo"},{"list":[{"id":"V1"}],"type":"movie"}]}`, ""},
		{"not an upload", `topic_attachment("x", {a = 1})`, "", "has photos or video_id"},
		{"nothing", `topic_attachment("")`, "", "needs a text or at least one"},
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"p": photos, "v": video, "u": cty.DynamicVal}, Functions: Scope{}.Functions()}
	// As plan sees a list of upload results not known yet.
	if v, diags := evalString(t, `topic_attachment("x", [p, u])`, ctx); diags.HasErrors() || v.IsKnown() {
		t.Errorf("with an unknown upload: %#v, %s; want an unknown value", v, diags.Error())
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, diags := evalString(t, tt.expr, ctx)
			if tt.err != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.err) {
					t.Errorf("diagnostics %q, want %q", diags.Error(), tt.err)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			b, err := JSON(v)
			if err != nil || string(b) != tt.want {
				t.Errorf("got %s (%v), want %s", b, err, tt.want)
			}
		})
	}
}

func evalString(t *testing.T, src string, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "expr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	return expr.Value(ctx)
}
