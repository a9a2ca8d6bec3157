package bookingsync

import (
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Attachment is a file attached to messages.
type Attachment struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// URL is the file's address as the API wrote it; it may be relative to
	// the site root. See Client.AttachmentURL.
	URL             string    `json:"url"`
	FileSize        int64     `json:"file_size"`
	FileContentType string    `json:"file_content_type"`
	ImageWidth      *int      `json:"image_width"`
	ImageHeight     *int      `json:"image_height"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`

	Links AttachmentLinks `json:"links"`
}

// AttachmentLinks are an attachment's associations.
type AttachmentLinks struct {
	Account  int64   `json:"account"`
	Messages []int64 `json:"messages"`
}

func (s *AttachmentsService) res() resource[Attachment] {
	return newResource[Attachment](s.client, "inbox/attachments", "attachments").needs(ScopeInboxRead)
}

// List returns one page of attachments.
//
// GET /inbox/attachments
func (s *AttachmentsService) List(ctx context.Context, opts *ListOptions) ([]*Attachment, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every attachment, page after page, fetching lazily.
//
// GET /inbox/attachments?page={n}
func (s *AttachmentsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Attachment, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one attachment.
//
// GET /inbox/attachments/{id}
func (s *AttachmentsService) Get(ctx context.Context, id int64) (*Attachment, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the attachments with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /inbox/attachments/{id},{id},…
func (s *AttachmentsService) GetMany(ctx context.Context, ids []int64) ([]*Attachment, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /inbox/attachments/{id}?fields=…
func (s *AttachmentsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Attachment, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /inbox/attachments/{id},{id},…?fields=…
func (s *AttachmentsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Attachment, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}

// MaxAttachmentSize is the largest file the API accepts, 10 MB; larger
// files are refused locally with ErrInvalidRequest.
const MaxAttachmentSize = 10 * 1024 * 1024

// NewAttachment is the body of Attachments.Create: a name and exactly one
// of RemoteFileURL (the API fetches the file) or File (the bytes, sent as a
// data:<type>;base64, URI, at most MaxAttachmentSize).
//
// ContentType is File's media type ("image/jpeg"); its parameters are
// dropped, as data URIs carry the bare type. When empty it is sniffed from
// the bytes with http.DetectContentType, which falls back to
// "application/octet-stream".
type NewAttachment struct {
	Name          string
	RemoteFileURL string
	File          []byte
	ContentType   string
}

// AttachmentUpdate is what Attachments.Update may change: the same fields
// as NewAttachment, each optional (empty is left as it is), with at most
// one of RemoteFileURL or File.
type AttachmentUpdate NewAttachment

// attachmentBody is the wire form of both.
type attachmentBody struct {
	Name          string `json:"name,omitempty"`
	RemoteFileURL string `json:"remote_file_url,omitempty"`
	File          string `json:"file,omitempty"`
}

// body validates a and encodes it; create requires a name and a file.
func (a *NewAttachment) body(what string, create bool) (*attachmentBody, error) {
	if a == nil {
		if create {
			return nil, invalid(what, "nil")
		}
		return &attachmentBody{}, nil
	}
	var pr []string
	if create && strings.TrimSpace(a.Name) == "" {
		pr = append(pr, "missing name")
	}
	hasURL, hasFile := a.RemoteFileURL != "", len(a.File) > 0
	switch {
	case hasURL && hasFile:
		pr = append(pr, "both remote file URL and file bytes given; give one")
	case create && !hasURL && !hasFile:
		pr = append(pr, "missing file: give a remote file URL or file bytes")
	}
	if hasURL {
		if u, err := url.Parse(a.RemoteFileURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			pr = append(pr, "remote file URL must be an absolute http(s) URL")
		}
	}
	if len(a.File) > MaxAttachmentSize {
		pr = append(pr, fmt.Sprintf("file of %d bytes is over the API's limit of %d bytes (10 MB)", len(a.File), MaxAttachmentSize))
	}
	ct := a.ContentType
	if hasFile && strings.TrimSpace(ct) == "" {
		ct = http.DetectContentType(a.File)
	}
	if hasFile {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !strings.Contains(mt, "/") {
			pr = append(pr, fmt.Sprintf("content type %q is not a media type", truncate(ct, 60)))
		}
		ct = mt
	}
	if err := invalid(what, pr...); err != nil {
		return nil, err
	}
	b := &attachmentBody{Name: a.Name, RemoteFileURL: a.RemoteFileURL}
	if hasFile {
		b.File = "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(a.File)
	}
	return b, nil
}

// Create uploads an attachment, to be attached to messages
// (NewMessage.AttachmentIDs or Messages.AddAttachment). An invalid
// attachment (see NewAttachment) fails with ErrInvalidRequest before any
// request.
//
// POST /inbox/attachments
func (s *AttachmentsService) Create(ctx context.Context, a *NewAttachment) (*Attachment, *Response, error) {
	b, err := a.body("new attachment", true)
	if err != nil {
		return nil, nil, err
	}
	return s.res().create(ctx, b)
}

// Update renames an attachment or replaces its file.
//
// PUT /inbox/attachments/{id}
func (s *AttachmentsService) Update(ctx context.Context, id int64, u *AttachmentUpdate) (*Attachment, *Response, error) {
	b, err := (*NewAttachment)(u).body("attachment update", false)
	if err != nil {
		return nil, nil, err
	}
	return s.res().update(ctx, id, b)
}

// AttachmentURL returns the attachment's absolute URL: a relative url
// value ("/path/to/file", "path/to/file") is resolved against the client's
// site root (BaseURL); an absolute one is returned as it is. a.URL is not
// changed. An empty, malformed or non-http(s) URL is an error wrapping
// ErrInvalidRequest.
func (c *Client) AttachmentURL(a *Attachment) (*url.URL, error) {
	if a == nil || strings.TrimSpace(a.URL) == "" {
		return nil, invalid("attachment URL", "attachment has no url")
	}
	ref, err := url.Parse(strings.TrimSpace(a.URL))
	if err != nil {
		return nil, invalid("attachment URL", fmt.Sprintf("malformed url %q", truncate(a.URL, 80)))
	}
	base := c.BaseURL()
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, invalid("attachment URL", fmt.Sprintf("url scheme %q is not http(s)", u.Scheme))
	}
	return u, nil
}
