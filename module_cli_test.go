package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okru-run/okru-run/engine/state"
	"github.com/okru-run/okru-run/okru"
)

// The tests of this file run workflows with module blocks as the batch
// tests of batch_cli_test.go run theirs: the built binary against
// `okru-run sandbox` started as a process, killed and resumed, split into
// shards. The sandbox's call log says what was really done.

const (
	moduleWorkflow      = "testdata/batch/modules/main.hcl"
	moduleShardWorkflow = "testdata/batch/modshard/main.hcl"
)

// sandboxGroups returns n groups the sandbox's demo user belongs to, and
// so may post to, asking the sandbox with the Go client.
func sandboxGroups(t *testing.T, sb *sandboxProc, n int) []string {
	t.Helper()
	b := sb.banner
	api := okru.New(okru.ServerSession(b.AppKey, b.AppSecretKey, b.User.AccessToken, okru.WithAPIURL(b.APIURL)), &okru.Options{Rate: okru.Unlimited})
	var page struct {
		Groups []struct {
			GroupID string `json:"groupId"`
		} `json:"groups"`
	}
	if err := api.CallInto(t.Context(), "group.getUserGroupsV2", okru.Params{"count": n}, &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range page.Groups {
		out = append(out, g.GroupID)
	}
	if len(out) != n {
		t.Fatalf("the demo user belongs to %d groups (%v); the test needs %d", len(out), out, n)
	}
	return out
}

// groupsVar is -var groups=[...] for the module workflows.
func groupsVar(groups []string) string {
	b, _ := json.Marshal(groups)
	return "groups=" + string(b)
}

// moduleDone counts the calls the sandbox carried out for the module
// workflows, by what they were about: "read GID-N" for a read with its
// call_id, "info GID" for group.getInfo, and "post TEXT" for a post whose
// text starts with tag (which must be posted to the group its text names).
// Calls abandoned by the client before the sandbox ran them, and failed
// ones, are not counted.
func (s *sandboxProc) moduleDone(t *testing.T, tag string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, c := range s.calls(t) {
		if c.Abandoned || c.Code != 0 {
			continue
		}
		switch c.Method {
		case "users.getInfo":
			m["read "+strings.TrimPrefix(c.Params["call_id"], "read-")]++
		case "group.getInfo":
			m["info "+c.Params["uids"]]++
		case "mediatopic.post":
			var att struct {
				Media []struct{ Text string } `json:"media"`
			}
			if err := json.Unmarshal([]byte(c.Params["attachment"]), &att); err != nil || len(att.Media) == 0 {
				t.Fatalf("post without a text: %v", c.Params)
			}
			text := att.Media[0].Text
			if !strings.HasPrefix(text, tag+"-") {
				continue
			}
			if gid := strings.Split(text, "-")[1]; c.Params["gid"] != gid {
				t.Errorf("%q was posted to group %q", text, c.Params["gid"])
			}
			m["post "+text]++
		}
	}
	return m
}

// eventInstance names the instance an event is about as the journal
// does: module.post["GID"].call.post[3], call.me.
func eventInstance(e map[string]any) string {
	step, _ := e["step"].(string)
	switch k := e["key"].(type) {
	case nil:
		return step
	case string:
		return step + "[" + strconv.Quote(k) + "]"
	case float64:
		return step + "[" + strconv.FormatFloat(k, 'f', -1, 64) + "]"
	default:
		return fmt.Sprintf("%s[%v]", step, k)
	}
}

// instances returns the instances of the events of a type whose step ends
// with suffix ("" for all).
func (p *runProc) instances(typ, suffix string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.events {
		if step, _ := e["step"].(string); e["type"] == typ && strings.HasSuffix(step, suffix) {
			out = append(out, eventInstance(e))
		}
	}
	return out
}

// outputs returns the outputs line of a run, nil without one.
func (p *runProc) outputs() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range slices.Backward(p.events) {
		if e["type"] == "outputs" {
			out, _ := e["outputs"].(map[string]any)
			return out
		}
	}
	return nil
}

// journalIDs reads the instances a state records, with the kind of the
// last record of each.
func journalIDs(t *testing.T, path string) map[string]state.Kind {
	t.Helper()
	j, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ids := map[string]state.Kind{}
	j.Entries(func(id string, e state.Entry) { ids[id] = e.Kind })
	return ids
}

