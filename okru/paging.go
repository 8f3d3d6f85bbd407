package okru

import (
	"context"
	"encoding/json"
	"iter"
	"maps"
)

// Pages calls a list method page after page and yields each page's raw
// result. It follows the paging style of the catalog: anchor, direction
// and count in, anchor and has_more out (the default, also for methods the
// catalog does not know), or pagingAnchor and pagingDirection in,
// pagingAnchor and hasMore out. params are not changed; a direction left
// unset is FORWARD, and an anchor in params is where paging starts.
//
// Paging stops after a page whose has_more is false, whose anchor is
// missing or empty, or whose anchor was seen before, so a server that
// repeats itself cannot make it loop forever. An error is yielded once and
// ends the sequence. Each page is one Call, with its retries and pacing.
func (a *API) Pages(ctx context.Context, method string, params Params, opts ...CallOption) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		style := PagingAnchor
		if m, ok := LookupMethod(method); ok && m.Paging != PagingNone {
			style = m.Paging
		}
		anchorKey, directionKey := "anchor", "direction"
		if style == PagingPaging {
			anchorKey, directionKey = "pagingAnchor", "pagingDirection"
		}
		p := maps.Clone(params)
		if p == nil {
			p = Params{}
		}
		if _, ok := p[directionKey]; !ok {
			p[directionKey] = "FORWARD"
		}
		seen := map[string]bool{}
		if start, ok, _ := EncodeValue(p[anchorKey]); ok {
			seen[start] = true
		}
		for {
			raw, err := a.Call(ctx, method, p, opts...)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(raw, nil) {
				return
			}
			next, more := nextAnchor(raw, style)
			if !more || next == "" || seen[next] {
				return
			}
			seen[next] = true
			p[anchorKey] = next
		}
	}
}

// nextAnchor reads where the next page starts from a page's result, and
// whether the server says there is one. Both spellings are read in either
// style: ok.ru is not consistent between methods.
func nextAnchor(raw json.RawMessage, style PagingStyle) (anchor string, more bool) {
	var page struct {
		Anchor       json.RawMessage `json:"anchor"`
		PagingAnchor json.RawMessage `json:"pagingAnchor"`
		HasMore      *bool           `json:"has_more"`
		HasMoreCamel *bool           `json:"hasMore"`
	}
	if json.Unmarshal(raw, &page) != nil {
		return "", false // not an object: nothing to page
	}
	first, second := page.Anchor, page.PagingAnchor
	if style == PagingPaging {
		first, second = second, first
	}
	anchor = anchorText(first)
	if anchor == "" {
		anchor = anchorText(second)
	}
	switch {
	case page.HasMore != nil:
		more = *page.HasMore
	case page.HasMoreCamel != nil:
		more = *page.HasMoreCamel
	default:
		more = true // no flag: the anchor alone decides
	}
	return anchor, more
}

// anchorText returns an anchor as sent: a JSON string unquoted, a number
// as written, null or nothing as "".
func anchorText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
