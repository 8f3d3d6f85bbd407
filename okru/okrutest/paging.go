package okrutest

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// page is one window of a list paged with anchor, direction and count.
type page struct {
	start, end int // the items to answer: list[start:end]
	anchor     string
	hasMore    bool
}

// anchorPage reads anchor, direction and count for a list of n items and
// returns the window to answer. Anchors are opaque to clients; the sandbox
// encodes the position together with scope, the identity of the list, so
// that an anchor from another list (or another filter) answers PARAM (100)
// instead of a wrong page.
//
// FORWARD (the default) answers the count items after the anchor, BACKWARD
// the count items before it; the new anchor continues in the same
// direction, and has_more says whether anything is left that way. Without an
// anchor FORWARD starts at the first item and BACKWARD at the last.
func (inv *invocation) anchorPage(scope string, n, defCount, maxCount int) (page, error) {
	count, err := inv.intParam("count", defCount, 1, maxCount)
	if err != nil {
		return page{}, err
	}
	dir := strings.ToUpper(inv.param("direction"))
	if dir == "" {
		dir = "FORWARD"
	}
	if dir != "FORWARD" && dir != "BACKWARD" {
		return page{}, invalidParam("direction", fmt.Sprintf("%q is not emulated by the sandbox; use FORWARD or BACKWARD", inv.param("direction")))
	}
	pos := 0
	if dir == "BACKWARD" {
		pos = n
	}
	if a := inv.param("anchor"); a != "" {
		p, ok := decodeAnchor(a, scope)
		if !ok || p > n {
			return page{}, invalidParam("anchor", "not an anchor of this list; pass back the anchor of the previous page unchanged")
		}
		pos = p
	}
	if dir == "FORWARD" {
		end := min(n, pos+count)
		return page{start: pos, end: end, anchor: encodeAnchor(scope, end), hasMore: end < n}, nil
	}
	start := max(0, pos-count)
	return page{start: start, end: pos, anchor: encodeAnchor(scope, start), hasMore: start > 0}, nil
}

func encodeAnchor(scope string, pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "|" + strconv.Itoa(pos)))
}

func decodeAnchor(anchor, scope string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(anchor)
	if err != nil {
		return 0, false
	}
	text := string(b)
	i := strings.LastIndexByte(text, '|')
	if i < 0 || text[:i] != scope {
		return 0, false
	}
	p, err := strconv.Atoi(text[i+1:])
	return p, err == nil && p >= 0
}
