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

// typedPage is implemented, on a nil receiver, by the models of the hot
// listings (conversations, messages): decodeTypedPage reads the envelope
// as a typed page in godo's manner (dropletsRoot), its key spelled in a
// tag, in one json.Unmarshal straight into the model's wire struct. That
// tag is the model's one plural; the resource's key must be the same.
// Other models go through the walk of decodePage.
type typedPage[T any] interface {
	decodeTypedPage(body []byte) ([]*T, Meta, error)
}

// decodePage reads the records of the envelope's key and its meta: through
// the model's typed page when it has one, else by walking the top-level
// object (each element of the key's array decoded into a *T as it is
// read, meta into Meta, every other member skipped). Either way a null
// element fails the page: a record is never returned as nil, and a page is
// never returned short.
func (p *page[T]) decodePage(body []byte) (Meta, error) {
	if tp, ok := any((*T)(nil)).(typedPage[T]); ok {
		items, meta, err := tp.decodeTypedPage(body)
		p.items = items
		return meta, err
	}
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
			if p.items, err = readArray[T](dec, key); err != nil {
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

// readArray reads the array under key (null reads as none), each element
// into a new T. A null element is an error.
func readArray[T any](dec *json.Decoder, key string) ([]*T, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%s: want an array, got %v", key, tok)
	}
	var items []*T
	var it *T // one slot for the page: decoding into &it allocates each T
	for dec.More() {
		it = nil
		if err := dec.Decode(&it); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, len(items), err)
		}
		if it == nil {
			return nil, fmt.Errorf("%s[%d] is null", key, len(items))
		}
		items = append(items, it)
	}
	return items, expectDelim(dec, ']')
}

// foldAll folds the wire structs of a typed page into its models; a null
// element (nil) fails the page.
func foldAll[W, T any](key string, ws []*W, fold func(*W) (*T, error)) ([]*T, error) {
	items := make([]*T, len(ws))
	for i, w := range ws {
		if w == nil {
			return nil, fmt.Errorf("%s[%d] is null", key, i)
		}
		it, err := fold(w)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		items[i] = it
	}
	return items, nil
}

// unmarshalWire decodes b through the wire struct W into dst and folds
// it: the UnmarshalJSON of every model with a wire struct.
func unmarshalWire[W, T any](b []byte, dst *T, fold func(*W) (*T, error)) error {
	var w W
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t, err := fold(&w)
	if err != nil {
		return err
	}
	*dst = *t
	return nil
}

// noNull fails when a sideloaded list (key) holds a null: as in a page, a
// record never reaches the caller as nil.
func noNull[T any](key string, xs []*T) error {
	for i, x := range xs {
		if x == nil {
			return fmt.Errorf("%s[%d] is null", key, i)
		}
	}
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
