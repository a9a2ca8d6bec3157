package inboxsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"go.opentelemetry.io/otel/trace"
)

// walk lists one resource from its cursor to the end, writing each page as
// it arrives, under the resource's lease.
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
	var (
		syncedAt   time.Time
		firstTotal int
		known      = map[int64]bool{} // deleted ids already applied by this walk
		unstable   bool
	)
	pageSpan := trace.SpanFromContext(context.Background()) // none yet
	defer func() { pageSpan.End() }()
	for page := 1; ; {
		pageSpan.End() // the previous page's
		var pctx context.Context
		pctx, pageSpan = s.tel.startPage(ctx, page)
		items, resp, err := s.fetch(pctx, listPath(r, since, page), r.key, rep)
		if r.scoped && forbidden(err) {
			// The token lacks the resource's scope: mirror the rest.
			rr.Forbidden = true
			return rr, nil
		}
		if err != nil {
			return rr, err
		}
		rr.Pages++
		var deleted []int64
		for _, id := range resp.Meta.DeletedIDs {
			if !known[id] {
				known[id] = true
				deleted = append(deleted, id)
			}
		}
		if page == 1 {
			syncedAt, firstTotal = resp.SyncedAt, resp.TotalCount
		} else if len(deleted) > 0 || resp.TotalCount < firstTotal {
			// Something was deleted since the first page: the pages after
			// it shifted left, and a record may have slipped past.
			unstable = true
		}
		if resp.NextPage != 0 && resp.NextPage <= page {
			return rr, fmt.Errorf("inboxsync: listing %s: page %d links back to page %d as next", r.name, page, resp.NextPage)
		}
		last := resp.NextPage == 0
		w := write{holder: s.holder, leaseTTL: s.leaseTTL, since: began}
		if last && !unstable && rr.SetAside == 0 && !syncedAt.IsZero() {
			w.cursor = &syncedAt
		}
		n, err := s.st.apply(pctx, s.acct, r, items, deleted, w)
		if err != nil {
			return rr, err
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
		if last {
			rr.Advanced = n.cursor
			rr.unsettled = unstable
			return rr, nil
		}
		page = resp.NextPage
	}
}

// forbidden reports whether err is the API's 403 (a missing scope).
func forbidden(err error) bool { return errors.Is(err, bookingsync.ErrForbidden) }

// listPath is the listing of r changed since since, page page.
func listPath(r *resource, since time.Time, page int) string {
	q := url.Values{}
	q.Set("updated_since", since.UTC().Format(time.RFC3339))
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(bookingsync.MaxPerPage))
	return r.path + "?" + q.Encode()
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
// records under key verbatim.
func (s *Syncer) fetch(ctx context.Context, path, key string, rep *Report) ([][]byte, *bookingsync.Response, error) {
	waited, err := s.keepReserve(ctx)
	rep.Waited += waited
	if err != nil {
		return nil, nil, err
	}
	req, err := s.c.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return nil, nil, err
	}
	page := &rawPage{key: key}
	rep.Requests++
	resp, err := s.c.Do(req, page)
	if err != nil {
		return nil, resp, err
	}
	return page.Items, resp, nil
}

// keepReserve waits for the rate-limit reset when the last response left
// no more than the reserve.
func (s *Syncer) keepReserve(ctx context.Context) (time.Duration, error) {
	r := s.c.Rate()
	if s.reserve <= 0 || r.Limit <= 0 || float64(r.Remaining) > s.reserve*float64(r.Limit) {
		return 0, nil
	}
	d := r.Reset.Sub(s.now())
	if d <= 0 {
		return 0, nil
	}
	s.log.InfoContext(ctx, "inboxsync: keeping the rate-limit reserve; waiting for the reset",
		"account", s.acct, "remaining", r.Remaining, "limit", r.Limit, "wait", d.Round(time.Second))
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.after(d):
		return d, nil
	}
}

// syncApplications fetches, in one request, the applications that created
// a stored conversation and are not stored yet: they tell a conversation's
// channel (bookingsync.Origin).
func (s *Syncer) syncApplications(ctx context.Context, rep *Report) (ResourceReport, error) {
	rr := ResourceReport{Resource: resApplications.name, Advanced: true}
	ids, err := s.st.missingApplications(ctx, s.acct)
	if err != nil || len(ids) == 0 {
		return rr, err
	}
	path := resApplications.path + "/"
	for i, id := range ids {
		if i > 0 {
			path += ","
		}
		path += strconv.FormatInt(id, 10)
	}
	items, _, err := s.fetch(ctx, path, resApplications.key, rep)
	if forbidden(err) || errors.Is(err, bookingsync.ErrNotFound) {
		// No applications_read scope, or gone: the channel stays unknown;
		// not a reason to fail the pass.
		rr.Forbidden = forbidden(err)
		return rr, nil
	}
	if err != nil {
		return rr, err
	}
	rr.Pages = 1
	n, err := s.st.apply(ctx, s.acct, resApplications, items, nil, write{})
	rr.Upserted = n.Upserted
	return rr, err
}

// missingApplications lists the applications that created a conversation
// of the account and are not stored.
func (s *Store) missingApplications(ctx context.Context, acct int64) ([]int64, error) {
	rows, err := s.query(ctx, s.db, `SELECT DISTINCT c.created_by_id FROM conversations c
WHERE c.account_id = ? AND c.created_by_type = 'Doorkeeper::Application' AND c.created_by_id IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.account_id = c.account_id AND a.id = c.created_by_id)
ORDER BY c.created_by_id LIMIT 50`, acct)
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
