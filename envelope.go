package bookingsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The API's envelope, both ways: a request body is {"<key>": [body]}; a
// response is {"links": …, "<key>": [item, …], "meta": {…}}.

// envelope writes a request body the API's way: {"key": [body]}.
type envelope struct {
	key  string
	body any
}

func (e envelope) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(e.body)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(e.key)+8)
	out = strconv.AppendQuote(append(out, '{'), e.key)
	out = append(out, ':', '[')
	out = append(out, b...)
	return append(out, ']', '}'), nil
}

// pageDecoder is a Do target that reads the envelope itself: page[T].
type pageDecoder interface {
	decodePage(body []byte) (Meta, error)
}

// page is the records of one response, read from the envelope's key.
type page[T any] struct {
	key   string
	items []*T
}

// decodePage walks the envelope's top-level object: each element of the
// key's array is decoded into a *T in the same single pass of
// encoding/json that reads it (see itemDecoder), meta into Meta, and
// every other member is skipped. A null element fails the page: a record
// is never returned as nil, and a page is never returned short.
func (p *page[T]) decodePage(body []byte) (Meta, error) {
	var meta Meta
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := expectDelim(dec, '{'); err != nil {
		return meta, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return meta, err
		}
		switch key, _ := tok.(string); key {
		case p.key:
			if p.items, err = decodeItems[T](dec, key); err != nil {
				return meta, err
			}
		case "meta":
			if err := dec.Decode(&meta); err != nil {
				return meta, fmt.Errorf("meta: %w", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return meta, err
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return meta, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return meta, errors.New("data after the envelope")
	}
	return meta, nil
}

// decodeItems reads the array under key, each element into a new T, or
// into the model's wire struct when it has one (see itemsDecoder).
func decodeItems[T any](dec *json.Decoder, key string) ([]*T, error) {
	if d, ok := any((*T)(nil)).(itemsDecoder[T]); ok {
		return d.decodeItems(dec, key)
	}
	return readArray(dec, key, func(t *T) *T { return t })
}

// itemsDecoder is implemented by models whose wire form holds more than
// their fields (the creator attributes, see creatorAttrs): decodeItems
// reads the array into the wire struct W with readArray and returns the
// models its fold finds inside. It is called on a nil receiver.
type itemsDecoder[T any] interface {
	decodeItems(dec *json.Decoder, key string) ([]*T, error)
}

// readArray reads the array under key (null reads as none), each element
// into a new W, and returns fold of each. A null element is an error.
func readArray[W, T any](dec *json.Decoder, key string, fold func(*W) *T) ([]*T, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%s: want an array, got %v", key, tok)
	}
	var items []*T
	var w *W // one slot for the page: decoding into &w allocates each W
	for dec.More() {
		w = nil
		if err := dec.Decode(&w); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, len(items), err)
		}
		if w == nil {
			return nil, fmt.Errorf("%s[%d] is null", key, len(items))
		}
		items = append(items, fold(w))
	}
	return items, expectDelim(dec, ']')
}

// unmarshalWire decodes b through the wire struct W into dst and folds
// it: the UnmarshalJSON of every model with a wire struct.
func unmarshalWire[W, T any](b []byte, dst *T, fold func(*W) *T) error {
	var w W
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*dst = *fold(&w)
	return nil
}

// creatorAttrs are the created_by_id/created_by_type attributes of
// conversations, messages and bookings; every model's wire struct embeds
// them, and its fold calls resolve.
type creatorAttrs struct {
	CreatedByID   flexInt `json:"created_by_id"`
	CreatedByType string  `json:"created_by_type"`
}

// resolve is the creator, from the first wire form present: the
// attributes, a created_by object, the created_by link.
func (a creatorAttrs) resolve(obj Polymorphic, link *Polymorphic) Polymorphic {
	switch {
	case a.CreatedByID != 0 || a.CreatedByType != "":
		return Polymorphic{ID: int64(a.CreatedByID), Type: a.CreatedByType}
	case !obj.IsZero():
		return obj
	case link != nil:
		return *link
	}
	return Polymorphic{}
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}