// The module workflow's instances: call.me, then per group GID
// module.post["GID"].call.group, .call.read[0..reads-1] and
// .call.post[0..posts-1].
func moduleInstances(groups []string, reads, posts int) (all, writes []string) {
	all = []string{"call.me"}
	for _, g := range groups {
		in := fmt.Sprintf("module.post[%q]", g)
		all = append(all, in+".call.group")
		for i := range reads {
			all = append(all, fmt.Sprintf("%s.call.read[%d]", in, i))
		}
		for i := range posts {
			w := fmt.Sprintf("%s.call.post[%d]", in, i)
			all, writes = append(all, w), append(writes, w)
		}
	}
	return all, writes
}

// The crash test of TestBatchSurvivesKills with modules: a top-level read
// and a module with for_each over three groups, each instance of which
// posts to its group and reads, all killed with SIGKILL at random points
// and resumed each time until done. Then every read has been done and
// every post exactly once, except posts reported as "outcome unknown",
// done at most once; the journal records the instances by their module
// addresses; the outputs gather every instance's, and the topic ids they
// hold, read back, are the topics posted with the right texts.
func TestModuleBatchSurvivesKills(t *testing.T) {
	t.Parallel()
	reads, posts, kills := 40, 80, 5 // per group; with call.me and call.group, 364 calls
	if testing.Short() {
		reads, posts, kills = 10, 15, 2 // 79 calls
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OKRU_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set OKRU_CRASH_SEED to repeat)", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))

	sb := startSandboxProc(t)
	groups := sandboxGroups(t, sb, 3)
	all, writes := moduleInstances(groups, reads, posts)
	const tag = "kill"
	statePath := filepath.Join(t.TempDir(), "modules.journal")
	args := []string{"-parallelism", "8", "-state", statePath, "-var", groupsVar(groups),
		"-var", fmt.Sprint("reads=", reads), "-var", fmt.Sprint("posts=", posts), "-var", "tag=" + tag, moduleWorkflow}
	killed := killRuns(t, sb.env, args, kills, len(all), rnd, func(p *runProc) bool {
		return len(p.instances("outcome_unknown", ".call.post")) > 0
	})

	p, unknown := resumeToEnd(t, sb.env, args, func(p *runProc) []string { return p.instances("outcome_unknown", "") })
	started, reused := p.instances("started", ""), p.instances("reused", "")
	if n := len(started) + len(reused) + len(unknown); n < len(all) {
		t.Errorf("final run: %d started, %d reused, %d unknown; %d calls are missing", len(started), len(reused), len(unknown), len(all)-n)
	}
	t.Logf("%d kills; the final run made %d calls, reused %d, and reports %d writes of unknown outcome",
		killed, len(started), len(reused), len(unknown))

	// The events and the journal name the instances by their module
	// addresses: every one of them, and nothing else.
	isWrite := map[string]bool{}
	for _, w := range writes {
		isWrite[w] = true
	}
	isUnknown := map[string]bool{}
	for _, u := range unknown {
		if !isWrite[u] {
			t.Errorf("outcome_unknown for %s, which is not a post of the workflow", u)
		}
		isUnknown[u] = true
	}
	for _, typ := range []string{"started", "finished", "reused"} {
		for _, in := range p.instances(typ, "") {
			if !slices.Contains(all, in) {
				t.Errorf("a %s event names %s, not an instance of the workflow", typ, in)
			}
		}
	}
	ids := journalIDs(t, statePath)
	for _, in := range all {
		want := state.KindDone
		if isUnknown[in] {
			want = state.KindStart // sent, never answered
		}
		if kind, ok := ids[in]; kind != want {
			t.Errorf("the journal records %s as %q (found: %v), want %q", in, kind, ok, want)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		if !slices.Contains(all, id) {
			t.Errorf("the journal records %s, not an instance of the workflow", id)
		}
	}

	// What the sandbox did: every read at least once, every post once,
	// those of unknown outcome at most once.
	done := sb.moduleDone(t, tag)
	checkModuleDone(t, done, groups, reads, posts, tag, isUnknown)
	if t.Failed() {
		t.FailNow()
	}

	if len(unknown) > 0 { // the final run exited 1 for them
		// Send the unknown writes again, as the final run says: they
		// alone are sent, once each, and the run completes.
		p = startRun(t, sb.env, nil, append([]string{"-resume", "-retry-unknown"}, args...)...)
		if code := p.wait(t); code != 0 {
			t.Fatalf("-retry-unknown run: exit %d; stderr:\n%s", code, p.stderr.String())
		}
		sent := p.instances("started", "")
		slices.Sort(sent)
		slices.Sort(unknown)
		if !slices.Equal(sent, unknown) {
			t.Errorf("-retry-unknown run sent %v, want the writes of unknown outcome %v", sent, unknown)
		}
		after := sb.moduleDone(t, tag)
		for k, n := range after {
			want := done[k]
			if strings.HasPrefix(k, "post ") && isUnknown[postInstance(k, tag)] {
				want++
			}
			if n != want {
				t.Errorf("-retry-unknown run: %s done %d times in all, %d before it", k, n, done[k])
			}
		}
	}

	// The outputs gather every instance's; the topics they name are the
	// ones posted, with the texts of their instances.
	checkModuleOutputs(t, sb, p.outputs(), groups, reads, posts, tag)
}

// postInstance is the instance that posts the text of "post TAG-GID-N".
func postInstance(what, tag string) string {
	parts := strings.Split(strings.TrimPrefix(what, "post "+tag+"-"), "-")
	return fmt.Sprintf("module.post[%q].call.post[%s]", parts[0], parts[1])
}

// checkModuleDone checks the sandbox's counts of the module workflow's
// calls: every read and group.getInfo at least once, every post once
// (at most once if isUnknown has its instance), and no other post.
func checkModuleDone(t *testing.T, done map[string]int, groups []string, reads, posts int, tag string, isUnknown map[string]bool) {
	t.Helper()
	want := map[string]bool{}
	for _, g := range groups {
		if done["info "+g] < 1 {
			t.Errorf("group.getInfo of %s was never done", g)
		}
		for i := range reads {
			if done[fmt.Sprintf("read %s-%d", g, i)] < 1 {
				t.Errorf("read %d of group %s was never done", i, g)
			}
		}
		for i := range posts {
			what := fmt.Sprintf("post %s-%s-%d", tag, g, i)
			want[what] = true
			switch n, u := done[what], isUnknown[postInstance(what, tag)]; {
			case u && n > 1:
				t.Errorf("%s, of unknown outcome, was done %d times, want at most once", what, n)
			case !u && n != 1:
				t.Errorf("%s was done %d times, want exactly once", what, n)
			}
		}
	}
	for what := range done {
		if strings.HasPrefix(what, "post ") && !want[what] {
			t.Errorf("the sandbox was asked for %s, which is no post of the workflow", what)
		}
	}
}

// checkModuleOutputs checks the outputs of a complete run of the module
// workflow, and reads back the topics they name.
func checkModuleOutputs(t *testing.T, sb *sandboxProc, outs map[string]any, groups []string, reads, posts int, tag string) {
	t.Helper()
	if outs == nil {
		t.Fatal("no outputs line")
	}
	counts := map[string]any{}
	for _, g := range groups {
		counts[g] = float64(posts)
	}
	readCounts := map[string]any{}
	for _, g := range groups {
		readCounts[g] = float64(reads)
	}
	for name, want := range map[string]any{"me": sb.banner.User.UID, "groups": float64(len(groups)), "posts": counts, "reads": readCounts} {
		if got := outs[name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("output %s = %v, want %v", name, got, want)
		}
	}
	names, _ := outs["names"].(map[string]any)
	for _, g := range groups {
		if s, _ := names[g].(string); s == "" {
			t.Errorf("output names[%q] = %v, want the group's name", g, names[g])
		}
	}
	topicIDs, _ := outs["topic_ids"].(map[string]any)
	b := sb.banner
	api := okru.New(okru.ServerSession(b.AppKey, b.AppSecretKey, b.User.AccessToken, okru.WithAPIURL(b.APIURL)), &okru.Options{Rate: okru.Unlimited})
	seen := map[string]string{}
	for _, g := range groups {
		list, _ := topicIDs[g].([]any)
		if len(list) != posts {
			t.Errorf("output topic_ids[%q] has %d ids, want %d", g, len(list), posts)
			continue
		}
		ids := make([]string, len(list))
		for i, id := range list {
			ids[i], _ = id.(string)
			if prev, dup := seen[ids[i]]; dup || ids[i] == "" {
				t.Errorf("topic_ids[%q][%d] = %q, also %s", g, i, ids[i], prev)
			}
			seen[ids[i]] = fmt.Sprintf("topic_ids[%q][%d]", g, i)
		}
		for chunk := range slices.Chunk(ids, 100) {
			var res struct {
				Topics []struct {
					ID       string `json:"id"`
					OwnerRef string `json:"owner_ref"`
					Media    []struct {
						Text string `json:"text"`
					} `json:"media"`
				} `json:"media_topics"`
			}
			if err := api.CallInto(t.Context(), "mediatopic.getByIds", okru.Params{"topic_ids": chunk}, &res); err != nil {
				t.Fatal(err)
			}
			byID := map[string]string{}
			for _, tp := range res.Topics {
				if tp.OwnerRef != "group:"+g {
					t.Errorf("topic %s is in %s, want group:%s", tp.ID, tp.OwnerRef, g)
				}
				if len(tp.Media) > 0 {
					byID[tp.ID] = tp.Media[0].Text
				}
			}
			for _, id := range chunk {
				i := slices.Index(ids, id)
				if want := fmt.Sprintf("%s-%s-%d", tag, g, i); byID[id] != want {
					t.Errorf("topic %s (topic_ids[%q][%d]) has the text %q, want %q", id, g, i, byID[id], want)
				}
			}
		}
	}
}

// Two shards of a module workflow, run at once against one sandbox, each
// with its own state. module.part has a for_each over 8 parts: each of
// its instances runs whole (its reads, its write without for_each, its
// posts) in exactly one shard, and is skipped in the other, whose
// module.part leaves it out. module.whole, without for_each, is split as
// a workflow's steps are: the instances of its for_each steps by key, its
// read without for_each in both shards, its write without for_each in
// shard 1 only. Together the shards do every call once, but the reads
// without for_each, and the -json events name the instances with their
// module addresses.
func TestModuleBatchShards(t *testing.T) {
	t.Parallel()
	sb := startSandboxProc(t)
	groups := sandboxGroups(t, sb, 2)
	const shards, parts, reads, tag = 2, 8, 20, "shard"
	postKeys := []string{"a", "b", "c"}
	// The instances of a module instance, by the calls they make.
	type inst struct {
		name, prefix, gid string
		group             string   // call.group: a read without for_each
		announce          string   // a write without for_each
		each              []string // the instances of for_each steps
		done              []string // what the sandbox does for them
	}
	instance := func(name, prefix, gid string) inst {
		in := inst{name: name, prefix: prefix, gid: gid, group: prefix + ".call.group", announce: prefix + ".call.announce",
			done: []string{fmt.Sprintf("post %s-%s-%s-announce", tag, gid, name)}}
		for i := range reads {
			in.each = append(in.each, fmt.Sprintf("%s.call.read[%d]", prefix, i))
			in.done = append(in.done, fmt.Sprintf("read %s-%d", name, i))
		}
		for _, k := range postKeys {
			in.each = append(in.each, fmt.Sprintf("%s.call.post[%q]", prefix, k))
			in.done = append(in.done, fmt.Sprintf("post %s-%s-%s-%s", tag, gid, name, k))
		}
		return in
	}
	var partInsts []inst
	for i := range parts {
		name := fmt.Sprint("p", i)
		partInsts = append(partInsts, instance(name, fmt.Sprintf("module.part[%q]", name), groups[i%len(groups)]))
	}
	whole := instance("whole", "module.whole", groups[0])

	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]cliResult, shards)
	for i := range shards {
		wg.Go(func() {
			results[i] = runCLI(t, sb.env, "", "run", "-json", "-shard", fmt.Sprintf("%d/%d", i+1, shards),
				"-state", filepath.Join(dir, fmt.Sprintf("shard-%d.journal", i+1)), "-var", groupsVar(groups),
				"-var", fmt.Sprint("parts=", parts), "-var", fmt.Sprint("reads=", reads), "-var", "tag="+tag, moduleShardWorkflow)
		})
	}
	wg.Wait()

	byInstance := map[string][]int{} // the shards that finished each instance
	skipped := make([]map[string]string, shards)
	outParts := make([][]string, shards) // output parts: the shard's module.part instances
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("shard %d: exit %d; stderr:\n%s", i+1, r.code, r.stderr)
		}
		skipped[i] = map[string]string{}
		for line := range strings.Lines(r.stdout) {
			var e map[string]any
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("shard %d: %v in %q", i+1, err, line)
			}
			switch e["type"] {
			case "finished":
				in := eventInstance(e)
				if slices.Contains(byInstance[in], i+1) {
					t.Errorf("shard %d finished %s twice", i+1, in)
				}
				byInstance[in] = append(byInstance[in], i+1)
			case "skipped":
				skipped[i][eventInstance(e)], _ = e["reason"].(string)
			case "outputs":
				outs, _ := e["outputs"].(map[string]any)
				ps, _ := outs["parts"].([]any)
				for _, p := range ps {
					outParts[i] = append(outParts[i], fmt.Sprint(p))
				}
			}
		}
	}
	shardsOf := func(in string) string { return fmt.Sprint(byInstance[in]) }

	// call.me, a read without for_each, runs in both shards.
	if got := shardsOf("call.me"); got != "[1 2]" && got != "[2 1]" {
		t.Errorf("call.me was finished by shards %s, want both", got)
	}
	// Each instance of module.part runs whole in one shard.
	ran := make([][]string, shards) // by shard, the parts it ran
	for _, p := range partInsts {
		owner := byInstance[p.group]
		if len(owner) != 1 {
			t.Errorf("%s was finished by shards %v, want one", p.group, owner)
			continue
		}
		s := owner[0]
		ran[s-1] = append(ran[s-1], p.name)
		for _, in := range append([]string{p.announce}, p.each...) {
			if got := byInstance[in]; !slices.Equal(got, owner) {
				t.Errorf("%s was finished by shards %v, want %v, the shard of %s", in, got, owner, p.prefix)
			}
		}
		other := 3 - s
		want := fmt.Sprintf("runs in shard %d of %d, with its module instance", s, shards)
		for _, step := range []string{".call.group", ".call.read", ".call.announce", ".call.post"} {
			if got := skipped[other-1][p.prefix+step]; got != want {
				t.Errorf("shard %d: %s%s skipped as %q, want %q", other, p.prefix, step, got, want)
			}
		}
	}
	for i := range shards {
		t.Logf("shard %d ran module.part %v", i+1, ran[i])
		if len(ran[i]) == 0 {
			t.Errorf("shard %d ran no instance of module.part: the instances were not split", i+1)
		}
		if !slices.Equal(outParts[i], ran[i]) {
			t.Errorf("shard %d: output parts = %v, want the instances it ran, %v", i+1, outParts[i], ran[i])
		}
	}
	// module.whole is split as a workflow's steps are.
	if got := shardsOf(whole.group); got != "[1 2]" && got != "[2 1]" {
		t.Errorf("%s, a read without for_each, was finished by shards %s, want both", whole.group, got)
	}
	if got := shardsOf(whole.announce); got != "[1]" {
		t.Errorf("%s, a write without for_each, was finished by shards %s, want shard 1 only", whole.announce, got)
	}
	if got, want := skipped[1][whole.announce], fmt.Sprintf("runs in shard 1 of %d only", shards); !strings.HasPrefix(got, want) {
		t.Errorf("shard 2: %s skipped as %q, want %q", whole.announce, got, want)
	}
	split := make([]int, shards)
	for _, in := range whole.each {
		got := byInstance[in]
		if len(got) != 1 {
			t.Errorf("%s was finished by shards %v, want exactly one", in, got)
			continue
		}
		split[got[0]-1]++
	}
	t.Logf("the shards made %v of the %d for_each instances of module.whole", split, len(whole.each))
	if slices.Contains(split, 0) {
		t.Errorf("the for_each instances of module.whole were not split: %v", split)
	}
	// Nothing else.
	known := map[string]bool{"call.me": true}
	for _, p := range append(partInsts, whole) {
		known[p.group], known[p.announce] = true, true
		for _, in := range p.each {
			known[in] = true
		}
	}
	for in, got := range byInstance {
		if !known[in] {
			t.Errorf("shards %v finished %s, not an instance of the workflow", got, in)
		}
	}

	// What the sandbox did: every call once, but group.getInfo of
	// module.whole, in both shards.
	want := map[string]int{}
	for _, p := range append(partInsts, whole) {
		want["info "+p.gid]++
		for _, what := range p.done {
			want[what] = 1
		}
	}
	want["info "+whole.gid]++
	done := sb.moduleDone(t, tag)
	for _, what := range slices.Sorted(maps.Keys(want)) {
		if done[what] != want[what] {
			t.Errorf("the sandbox did %s %d times, want %d", what, done[what], want[what])
		}
	}
	for what, n := range done {
		if _, ok := want[what]; !ok {
			t.Errorf("the sandbox did %s %d times, which is no call of the workflow", what, n)
		}
	}
}
