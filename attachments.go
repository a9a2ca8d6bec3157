package bookingsync

import (
	"context"
	"iter"
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
	return newResource[Attachment](s.client, "inbox/attachments", "attachments")
}

// List returns one page of attachments.
func (s *AttachmentsService) List(ctx context.Context, opts *ListOptions) ([]*Attachment, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every attachment, page after page.
func (s *AttachmentsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Attachment, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one attachment.
func (s *AttachmentsService) Get(ctx context.Context, id int64) (*Attachment, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the attachments with the given ids.
func (s *AttachmentsService) GetMany(ctx context.Context, ids []int64) ([]*Attachment, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}
