package bookingsync

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttachmentsReadFixtures(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/attachments", serveFixture(t, 200, "attachments/inbox_read-inbox_write-scope-response.json"))
	s.mux.HandleFunc("GET /inbox/attachments/{ids}", serveFixture(t, 200, "attachments/inbox_write-scope-response.json"))

	list, _, err := c.Attachments.List(inboxCtx, nil)
	require.NoError(t, err)
	a := list[0]
	assert.EqualValues(t, 1, a.ID)
	assert.Equal(t, "example.jpg", a.Name)
	assert.EqualValues(t, 1400, a.FileSize)
	assert.Equal(t, "text/plain", a.FileContentType)
	require.NotNil(t, a.ImageWidth)
	assert.Equal(t, 120, *a.ImageWidth)
	require.NotNil(t, a.ImageHeight)
	assert.Equal(t, 480, *a.ImageHeight)
	assert.EqualValues(t, 1, a.Links.Account)
	u, err := c.AttachmentURL(a)
	require.NoError(t, err)
	assert.EqualValues(t, s.URL+"/path/to/image/example", u.String(), "AttachmentURL = %s", u)
	assert.EqualValues(t, "/path/to/image/example", a.URL, "raw URL changed to %q", a.URL)

	got, _, err := c.Attachments.Get(inboxCtx, 1)
	require.NoError(t, err)
	assert.Nil(t, got.ImageWidth)
	assert.Equal(t, "url/to/the/file", got.URL)
	u, err = c.AttachmentURL(got)
	require.NoError(t, err, "AttachmentURL(relative path)")
	assert.Equal(t, s.URL+"/url/to/the/file", u.String())
	_, _, err = c.Attachments.GetMany(inboxCtx, []int64{1, 2})
	require.NoError(t, err)
	p := s.last("GET", "inbox/attachments/").Path
	assert.EqualValues(t, "/api/v3/inbox/attachments/1,2", p, "GetMany path %q", p)
}

func TestAttachmentURL(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithBaseURL("https://sandbox.example.com/"))
	require.NoError(t, err)
	ok := map[string]string{
		"/uploads/a.jpg":                    "https://sandbox.example.com/uploads/a.jpg",
		"uploads/a%20b.jpg":                 "https://sandbox.example.com/uploads/a%20b.jpg",
		"https://cdn.example.net/x.png?s=1": "https://cdn.example.net/x.png?s=1",
		"//cdn.example.net/y.png":           "https://cdn.example.net/y.png",
		" /padded.txt ":                     "https://sandbox.example.com/padded.txt",
	}
	for raw, want := range ok {
		a := &Attachment{URL: raw}
		u, err := c.AttachmentURL(a)
		require.NoError(t, err, "AttachmentURL(%q)", raw)
		assert.Equal(t, want, u.String(), "AttachmentURL(%q)", raw)
		assert.EqualValues(t, raw, a.URL, "raw URL changed")
	}
	for _, raw := range []string{"", "  ", "javascript:alert(1)", "ftp://example.com/x", "http://[::1"} {
		_, err := c.AttachmentURL(&Attachment{URL: raw})
		assert.ErrorIs(t, err, ErrInvalidRequest, "AttachmentURL(%q) err = %v", raw, err)
	}
	_, err = c.AttachmentURL(nil)
	assert.ErrorIs(t, err, ErrInvalidRequest, "AttachmentURL(nil) err = %v", err)
}

// sentFile decodes the data URI of the last attachment request.
func sentFile(t *testing.T, s *testServer, method string) (name, mediaType string, data []byte) {
	t.Helper()
	got := inboxBodyItem(t, s.last(method, "inbox/attachments").Body, "attachments")
	uri, _ := got["file"].(string)
	head, b64, ok := strings.Cut(uri, ",")
	require.True(t, ok, "file %q is not a data:<type>;base64, URI", truncate(uri, 60))
	require.True(t, strings.HasPrefix(head, "data:"), "file %q is not a data:<type>;base64, URI", truncate(uri, 60))
	require.True(t, strings.HasSuffix(head, ";base64"), "file %q is not a data:<type>;base64, URI", truncate(uri, 60))
	data, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	name, _ = got["name"].(string)
	return name, strings.TrimSuffix(strings.TrimPrefix(head, "data:"), ";base64"), data
}

func TestAttachmentsCreateFile(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("POST /inbox/attachments", serveFixture(t, 201, "attachments/inbox_write-scope-response.json"))
	file := []byte("here goes the file\n")
	a, _, err := c.Attachments.Create(inboxCtx, &NewAttachment{Name: "filename", File: file, ContentType: "text/plain; charset=utf-8"})
	require.NoError(t, err)
	assert.EqualValues(t, 1, a.ID)
	assert.Nil(t, a.ImageWidth)
	// Same keys as the fixture's request.
	want := inboxBodyItem(t, fixture(t, "attachments/create-request.json"), "attachments")
	got := inboxBodyItem(t, s.last("POST", "inbox/attachments").Body, "attachments")
	assert.Len(t, got, len(want), "fixture %v", want)
	assert.Equal(t, want["name"], got["name"])
	assert.NotNil(t, got["file"])
	name, mt, data := sentFile(t, s, "POST")
	assert.Equal(t, "filename", name)
	assert.Equal(t, "text/plain", mt)
	assert.Equal(t, file, data)
}

