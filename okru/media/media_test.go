package media_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/okru-run/okru-run/okru/media"
)

func TestTopic(t *testing.T) {
	t.Parallel()
	photos := `{"photos": [{"file": "a.png", "photo_id": "1", "token": "T1"}, {"file": "b.png", "photo_id": "2", "token": "T2"}]}`
	video := `{"video_id": "V1", "title": "Clip"}`
	tests := []struct {
		name    string
		text    string
		uploads []string // JSON
		want    string
		err     string
	}{
		{"text only", "Hello", nil, `{"media":[{"text":"Hello","type":"text"}]}`, ""},
		{"text and photos", "Hello", []string{photos}, `{"media":[{"text":"Hello","type":"text"},{"list":[{"id":"T1"},{"id":"T2"}],"type":"photo"}]}`, ""},
		{"photos then videos, whatever the order given", "", []string{video, "[" + photos + ", null]"},
			`{"media":[{"list":[{"id":"T1"},{"id":"T2"}],"type":"photo"},{"list":[{"id":"V1"}],"type":"movie"}]}`, ""},
		{"a numeric video id", "", []string{`{"video_id": 890000000000001}`}, `{"media":[{"list":[{"id":890000000000001}],"type":"movie"}]}`, ""},
		{"skipped uploads", "x", []string{"null", "[]"}, `{"media":[{"text":"x","type":"text"}]}`, ""},
		{"nothing", "", []string{"null"}, "", "needs a text or at least one"},
		{"not an upload", "x", []string{`{"a": 1}`}, "", "has photos or video_id"},
		{"a string", "x", []string{`"T1"`}, "", "not a string"},
		{"a photo without a token", "x", []string{`{"photos": [{"photo_id": "1"}]}`}, "", "has no token"},
		{"photos not a list", "x", []string{`{"photos": "T1"}`}, "", "are a list, not a string"},
		{"a video id that is an object", "x", []string{`{"video_id": {}}`}, "", "not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			topic := media.Topic{Text: tt.text}
			var err error
			for _, u := range tt.uploads {
				dec := json.NewDecoder(strings.NewReader(u))
				dec.UseNumber()
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatal(err)
				}
				if err = topic.Add(v); err != nil {
					break
				}
			}
			var att map[string]any
			if err == nil {
				att, err = topic.Attachment()
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := json.Marshal(att); string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

// A topic with a text and the photos of an upload, as okru-run's upload
// steps and okru.upload_photos return them.
func ExampleTopic() {
	var upload any
	_ = json.Unmarshal([]byte(`{"photos": [{"file": "a.jpg", "photo_id": "880000000000001", "token": "T1"}]}`), &upload)
	topic := media.Topic{Text: "Holidays"}
	if err := topic.Add(upload); err != nil {
		fmt.Println(err)
		return
	}
	att, _ := topic.Attachment()
	b, _ := json.Marshal(att)
	fmt.Println(string(b))
	// Output: {"media":[{"text":"Holidays","type":"text"},{"list":[{"id":"T1"}],"type":"photo"}]}
}
