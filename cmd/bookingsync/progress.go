package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pageObserver tells seen about every page of a listing the API returns,
// from the paging headers, and rate about every response's rate-limit
// headers: the SDK and inboxsync stay unaware of it.
type pageObserver struct {
	next http.RoundTripper
	seen func(pageInfo)
	rate func(limit, remaining int, reset time.Time)
}

// pageInfo is one page of a listing.
type pageInfo struct {
	resource         string // "conversations", "messages", …
	page, totalPages int
	perPage, records int // records is the listing's X-Total-Count
}

func (o *pageObserver) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	limit, err1 := strconv.Atoi(resp.Header.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err1 == nil && err2 == nil && err3 == nil {
		o.rate(limit, remaining, time.Unix(reset, 0))
	}
	if resp.StatusCode != http.StatusOK || r.Method != http.MethodGet {
		return resp, nil
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
	// reserve is the share of the rate limit inboxsync keeps; noted
	// reports that this pass said it is waiting for the reset.
	reserve float64
	noted   bool
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

// rate says once a pass, terminal or not, that the pass is about to wait
// for the rate-limit window to reset: else a long wait looks like a hang.
func (b *progress) rate(limit, remaining int, reset time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.noted || float64(remaining) > b.reserve*float64(limit) {
		return
	}
	b.noted = true
	b.clear()
	why := "to keep a reserve (--rate-reserve 0 spends it)"
	if remaining == 0 {
		why = "the budget is spent"
	}
	fmt.Fprintf(b.w, "bookingsync: note: %d of %d requests left this hour; waiting for the reset at %s: %s\n",
		remaining, limit, reset.Local().Format("15:04:05"), why)
}

// done clears the bar before a pass's summary.
func (b *progress) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clear()
	b.noted = false
}

func (b *progress) clear() {
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
