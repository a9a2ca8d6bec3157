package bookingsync

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// resource is the one implementation of the API's CRUD shapes, shared by
// every service: path relative to the API root, key the envelope's plural
// resource name, scope the OAuth scope a 403 names (see needs).
type resource[T any] struct {
	c     *Client
	path  string
	key   string
	scope string
}

// newResource is the resource at path whose records the envelope holds
// under key; it needs no scope until needs names one.
func newResource[T any](c *Client, path, key string) resource[T] {
	return resource[T]{c: c, path: path, key: key}
}

// needs names the scope that reading the resource takes: a 403 on a GET
// then comes back as a *ScopeError that says so.
func (r resource[T]) needs(scope string) resource[T] {
	r.scope = scope
	return r
}

// list fetches one page; opts is a pointer to an options struct or nil.
func (r resource[T]) list(ctx context.Context, opts any) ([]*T, *Response, error) {
	q, err := encodeQuery(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("bookingsync: encoding %s options: %w", r.key, err)
	}
	p := r.path
	if q != "" {
		p += "?" + q
	}
	return r.do(ctx, http.MethodGet, p, nil)
}

// get fetches the record with the given id; opts as for list.
func (r resource[T]) get(ctx context.Context, id int64, opts any) (*T, *Response, error) {
	if err := checkID(r.key, id); err != nil {
		return nil, nil, err
	}
	q, err := encodeQuery(opts)
	if err != nil {
		return nil, nil, err
	}
	p := r.path + "/" + strconv.FormatInt(id, 10)
	if q != "" {
		p += "?" + q
	}
	return r.one(ctx, http.MethodGet, p, nil)
}

// maxIDsPerRequest bounds GetMany's path: ids beyond it go in further
// requests.
const maxIDsPerRequest = 100

// getMany fetches the records with the given ids, joined by commas in the
// path, maxIDsPerRequest at a time. Unknown ids are simply absent. Every id
// and the options are checked before the first request.
func (r resource[T]) getMany(ctx context.Context, ids []int64, opts any) ([]*T, *Response, error) {
	if err := checkID(r.key, ids...); err != nil {
		return nil, nil, err
	}
	q, err := encodeQuery(opts)
	if err != nil {
		return nil, nil, err
	}
	if q != "" {
		q = "?" + q
	}
	var all []*T
	var last *Response
	for len(ids) > 0 {
		n := min(len(ids), maxIDsPerRequest)
		var b strings.Builder
		for i, id := range ids[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		ids = ids[n:]
		items, resp, err := r.do(ctx, http.MethodGet, r.path+"/"+b.String()+q, nil)
		last = resp
		if err != nil {
			return nil, resp, err
		}
		all = append(all, items...)
	}
	return all, last, nil
}

// create POSTs body in the envelope and returns the record created.
func (r resource[T]) create(ctx context.Context, body any) (*T, *Response, error) {
	return r.one(ctx, http.MethodPost, r.path, envelope{r.key, body})
}

// update PUTs body in the envelope to path/id.
func (r resource[T]) update(ctx context.Context, id int64, body any) (*T, *Response, error) {
	if err := checkID(r.key, id); err != nil {
		return nil, nil, err
	}
	return r.one(ctx, http.MethodPut, r.path+"/"+strconv.FormatInt(id, 10), envelope{r.key, body})
}

// action PUTs {key: [{"id": ref}]} to path/id/name: connect_booking,
// add_attachment.
func (r resource[T]) action(ctx context.Context, id int64, name, key string, ref int64) (*T, *Response, error) {
	if err := checkID(r.key, id); err != nil {
		return nil, nil, err
	}
	if err := checkID(key, ref); err != nil {
		return nil, nil, err
	}
	body := envelope{key, struct {
		ID int64 `json:"id"`
	}{ref}}
	return r.one(ctx, http.MethodPut, r.path+"/"+strconv.FormatInt(id, 10)+"/"+name, body)
}

// one is do for an answer of one record: an answer without it is a
// *DecodeError, never a nil record.
func (r resource[T]) one(ctx context.Context, method, path string, body any) (*T, *Response, error) {
	items, resp, err := r.do(ctx, method, path, body)
	if err != nil {
		return nil, resp, err
	}
	if len(items) == 0 || items[0] == nil {
		return nil, resp, &DecodeError{Method: method, Path: resp.Request.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID,
			Err: fmt.Errorf("response holds no %s", r.key)}
	}
	return items[0], resp, nil
}

// do sends the request and reads the records under the key; a 403 on a
// read becomes a *ScopeError when the resource needs a scope.
func (r resource[T]) do(ctx context.Context, method, path string, body any) ([]*T, *Response, error) {
	req, err := r.c.NewRequest(ctx, method, path, body)
	if err != nil {
		return nil, nil, err
	}
	p := page[T]{key: r.key}
	resp, err := r.c.Do(req, &p)
	if err != nil {
		if method == http.MethodGet {
			err = missingScope(r.scope, err)
		}
		return nil, resp, err
	}
	return p.items, resp, nil
}
