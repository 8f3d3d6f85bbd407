package okru_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/okru-run/okru-run/okru"
)

// pagedServer serves items 0..total-1 in pages of count, with the anchor
// keys of style; answers that break the protocol are injected by mutate.
func pagedServer(t *testing.T, total int, style okru.PagingStyle, mutate func(page int, body map[string]any)) *fakeServer {
	anchorIn, anchorOut, moreOut := "anchor", "anchor", "has_more"
	if style == okru.PagingPaging {
		anchorIn, anchorOut, moreOut = "pagingAnchor", "pagingAnchor", "hasMore"
	}
	var page atomic.Int32
	return newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, req fakeRequest) {
		start := 0
		if a := req.Form.Get(anchorIn); a != "" {
			start, _ = strconv.Atoi(a[len("pos"):])
		}
		count, _ := strconv.Atoi(req.Form.Get("count"))
		end := min(start+count, total)
		var items []string
		for i := start; i < end; i++ {
			items = append(items, strconv.Itoa(i))
		}
		body := map[string]any{"items": items, anchorOut: fmt.Sprintf("pos%d", end), moreOut: end < total}
		if mutate != nil {
			mutate(int(page.Add(1)-1), body)
		}
		b, _ := json.Marshal(body)
		writeResult(w, string(b))
	})
}

func collect(t *testing.T, api *okru.API, method string, params okru.Params) (items []string, pages int, err error) {
	t.Helper()
	for raw, err := range api.Pages(t.Context(), method, params) {
		if err != nil {
			return items, pages, err
		}
		pages++
		var page struct{ Items []string }
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
	}
	return items, pages, nil
}

func TestPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		style     okru.PagingStyle
		total     int
		mutate    func(page int, body map[string]any)
		wantItems int
		wantPages int
	}{
		{name: "anchor style to the end", method: "group.getMembers", style: okru.PagingAnchor, total: 25, wantItems: 25, wantPages: 3},
		{name: "exact multiple", method: "group.getMembers", style: okru.PagingAnchor, total: 20, wantItems: 20, wantPages: 2},
		{name: "paging style", method: "photos.getUserPhotos", style: okru.PagingPaging, total: 25, wantItems: 25, wantPages: 3},
		{name: "unknown method pages by anchor", method: "custom.getList", style: okru.PagingAnchor, total: 15, wantItems: 15, wantPages: 2},
		{name: "missing anchor stops", method: "group.getMembers", style: okru.PagingAnchor, total: 100, wantItems: 20, wantPages: 2,
			mutate: func(page int, body map[string]any) {
				if page == 1 {
					delete(body, "anchor")
				}
			}},
		{name: "empty anchor stops", method: "group.getMembers", style: okru.PagingAnchor, total: 100, wantItems: 10, wantPages: 1,
			mutate: func(_ int, body map[string]any) { body["anchor"] = "" }},
		{name: "repeated anchor stops", method: "group.getMembers", style: okru.PagingAnchor, total: 100, wantItems: 20, wantPages: 2,
			mutate: func(_ int, body map[string]any) { body["anchor"] = "pos10" }},
		{name: "no has_more follows the anchor", method: "group.getMembers", style: okru.PagingAnchor, total: 30, wantItems: 30, wantPages: 4,
			mutate: func(_ int, body map[string]any) { delete(body, "has_more") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := pagedServer(t, tt.total, tt.style, tt.mutate)
			params := okru.Params{"uid": "g1", "count": 10}
			items, pages, err := collect(t, newTestAPI(f, nil), tt.method, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tt.wantItems || pages != tt.wantPages {
				t.Errorf("got %d items in %d pages, want %d in %d", len(items), pages, tt.wantItems, tt.wantPages)
			}
			if len(items) > 0 && items[0] != "0" {
				t.Errorf("first item %q", items[0])
			}
			if len(params) != 2 {
				t.Errorf("Pages changed the caller's params: %v", params)
			}
			dirKey := "direction"
			if tt.style == okru.PagingPaging {
				dirKey = "pagingDirection"
			}
			for _, req := range f.Requests() {
				if req.Form.Get(dirKey) != "FORWARD" {
					t.Errorf("%s = %q, want FORWARD", dirKey, req.Form.Get(dirKey))
				}
			}
		})
	}
}

func TestPagesErrorStops(t *testing.T) {
	t.Parallel()
	var seen atomic.Int32
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		calls := seen.Add(1)
		if calls == 2 {
			writeAPIError(w, okru.CodeParamGroupID, "no such group")
			return
		}
		writeResult(w, fmt.Sprintf(`{"anchor":"a%d","has_more":true}`, calls))
	})
	var got []error
	for _, err := range newTestAPI(f, nil).Pages(t.Context(), "group.getMembers", okru.Params{"uid": "g"}) {
		got = append(got, err)
	}
	if len(got) != 2 || got[0] != nil || !errors.Is(got[1], okru.CodeParamGroupID) {
		t.Fatalf("yielded %v, want a page then the error", got)
	}
	if f.Count() != 2 {
		t.Errorf("server saw %d calls after the error, want 2", f.Count())
	}
}

func TestPagesBreak(t *testing.T) {
	t.Parallel()
	f := pagedServer(t, 1000, okru.PagingAnchor, nil)
	var pages []json.RawMessage
	for raw, err := range newTestAPI(f, nil).Pages(t.Context(), "group.getMembers", okru.Params{"count": 5}) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, raw)
		if len(pages) == 2 {
			break
		}
	}
	if f.Count() != 2 {
		t.Errorf("server saw %d calls, want 2: breaking must stop paging", f.Count())
	}
	if slices.Equal(pages[0], pages[1]) {
		t.Error("the second page repeats the first")
	}
}

func TestPagesStartAnchor(t *testing.T) {
	t.Parallel()
	f := pagedServer(t, 30, okru.PagingAnchor, nil)
	items, _, err := collect(t, newTestAPI(f, nil), "group.getMembers", okru.Params{"count": 10, "anchor": "pos20"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 10 || items[0] != "20" {
		t.Errorf("items = %v, want 20..29", items)
	}
}
