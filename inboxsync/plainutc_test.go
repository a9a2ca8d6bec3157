package inboxsync

import (
	"fmt"
	"testing"
	"time"
)

// isPlainUTC accepts exactly what time.Parse accepts in the API's usual
// form, 20 bytes ending in Z: every day of leap and common years, and
// every edge of each field; other RFC 3339 forms go the parsing way.
func TestIsPlainUTCAgreesWithTimeParse(t *testing.T) {
	t.Parallel()
	check := func(s string) {
		_, err := time.Parse(time.RFC3339, s)
		if got, want := isPlainUTC(s), err == nil && len(s) == 20 && s[19] == 'Z'; got != want {
			t.Errorf("isPlainUTC(%q) = %v, time.Parse error %v", s, got, err)
		}
	}
	for _, year := range []int{0, 1, 1900, 1999, 2000, 2023, 2024, 2100, 2400, 9999} {
		for month := 0; month <= 13; month++ {
			for day := 0; day <= 32; day++ {
				check(fmt.Sprintf("%04d-%02d-%02dT12:30:30Z", year, month, day))
			}
		}
	}
	for _, hms := range [][3]int{{0, 0, 0}, {23, 59, 59}, {24, 0, 0}, {23, 60, 0}, {23, 59, 60}, {99, 99, 99}} {
		check(fmt.Sprintf("2024-02-29T%02d:%02d:%02dZ", hms[0], hms[1], hms[2]))
	}
	for _, s := range []string{"2024-02-29T12:30:30z", "2024-02-29 12:30:30Z", "2024-0a-29T12:30:30Z", "-024-02-29T12:30:30Z",
		"2024-02-29T12:30:30+00:00", "2024-02-29T12:30:30.5Z", "+2024-02-29T12:30:3Z", "2024-02-29T1:30:300Z"} {
		check(s)
	}
}
