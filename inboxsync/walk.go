package inboxsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"go.opentelemetry.io/otel/trace"
)

// walk lists one resource from its cursor to the end, writing each page as
// it arrives, under the resource's lease. The walk itself (paging, the
// prefetch of the client's WithPrefetch, deleted ids each applied once,
// whether the cursor it ends with misses nothing) is the client's,
// bookingsync.SyncPages; this adds the lease, the store and the spans.
func (s *Syncer) walk(ctx context.Context, r *resource, rep *Report) (ResourceReport, error) {
	rr := ResourceReport{Resource: r.name}
	ctx, span := s.tel.startWalk(ctx, r.name)
	defer span.End()
	ok, err := s.st.acquireLease(ctx, s.acct, r.name, s.holder, s.leaseTTL)
	if err != nil {
		return rr, err
	}
	if !ok {
		rr.Skipped = true
		return rr, nil
	}
	defer s.st.releaseLease(context.WithoutCancel(ctx), s.acct, r.name, s.holder)

	since, err := s.st.cursor(ctx, s.acct, r.name)
	if err != nil {
		return rr, err
	}
	if since.IsZero() {
		since = firstCursor
	}
	began := time.Now().Add(-tombstoneMargin)
	// A page's span starts with its request, which may be a prefetch
	// ahead of the pages being written, and ends once the page is
	// written; those of pages fetched and never written end with the walk.
	spans := &pageSpans{open: map[int]trace.Span{}}
	defer spans.endAll()
	list := func(ctx context.Context, o *bookingsync.ListOptions) ([][]byte, *bookingsync.Response, error) {
		ctx = spans.start(ctx, s.tel, o.Page)
		return s.fetch(ctx, r.path+"?"+pageQuery(o), r.key, rep)
	}
	_, err = bookingsync.SyncPages(ctx, s.c, since, nil, list, func(p *bookingsync.SyncPage[[]byte]) error {
		pctx := spans.context(ctx, p.Number)
		defer spans.end(p.Number)
		rr.Pages++
		w := write{holder: s.holder, leaseTTL: s.leaseTTL, since: began, unreadable: p.UnreadableDeletedIDs}
		if p.Last && p.Settled && rr.SetAside == 0 {
			w.cursor = &p.SyncedAt
		}
		n, err := s.st.apply(pctx, s.acct, r, p.Items, p.DeletedIDs, w)
		if err != nil {
			return err
		}
		s.tel.record(ctx, r.name, n.Upserted+n.Deleted)
		rr.Upserted += n.Upserted
		rr.Deleted += n.Deleted
		if len(n.SetAside) > 0 {
			// The rest of the page is written; the cursor stays before
			// these records (apply, and w.cursor above for the pages
			// after them), so the next pass lists them again.
			rr.SetAside += len(n.SetAside)
			for _, a := range n.SetAside {
				s.log.WarnContext(ctx, "inboxsync: a record set aside; the rest goes on", "account", s.acct,
					"resource", r.name, "id", a.ID, "reason", a.Reason)
			}
		}
		if p.Last {
			rr.Advanced = n.cursor
			// Records were deleted during the walk (not merely no
			// cursor given): the next pass reads the window again.
			rr.unsettled = !p.Settled && !p.SyncedAt.IsZero()
		}
		return nil
	})
	if r.scoped && forbidden(err) {
		// The token lacks the resource's scope: mirror the rest.
		rr.Forbidden = true
		return rr, nil
	}
	return rr, err
}

// pageSpans are the spans of a walk's pages, open from the page's request
// to its write. Requests ahead of the writes run on other goroutines.
type pageSpans struct {
	mu   sync.Mutex
	open map[int]trace.Span
}

// start starts page's span under ctx and returns its context.
func (ps *pageSpans) start(ctx context.Context, tel *telemetry, page int) context.Context {
	ctx, sp := tel.startPage(ctx, page)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if old := ps.open[page]; old != nil {
		old.End()
	}
	ps.open[page] = sp
	return ctx
}

// context is ctx under page's span, if it is open.
func (ps *pageSpans) context(ctx context.Context, page int) context.Context {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if sp := ps.open[page]; sp != nil {
		return trace.ContextWithSpan(ctx, sp)
	}
	return ctx
}

// end ends page's span.
func (ps *pageSpans) end(page int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if sp := ps.open[page]; sp != nil {
		sp.End()
		delete(ps.open, page)
	}
}

// endAll ends the spans still open: pages fetched and never written.
func (ps *pageSpans) endAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for page, sp := range ps.open {
		sp.End()
		delete(ps.open, page)
	}
}

// forbidden reports whether err is the API's 403 (a missing scope).
func forbidden(err error) bool { return errors.Is(err, bookingsync.ErrForbidden) }

// pageQuery is the query of the page o asks for: page, per_page and, when
// set, updated_since.
func pageQuery(o *bookingsync.ListOptions) string {
	q := url.Values{}
	if !o.UpdatedSince.IsZero() {
		q.Set("updated_since", o.UpdatedSince.UTC().Format(time.RFC3339))
	}
	q.Set("page", strconv.Itoa(o.Page))
	q.Set("per_page", strconv.Itoa(o.PerPage))
	return q.Encode()
}