func TestAttachmentsCreateSniffsContentType(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("POST /inbox/attachments", serveFixture(t, 201, "attachments/inbox_write-scope-response.json"))
	png := []byte("\x89PNG\x0D\x0A\x1A\x0A\x00\x00\x00\x0DIHDR")
	_, _, err := c.Attachments.Create(inboxCtx, &NewAttachment{Name: "p.png", File: png})
	require.NoError(t, err)
	_, mt, data := sentFile(t, s, "POST")
	assert.Equal(t, "image/png", mt)
	assert.Equal(t, png, data)
}

func TestAttachmentsCreateRemoteURL(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("POST /inbox/attachments", serveFixture(t, 201, "attachments/inbox_write-scope-response.json"))
	_, _, err := c.Attachments.Create(inboxCtx, &NewAttachment{Name: "plan.pdf", RemoteFileURL: "https://files.example.com/plan.pdf"})
	require.NoError(t, err)
	assertSameJSON(t, []byte(`{"attachments":[{"name":"plan.pdf","remote_file_url":"https://files.example.com/plan.pdf"}]}`), s.last("POST", "inbox/attachments").Body)
}

func TestAttachmentsCreateAtTheLimit(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("POST /inbox/attachments", serveFixture(t, 201, "attachments/inbox_write-scope-response.json"))
	file := make([]byte, MaxAttachmentSize)
	_, _, err := c.Attachments.Create(inboxCtx, &NewAttachment{Name: "big.bin", File: file, ContentType: "application/octet-stream"})
	require.NoError(t, err, "exactly 10 MB refused: %v", err)
	_, _, data := sentFile(t, s, "POST")
	assert.EqualValues(t, MaxAttachmentSize, len(data), "sent %d bytes", len(data))
}

func TestAttachmentsCreateValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, want string
		a          *NewAttachment
	}{
		{"nil", "nil", nil},
		{"no name", "name", &NewAttachment{File: []byte("x"), ContentType: "text/plain"}},
		{"neither", "missing file", &NewAttachment{Name: "n"}},
		{"both", "both", &NewAttachment{Name: "n", File: []byte("x"), RemoteFileURL: "https://example.com/x"}},
		{"over 10 MB", "10 MB", &NewAttachment{Name: "n", File: make([]byte, MaxAttachmentSize+1), ContentType: "image/jpeg"}},
		{"bad content type", "content type", &NewAttachment{Name: "n", File: []byte("x"), ContentType: "not a type"}},
		{"relative remote URL", "remote file URL", &NewAttachment{Name: "n", RemoteFileURL: "/x.pdf"}},
		{"file remote URL", "remote file URL", &NewAttachment{Name: "n", RemoteFileURL: "file:///etc/passwd"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, s := setup(t)
			_, _, err := c.Attachments.Create(inboxCtx, tc.a)
			assertNothingSent(t, s, err, ErrInvalidRequest)
			if err != nil {
				assert.ErrorContains(t, err, tc.want)
			}
		})
	}
}

func TestAttachmentsUpdate(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("PUT /inbox/attachments/{id}", serveFixture(t, 200, "attachments/inbox_write-scope-response.json"))
	_, _, err := c.Attachments.Update(inboxCtx, 1, &AttachmentUpdate{Name: "filename", File: []byte("v2"), ContentType: "text/plain"})
	require.NoError(t, err)
	p := s.last("PUT", "inbox/attachments/").Path
	assert.EqualValues(t, "/api/v3/inbox/attachments/1", p, "path %q", p)
	want := inboxBodyItem(t, fixture(t, "attachments/update-request.json"), "attachments")
	got := inboxBodyItem(t, s.last("PUT", "inbox/attachments/").Body, "attachments")
	assert.Len(t, got, len(want), "fixture %v", want)
	assert.Equal(t, "filename", got["name"])
	_, _, err = c.Attachments.Update(inboxCtx, 1, &AttachmentUpdate{Name: "renamed"})
	require.NoError(t, err)
	assertSameJSON(t, []byte(`{"attachments":[{"name":"renamed"}]}`), s.last("PUT", "inbox/attachments/").Body)

	before := s.total()
	_, _, err = c.Attachments.Update(inboxCtx, 1, &AttachmentUpdate{File: []byte("x"), RemoteFileURL: "https://example.com/x"})
	assert.ErrorIs(t, err, ErrInvalidRequest, "both file and URL")
	assert.Equal(t, before, s.total(), "both file and URL: requests sent")
}

func TestAttachmentsOddities(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/attachments", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("attachments",
			`{"id":3,"name":null,"url":null,"file_size":null,"image_width":null,"links":{"account":1,"messages":[4,5]},"thumbnail":"x"}`))
	})
	list, _, err := c.Attachments.List(inboxCtx, nil)
	require.NoError(t, err)
	a := list[0]
	assert.EqualValues(t, 3, a.ID)
	assert.Empty(t, a.URL)
	assert.Len(t, a.Links.Messages, 2)
	_, err = c.AttachmentURL(list[0])
	assert.ErrorIs(t, err, ErrInvalidRequest, "null url: err = %v", err)
}
