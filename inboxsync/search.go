package inboxsync

import (
	"strings"
	"unicode"
)

// maxSearchWords bounds the words of one InboxQuery.Search.
const maxSearchWords = 16

// searchWords splits a search into its words: runs of letters and digits,
// at most maxSearchWords.
func searchWords(s string) []string {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	return words
}
