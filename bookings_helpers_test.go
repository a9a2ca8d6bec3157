package bookingsync

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// writeEnvelope answers with the API's envelope {"<key>": items, "meta": meta}.
func writeEnvelope(w http.ResponseWriter, key string, items any, meta map[string]any) {
	if meta == nil {
		meta = map[string]any{}
	}
	w.Header().Set("Content-Type", "application/vnd.api+json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"links": map[string]any{}, key: items, "meta": meta})
}

// setRate writes the rate-limit headers.
func setRate(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// bookingJSON is a minimal booking payload with the given conversations.
func bookingJSON(id int64, conversations ...int64) map[string]any {
	if conversations == nil {
		conversations = []int64{}
	}
	return map[string]any{
		"id":       id,
		"status":   "Booked",
		"start_at": "2026-07-10T16:00:00Z",
		"end_at":   "2026-07-17T10:00:00Z",
		"links":    map[string]any{"account": 1, "rental": 16, "conversations": conversations},
	}
}

func conversationJSON(id int64) map[string]any {
	return map[string]any{
		"id": id, "subject": "Booking " + strconv.FormatInt(id, 10), "default_channel": "booking-com",
		"created_by_id": 9, "created_by_type": "Doorkeeper::Application",
		"links": map[string]any{"account": 1, "bookings": []int64{80}},
	}
}
