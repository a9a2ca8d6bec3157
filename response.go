package bookingsync

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Response wraps the HTTP response with what the API says in its headers
// and meta. Its body has been read and closed.
type Response struct {
	*http.Response

	// FirstPage, PrevPage, NextPage and LastPage come from the Link header
	// (or meta); 0 when absent. NextPage 0 means this is the last page.
	FirstPage, PrevPage, NextPage, LastPage int
	// TotalPages, TotalCount and PerPage come from X-Total-Pages,
	// X-Total-Count and X-Per-Page (or meta); 0 when absent.
	TotalPages, TotalCount, PerPage int

	// Rate is the rate-limit budget after this request.
	Rate Rate
	// RequestID is X-Request-Id.
	RequestID string
	// SyncedAt is X-Updated-Since-Request-Synced-At: the cursor to persist
	// and pass as the next ListOptions.UpdatedSince. Zero when absent.
	SyncedAt time.Time
	// Meta is the envelope's meta: deleted ids of an updated_since listing.
	Meta Meta
}

// Meta is the envelope's meta object. The paging headers it repeats on
// some responses fill Response's paging fields when the headers are
// absent.
type Meta struct {
	// DeletedIDs lists the records removed since ListOptions.UpdatedSince.
	DeletedIDs []int64 `json:"deleted_ids,omitempty"`

	paging metaPaging
}

// metaPaging is what meta repeats of the paging headers: the Link URLs by
// relation and the counts (0 when absent, null or negative).
type metaPaging struct {
	link                            map[string]string
	totalPages, totalCount, perPage int
}

// UnmarshalJSON accepts ids and counts written as numbers or strings, and
// nulls.
func (m *Meta) UnmarshalJSON(b []byte) error {
	var w struct {
		DeletedIDs []flexInt         `json:"deleted_ids"`
		Link       map[string]string `json:"Link"`
		TotalPages flexInt           `json:"X-Total-Pages"`
		TotalCount flexInt           `json:"X-Total-Count"`
		PerPage    flexInt           `json:"X-Per-Page"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	// Like the headers, a negative count means none.
	count := func(n flexInt) int { return int(max(n, 0)) }
	*m = Meta{paging: metaPaging{link: w.Link, totalPages: count(w.TotalPages), totalCount: count(w.TotalCount), perPage: count(w.PerPage)}}
	if len(w.DeletedIDs) > 0 {
		m.DeletedIDs = make([]int64, len(w.DeletedIDs))
		for i, id := range w.DeletedIDs {
			m.DeletedIDs[i] = int64(id)
		}
	}
	return nil
}

// setMeta records meta and fills paging fields the headers left empty.
func (r *Response) setMeta(m Meta) {
	r.Meta = m
	p := m.paging
	if r.TotalPages == 0 {
		r.TotalPages = p.totalPages
	}
	if r.TotalCount == 0 {
		r.TotalCount = p.totalCount
	}
	if r.PerPage == 0 {
		r.PerPage = p.perPage
	}
	if r.FirstPage == 0 && r.NextPage == 0 && r.PrevPage == 0 && r.LastPage == 0 && len(p.link) > 0 {
		r.FirstPage = pageOf(p.link["first"])
		r.PrevPage = pageOf(p.link["prev"])
		r.NextPage = pageOf(p.link["next"])
		r.LastPage = pageOf(p.link["last"])
	}
}

func headerInt(h http.Header, key string) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(key)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// parseLinkPages reads RFC 8288 Link headers: `<url>; rel="next", <url>;
// rel="last"`. URLs may themselves hold commas and semicolons, so it scans
// for the angle brackets rather than splitting.
func parseLinkPages(values []string) (first, prev, next, last int) {
	for _, v := range values {
		for len(v) > 0 {
			open := strings.IndexByte(v, '<')
			if open < 0 {
				break
			}
			end := strings.IndexByte(v[open:], '>')
			if end < 0 {
				break
			}
			target := v[open+1 : open+end]
			v = v[open+end+1:]
			params := v
			if i := strings.IndexByte(v, '<'); i >= 0 {
				params = v[:i]
			}
			page := pageOf(target)
			for _, rel := range linkRels(params) {
				switch rel {
				case "first":
					first = page
				case "prev", "previous":
					prev = page
				case "next":
					next = page
				case "last":
					last = page
				}
			}
		}
	}
	return first, prev, next, last
}

// linkRels returns the relation types in a link's parameters
// (`; rel="next last"`).
func linkRels(params string) []string {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		return strings.Fields(strings.ToLower(strings.Trim(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v), ",")), `"`)))
	}
	return nil
}

func pageOf(rawURL string) int {
	if rawURL == "" {
		return 0
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(u.Query().Get("page"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
