package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// eventPoll is how often an event stream looks at the copy for changes.
const eventPoll = time.Second

// keepAlive is how often an idle stream sends a comment, so that proxies
// keep it open and a vanished browser is noticed.
const keepAlive = 20 * time.Second

// events is GET /events: a text/event-stream of the session's account's
// changes. Each "change" event's id is the position to resume from
// (EventSource sends it back as Last-Event-ID): a stream resumed from an
// older position tells of a change at once. It ends when the browser
// goes or the server stops.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r)
	if sess == nil {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	seen := r.Header.Get("Last-Event-ID")
	if seen == "" {
		var err error
		if seen, err = s.position(r.Context(), sess.Account); err != nil {
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
	poll := time.NewTicker(eventPoll)
	defer poll.Stop()
	idle := time.NewTimer(keepAlive)
	defer idle.Stop()
	for {
		var write string
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-idle.C:
			write = ": keep-alive\n\n"
		case <-poll.C:
			pos, err := s.position(r.Context(), sess.Account)
			if err != nil {
				if r.Context().Err() == nil {
					s.log.Warn("event stream", "account", sess.Account, "error", err.Error())
				}
				return
			}
			if pos == seen {
				continue
			}
			seen = pos
			write = "id: " + pos + "\nevent: change\ndata: {}\n\n"
		}
		if _, err := fmt.Fprint(w, write); err != nil || rc.Flush() != nil {
			return
		}
		idle.Reset(keepAlive)
	}
}

// positionTables are the tables the pages read.
var positionTables = []string{"conversations", "participants", "messages", "hosts", "bookings", "clients", "rentals"}

// position sums up the account's copy of what the pages show (per table:
// how many records, the newest id, the latest updated_at) in a short
// opaque string that changes when a record is added or updated.
func (s *Server) position(ctx context.Context, account int64) (string, error) {
	sum := sha256.New()
	for _, table := range positionTables {
		q := "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(CAST(MAX(updated_at) AS TEXT), '') FROM " + table + " WHERE account_id = ?"
		if s.st.Dialect() == "postgres" {
			q = strings.Replace(q, "?", "$1", 1)
		}
		var n, maxID int64
		var latest string
		if err := s.st.DB().QueryRowContext(ctx, q, account).Scan(&n, &maxID, &latest); err != nil {
			return "", err
		}
		fmt.Fprintf(sum, "%s %d %d %s\n", table, n, maxID, latest)
	}
	return hex.EncodeToString(sum.Sum(nil)[:8]), nil
}
