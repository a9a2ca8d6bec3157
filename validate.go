package bookingsync

import (
	"fmt"
	"strings"
)

func checkID(kind string, id int64) error {
	if id <= 0 {
		return fmt.Errorf("%w: %s id %d: ids are positive", ErrInvalidRequest, kind, id)
	}
	return nil
}

func checkIDs(kind string, ids []int64) []string {
	for _, id := range ids {
		if id <= 0 {
			return []string{fmt.Sprintf("%s id %d: ids are positive", kind, id)}
		}
	}
	return nil
}

// invalid returns an error wrapping ErrInvalidRequest that lists the
// problems found in what, or nil when there are none.
func invalid(what string, problems ...string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidRequest, what, strings.Join(problems, "; "))
}
