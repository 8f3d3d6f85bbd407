package okru

import (
	"slices"
	"strings"
	"testing"
)

// TestCatalogRulesNameCatalogMethods checks data/method-rules.tsv against
// data/methods.tsv: every method it names is in the catalog, and every
// parameter it names is one of the method's parameters.
func TestCatalogRulesNameCatalogMethods(t *testing.T) {
	params := map[string][]string{}
	for line := range strings.SplitSeq(methodsTSV, "\n") {
		if f := strings.Split(line, "\t"); len(f) == 6 && !strings.HasPrefix(line, "#") {
			params[f[0]] = splitList(f[4])
		}
	}
	rules, err := parseRules(rulesTSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("no rules read")
	}
	for _, r := range rules {
		known, ok := params[r.Name]
		if !ok {
			t.Errorf("method-rules.tsv names %s, which is not in methods.tsv", r.Name)
			continue
		}
		named := slices.Clone(r.Required)
		for _, c := range r.Conditional {
			named = append(named, c.Param)
		}
		for _, p := range named {
			if !slices.Contains(known, p) {
				t.Errorf("method-rules.tsv: %s has no parameter %q in methods.tsv", r.Name, p)
			}
		}
	}
}

func TestCatalogRulesMalformed(t *testing.T) {
	tests := []struct{ name, row, wantErr string }{
		{"too few columns", "users.getInfo\tuids\t-\t-\t-", "want 6"},
		{"unknown session word", "users.getInfo\t-\trequired\t-\t-\tx", "want external"},
		{"condition without permission", "mediatopic.post\t-\t-\tgid\t-\tx", "CONDITION:PERMISSION"},
		{"lower-case permission", "mediatopic.post\t-\t-\tgid:group_content\t-\tx", "CONDITION:PERMISSION"},
		{"field without permission", "users.getCurrentUser\t-\t-\t-\temail\tx", "FIELD:PERMISSION"},
		{"listed twice", "url.getInfo\turl\t-\t-\t-\tx\nurl.getInfo\turl\t-\t-\t-\tx", "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRules("# header\n" + tt.row + "\n")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCatalogRequiredAndSession(t *testing.T) {
	m, _ := LookupMethod("group.getMembers")
	if !slices.Equal(m.Required, []string{"uid"}) {
		t.Errorf("group.getMembers required = %v, want [uid]", m.Required)
	}
	if got := m.MissingParams(map[string]string{"count": "10"}); !slices.Equal(got, []string{"uid"}) {
		t.Errorf("missing = %v, want [uid]", got)
	}
	if got := m.MissingParams(map[string]string{"uid": ""}); !slices.Equal(got, []string{"uid"}) {
		t.Errorf("an empty uid: missing = %v, want [uid]", got)
	}
	if got := m.MissingParams(map[string]string{"uid": "1"}); got != nil {
		t.Errorf("missing = %v, want none", got)
	}
	info, _ := LookupMethod("users.getInfo")
	if !info.ExternalNeedsSession || info.SessionFor(true) != SessionRequired || info.SessionFor(false) != SessionOptional {
		t.Errorf("users.getInfo: external %v, rules %s/%s; want required for external apps only",
			info.ExternalNeedsSession, info.SessionFor(true), info.SessionFor(false))
	}
}

func TestCatalogPermissionsFor(t *testing.T) {
	post, _ := LookupMethod("mediatopic.post")
	members, _ := LookupMethod("group.getMembers") // VALUABLE_ACCESS,GROUP_CONTENT
	me, _ := LookupMethod("users.getCurrentUser")
	tests := []struct {
		name    string
		m       Method
		params  map[string]string
		granted []string
		want    string
	}{
		{"user post needs nothing", post, map[string]string{"type": "USER"}, nil, ""},
		{"group post needs GROUP_CONTENT", post, map[string]string{"type": "GROUP_THEME", "gid": "5"}, []string{"VALUABLE_ACCESS"}, "GROUP_CONTENT"},
		{"group post with GROUP_CONTENT", post, map[string]string{"type": "GROUP_THEME", "gid": "5"}, []string{"GROUP_CONTENT"}, ""},
		{"an empty gid is no group", post, map[string]string{"type": "USER", "gid": ""}, nil, ""},
		{"status post needs SET_STATUS", post, map[string]string{"type": "USER_STATUS"}, nil, "SET_STATUS"},
		{"set_status=true needs SET_STATUS", post, map[string]string{"type": "USER", "set_status": "true"}, nil, "SET_STATUS"},
		{"set_status=false needs nothing", post, map[string]string{"type": "USER", "set_status": "false"}, nil, ""},
		{"note needs PUBLISH_NOTE", post, map[string]string{"type": "USER_NOTE"}, []string{"SET_STATUS"}, "PUBLISH_NOTE"},
		{"any one of the list is enough", members, nil, []string{"VALUABLE_ACCESS"}, ""},
		{"none of the list names them all", members, nil, []string{"PHOTO_CONTENT"}, "VALUABLE_ACCESS or GROUP_CONTENT"},
		{"getCurrentUser needs nothing", me, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.MissingPermission(tt.params, func(s string) bool { return slices.Contains(tt.granted, s) })
			if got != tt.want {
				t.Errorf("MissingPermission = %q, want %q", got, tt.want)
			}
		})
	}
	if me.FieldAllowed("email", func(string) bool { return false }) || !me.FieldAllowed("email", func(s string) bool { return s == "GET_EMAIL" }) ||
		!me.FieldAllowed("first_name", func(string) bool { return false }) {
		t.Error("users.getCurrentUser: email must need GET_EMAIL, other fields nothing")
	}
	if got := post.Conditional[0].String(); got != "gid:GROUP_CONTENT" {
		t.Errorf("String = %q", got)
	}
}
