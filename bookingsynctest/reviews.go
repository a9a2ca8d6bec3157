package bookingsynctest

import (
	"fmt"
	"strconv"
	"strings"
)

// review is a guest's review of a stay; reviewReply the host's answer.
type review struct {
	base
	booking, rental, reply int64
	rating                 int
	title, comment, name   string
	country                string
	dismissed              int64
}

type reviewReply struct {
	base
	review  int64
	message string
}

func init() {
	// The reference reads reviews with the public scope.
	register(&kind{plural: "reviews", singular: "review", path: "reviews",
		links: tmpl("reviews", "source", "sources/{reviews.source}", "reply", "review_replies/{reviews.reply}",
			"booking", "bookings/{reviews.booking}", "rental", "rentals/{reviews.rental}", "account", "accounts/{reviews.account}"),
		table:  func(d *db) store { return d.revs },
		events: events{created: "review_created", updated: "review_updated"}})
	// Review replies are in the recordings, not the reference: their ids
	// are UUIDs, and they are read with the public scope here (a guess).
	register(&kind{plural: "review_replies", singular: "review_reply", path: "review_replies",
		links: tmpl("review_replies", "guest_review", "reviews/{review_replies.guest_review}",
			"host_review", "host_reviews/{review_replies.host_review}"),
		table: func(d *db) store { return d.replies }, ids: parseReplyIDs,
		events: events{created: "review_reply_created"}})
}

// render writes what the recordings of 2021 show (the reference's example
// is older and shorter); the criteria are all null.
func (r *review) render(_ *db, rc *rctx) obj {
	var reply any
	if r.reply != 0 {
		reply = replyID(r.reply)
	}
	criteria := obj{}
	for _, c := range []string{"cleanliness", "checkin", "communication", "location", "facilities", "comfort", "staff", "value_for_money", "accuracy"} {
		criteria = append(criteria, field{c, nil})
	}
	return obj{
		{"links", obj{{"account", rc.account}, {"booking", nullID(r.booking)}, {"rental", nullID(r.rental)}, {"reply", reply}, {"source", nil}}},
		{"id", r.id}, {"rating", r.rating}, {"comment", r.comment}, {"name", r.name}, {"title", r.title},
		{"country_code", nullStr(r.country)}, {"created_at", tm(r.created)}, {"updated_at", tm(r.updated)},
		{"rating_accurate", strconv.Itoa(r.rating) + ".0"}, {"shareable", true}, {"private_comment", nil},
		{"dismissed_at", tm(r.dismissed)}, {"dismissed_by", nil}, {"dismissal_reason", nil}, {"criteria", criteria},
	}
}

func (rr *reviewReply) render(*db, *rctx) obj {
	return obj{
		{"links", obj{{"guest_review", rr.review}, {"host_review", nil}}},
		{"id", replyID(rr.id)}, {"message", rr.message}, {"submitted_at", nil},
		{"created_at", tm(rr.created)}, {"updated_at", tm(rr.updated)},
	}
}

// replyPrefix makes a table id a UUID, the form the recorded replies' ids
// have.
const replyPrefix = "00000000-0000-4000-8000-"

func replyID(id int64) string { return fmt.Sprintf("%s%012d", replyPrefix, id) }

// parseReplyIDs reads a comma list of reply UUIDs.
func parseReplyIDs(v string) ([]int64, bool) {
	var out []int64
	for _, p := range splitComma(v) {
		n, err := strconv.ParseInt(strings.TrimPrefix(p, replyPrefix), 10, 64)
		if !strings.HasPrefix(p, replyPrefix) || err != nil || n <= 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, len(out) > 0
}

// reviewsOf lists the reviews of a rental.
func reviewsOf(d *db, rentalID int64) []int64 {
	var out []int64
	for _, id := range d.revs.ids {
		if d.revs.rows[id].rental == rentalID {
			out = append(out, id)
		}
	}
	return out
}

// ReviewSeed describes a guest's review for AddReview.
type ReviewSeed struct {
	BookingID int64
	Rating    int // 1 to 5 (default 5)
	Title     string
	Comment   string
	// Name is the reviewer as shown ("Emma D."); Reply, when set, is the
	// host's answer (a review reply).
	Name, Reply string
}

// AddReview adds a guest's review of a booking (its rental follows from
// it) and returns its id; review_created (and review_reply_created for a
// Reply) webhooks are delivered.
func (a *Account) AddReview(rs ReviewSeed) (id int64) {
	var hooks [][2]any
	a.change(func(o op) {
		r := &review{base: base{created: o.now, updated: o.now}, booking: rs.BookingID, rating: rs.Rating,
			title: rs.Title, comment: rs.Comment, name: rs.Name}
		if r.rating == 0 {
			r.rating = 5
		}
		if b := o.d.books.rows[rs.BookingID]; b != nil {
			r.rental = b.rental
		}
		id = addReview(o.d, r, rs.Reply, o.now)
		hooks = append(hooks, [2]any{"review_created", a.notify("reviews", "review_created", r)})
		if r.reply != 0 {
			hooks = append(hooks, [2]any{"review_reply_created", a.notify("review_replies", "review_reply_created", o.d.replies.rows[r.reply])})
		}
	})
	for _, h := range hooks {
		a.deliver(h[0].(string), h[1].([]byte))
	}
	return id
}

// addReview stores r and, when reply is not empty, the host's reply.
func addReview(d *db, r *review, reply string, now int64) int64 {
	id := d.revs.add(r)
	if reply != "" {
		r.reply = d.replies.add(&reviewReply{base: base{created: now, updated: now}, review: id, message: reply})
	}
	return id
}