// listPath is the listing of r changed since since, page page.
func listPath(r *resource, since time.Time, page int) string {
	return r.path + "?" + pageQuery(&bookingsync.ListOptions{Page: page, PerPage: bookingsync.MaxPerPage, UpdatedSince: since})
}

// rawPage is an envelope whose records are kept as the API sent them; its
// meta is read by Client.Do into Response.Meta.
type rawPage struct {
	key   string
	Items [][]byte
}

// UnmarshalJSON keeps each record of the envelope's key verbatim.
func (p *rawPage) UnmarshalJSON(b []byte) error {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	recs, ok := env[p.key]
	if !ok {
		return fmt.Errorf("no %q in the envelope", p.key)
	}
	items, err := splitArray(recs)
	if err != nil {
		return fmt.Errorf("%q: %w", p.key, err)
	}
	p.Items = items
	return nil
}

// fetch GETs path, first keeping the rate-limit reserve, and returns the
// records under key verbatim. The fetches of a walk may run at once (the
// client's WithPrefetch): rep's counts are kept under s.countMu.
func (s *Syncer) fetch(ctx context.Context, path, key string, rep *Report) ([][]byte, *bookingsync.Response, error) {
	if err := s.keepReserve(ctx, rep); err != nil {
		return nil, nil, err
	}
	req, err := s.c.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return nil, nil, err
	}
	page := &rawPage{key: key}
	s.countMu.Lock()
	rep.Requests++
	s.countMu.Unlock()
	resp, err := s.c.Do(req, page)
	if err != nil {
		return nil, resp, err
	}
	return page.Items, resp, nil
}

// keepReserve waits for the rate-limit reset when the last response left
// no more than the reserve, and adds the wait to rep.Waited. Fetches
// running at once wait in turn: the first waits for the reset, and those
// after it find the reset past and go on, so that one wait counts once.
func (s *Syncer) keepReserve(ctx context.Context, rep *Report) error {
	s.reserveMu.Lock()
	defer s.reserveMu.Unlock()
	r := s.c.Rate()
	if s.reserve <= 0 || r.Limit <= 0 || float64(r.Remaining) > s.reserve*float64(r.Limit) {
		return nil
	}
	d := r.Reset.Sub(s.now())
	if d <= 0 {
		return nil
	}
	s.log.InfoContext(ctx, "inboxsync: keeping the rate-limit reserve; waiting for the reset",
		"account", s.acct, "remaining", r.Remaining, "limit", r.Limit, "wait", d.Round(time.Second))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.after(d):
		s.countMu.Lock()
		rep.Waited += d
		s.countMu.Unlock()
		return nil
	}
}

// idsPerRequest is how many application ids one id-list GET names.
const idsPerRequest = 50

// syncApplications fetches the applications that created a stored
// conversation and are not stored yet: they tell a conversation's channel
// (bookingsync.Origin). It asks for all of them, idsPerRequest to an
// id-list GET, and reads every page of each answer: the API pages an
// id-list answer as it pages a listing, and the walk is the client's
// (bookingsync.SyncPages), as for the listings. An application the
// answer misses (deleted while it was paged, say) is still missing at
// the next pass, which asks for it again.
func (s *Syncer) syncApplications(ctx context.Context, rep *Report) (ResourceReport, error) {
	rr := ResourceReport{Resource: resApplications.name, Advanced: true}
	ids, err := s.st.missingApplications(ctx, s.acct)
	if err != nil {
		return rr, err
	}
	r := resApplications
	for len(ids) > 0 {
		n := min(len(ids), idsPerRequest)
		path := idListPath(r, ids[:n])
		ids = ids[n:]
		list := func(ctx context.Context, o *bookingsync.ListOptions) ([][]byte, *bookingsync.Response, error) {
			return s.fetch(ctx, path+"?"+pageQuery(o), r.key, rep)
		}
		_, err := bookingsync.SyncPages(ctx, s.c, time.Time{}, nil, list, func(p *bookingsync.SyncPage[[]byte]) error {
			rr.Pages++
			n, err := s.st.apply(ctx, s.acct, r, p.Items, nil, write{})
			rr.Upserted += n.Upserted
			return err
		})
		switch {
		case forbidden(err):
			// No applications_read scope: the channels stay unknown;
			// not a reason to fail the pass.
			rr.Forbidden = true
			return rr, nil
		case errors.Is(err, bookingsync.ErrNotFound):
			// Gone: these channels stay unknown; the other lists may
			// still be read.
		case err != nil:
			return rr, err
		}
	}
	return rr, nil
}

// idListPath is the id-list GET of r's records with the given ids.
func idListPath(r *resource, ids []int64) string {
	b := []byte(r.path + "/")
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// missingApplications lists the applications that created a conversation
// of the account and are not stored, every one of them.
func (s *Store) missingApplications(ctx context.Context, acct int64) ([]int64, error) {
	rows, err := s.query(ctx, s.db, `SELECT DISTINCT c.created_by_id FROM conversations c
WHERE c.account_id = ? AND c.created_by_type = 'Doorkeeper::Application' AND c.created_by_id IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.account_id = c.account_id AND a.id = c.created_by_id)
ORDER BY c.created_by_id`, acct)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
