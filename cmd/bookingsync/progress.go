package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// pageObserver tells seen about every page of a listing the API returns,
// from the paging headers: the SDK and inboxsync stay unaware of it.
type pageObserver struct {
	next http.RoundTripper
	seen func(pageInfo)
}

// pageInfo is one page of a listing.
type pageInfo struct {
	resource         string // "conversations", "messages", …
	page, totalPages int
	perPage, records int // records is the listing's X-Total-Count
}

func (o *pageObserver) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK || r.Method != http.MethodGet {
		return resp, err
	}
	pages, err1 := strconv.Atoi(resp.Header.Get("X-Total-Pages"))
	if err1 != nil {
		return resp, nil
	}
	p := pageInfo{totalPages: pages, page: 1}
	p.records, _ = strconv.Atoi(resp.Header.Get("X-Total-Count"))
	p.perPage, _ = strconv.Atoi(resp.Header.Get("X-Per-Page"))
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
		p.page = n
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3/")
	path = strings.TrimPrefix(path, "inbox/")
	p.resource, _, _ = strings.Cut(path, "/")
	o.seen(p)
	return resp, nil
}

// progress draws one line on a terminal, rewritten as pages come:
//
//	conversations  [########------------]  page 4/10  400/1000 records
type progress struct {
	w  io.Writer
	mu sync.Mutex
	on bool // draw at all: stderr is a terminal, and it is the first pass
	// drawn reports that a line is on screen, to be cleared by done.
	drawn bool
}

const barWidth = 20

func (b *progress) page(p pageInfo) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.on {
		return
	}
	fmt.Fprintf(b.w, "\r\033[K%s", progressLine(p))
	b.drawn = true
}

// done clears the bar before a pass's summary.
func (b *progress) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}

func progressLine(p pageInfo) string {
	total := max(p.totalPages, 1)
	page := min(max(p.page, 1), total)
	filled := barWidth * page / total
	done := p.records
	if p.perPage > 0 {
		done = min(page*p.perPage, p.records)
	}
	return fmt.Sprintf("%-13s [%s%s]  page %d/%d  %d/%d records", p.resource,
		strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), page, total, done, p.records)
}
