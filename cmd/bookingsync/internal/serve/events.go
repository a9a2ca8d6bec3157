package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// keepAlive is how often an idle stream sends a comment, so that proxies
// keep it open and a vanished browser is noticed.
const keepAlive = 20 * time.Second

// eventBatch is how many changes one read of the feed takes.
const eventBatch = 500

// events is GET /events: the session's account's change feed
// (Store.Changes) as server-sent events, one "change" event per change,
// its id the change's Seq. A browser reconnecting sends the last id it saw
// as Last-Event-ID and the stream resumes after it, so no change is
// missed across a reconnect, to this replica or another; a stream opened
// afresh starts at the latest change. A reader behind the feed's
// retention gets a "reload" event. The stream waits on the feed
// (Store.WaitChanges: LISTEN/NOTIFY on Postgres) and ends when the
// browser goes or the server stops.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r)
	if sess == nil {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	after, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if err != nil || after < 0 {
		if after, err = s.st.LastChange(ctx, sess.Account); err != nil {
			s.failed(w, r, err)
			return
		}
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// The retry hint, and a first write so that the browser sees the
	// stream open.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	for {
		changes, err := s.st.Changes(ctx, sess.Account, after, eventBatch)
		if errors.Is(err, inboxsync.ErrChangesExpired) {
			// Behind the retention: the page reads the copy afresh.
			if after, err = s.st.LastChange(ctx, sess.Account); err == nil {
				_, err = fmt.Fprintf(w, "id: %d\nevent: reload\ndata: {}\n\n", after)
			}
		} else if err == nil {
			for _, c := range changes {
				if err = writeChange(w, c); err != nil {
					break
				}
				after = c.Seq
			}
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("event stream", "account", sess.Account, "error", err.Error())
			}
			return
		}
		if len(changes) == eventBatch {
			continue // more are waiting
		}
		wctx, stop := context.WithTimeout(ctx, keepAlive)
		err = s.st.WaitChanges(wctx, sess.Account, after)
		stop()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, context.DeadlineExceeded):
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case err != nil:
			s.log.Warn("event stream", "account", sess.Account, "error", err.Error())
			return
		}
	}
}

// writeChange writes one change as an event: what changed, not what it
// holds (the page reads it from itself).
func writeChange(w http.ResponseWriter, c inboxsync.Change) error {
	data, _ := json.Marshal(struct {
		Resource string `json:"resource"`
		ID       int64  `json:"id"`
		Deleted  bool   `json:"deleted,omitempty"`
	}{c.Resource, c.ID, c.Deleted})
	_, err := fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", c.Seq, data)
	return err
}
