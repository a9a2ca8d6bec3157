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
	// DeletedIDs lists the records removed since ListOptions.UpdatedSince:
	// the entries of meta.deleted_ids that read as integers (numbers or
	// numeric strings), in order. An id of 0 or below is kept as sent: it
	// names no record, and the caller decides what to do with it.
	DeletedIDs []int64 `json:"deleted_ids,omitempty"`
	// UnreadableDeletedIDs are the entries of meta.deleted_ids that do not
	// read as an integer ("abc", 1.5, null, an object, …), verbatim, in
	// order; a deleted_ids that is not an array at all is one such entry.
	// The page is returned all the same, so that one bad entry never
	// stops a listing; but each of these is a deletion the caller could
	// not apply, so a cursor must not move past it (SyncSummary.Settled
	// is false while a walk met one).
	UnreadableDeletedIDs []json.RawMessage `json:"-"`

	paging metaPaging
}

// metaPaging is what meta repeats of the paging headers: the Link URLs by
// relation and the counts (0 when absent, null or negative).
type metaPaging struct {
	link                            map[string]string
	totalPages, totalCount, perPage int
}

// UnmarshalJSON accepts ids and counts written as numbers or strings, and
// nulls. A deleted_ids entry that is no integer is kept in
// UnreadableDeletedIDs rather than failing the meta; a meta that is not a
// JSON object, or a count that is no integer, still fails.
func (m *Meta) UnmarshalJSON(b []byte) error {
	var w struct {
		DeletedIDs json.RawMessage   `json:"deleted_ids"`
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
	m.DeletedIDs, m.UnreadableDeletedIDs = readDeletedIDs(w.DeletedIDs)
	return nil
}

// readDeletedIDs splits meta.deleted_ids into the entries that read as
// integers and those that do not (kept verbatim). null, absent or [] is
// none; a value that is not an array is one unreadable entry.
func readDeletedIDs(raw json.RawMessage) (ids []int64, unreadable []json.RawMessage) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var entries []json.RawMessage
	if json.Unmarshal(raw, &entries) != nil {
		return nil, []json.RawMessage{raw}
	}
	for _, e := range entries {
		var id flexInt
		// flexInt reads null and "" as 0; in a list of ids they name
		// nothing, so they are unreadable here.
		if s := string(e); s == "null" || s == `""` || id.UnmarshalJSON(e) != nil {
			unreadable = append(unreadable, e)
			continue
		}
		ids = append(ids, int64(id))
	}
	return ids, unreadable
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
