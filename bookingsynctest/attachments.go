package bookingsynctest

import (
	"bytes"
	"encoding/base64"
	"image"
	_ "image/gif" // image sizes of uploaded attachments
	_ "image/jpeg"
	_ "image/png"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

type attachment struct {
	base
	name, url, contentType string
	size                   int64 // -1: unknown
	width, height          int
	messages               []int64
}

func init() {
	register(&kind{plural: "attachments", singular: "attachment", path: "inbox/attachments",
		read: inboxRead, write: inboxWrite,
		links:  tmpl("attachments", "account", "accounts/{attachments.account}", "messages", "inbox/messages/{attachments.messages}"),
		table:  func(d *db) store { return d.atts },
		create: createAttachment, update: updateAttachment, remove: removeAttachment})
}

func (a *attachment) render(_ *db, rc *rctx) obj {
	var size, width, height any
	if a.size >= 0 {
		size = a.size
	}
	if a.width > 0 {
		width, height = a.width, a.height
	}
	return obj{
		{"links", obj{{"account", rc.account}, {"messages", ids(a.messages)}}},
		{"id", a.id}, {"name", a.name}, {"url", nullStr(a.url)},
		{"file_content_type", nullStr(a.contentType)}, {"file_size", size},
		{"image_width", width}, {"image_height", height},
		{"created_at", tm(a.created)}, {"updated_at", tm(a.updated)},
	}
}

const maxAttachment = 10 << 20

var tooBig = "is too big (should be at most 10 MB)"

// setFile reads file: a data URI "data:<type>;base64,<body>" or, as the
// live API also accepts, bare Base64 (line breaks allowed), whose type is
// then sniffed from its bytes.
func (a *attachment) setFile(p params, e verrs) {
	raw, _ := p.str("file")
	ct, data := "", raw
	if rest, ok := strings.CutPrefix(raw, "data:"); ok {
		meta, body, ok2 := strings.Cut(rest, ",")
		t, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok2 || !isB64 || t == "" {
			e.add("file", invalid)
			return
		}
		ct, data = t, body
	}
	if strings.ContainsAny(data, "\r\n") {
		data = strings.NewReplacer("\n", "", "\r", "").Replace(data) // Ruby-style wrapped base64
	}
	if base64.StdEncoding.DecodedLen(len(data)) > maxAttachment+3 {
		e.add("file", tooBig)
		return
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(b) == 0 {
		e.add("file", invalid)
		return
	}
	if len(b) > maxAttachment {
		e.add("file", tooBig)
		return
	}
	if ct == "" {
		ct, _, _ = strings.Cut(http.DetectContentType(b), ";")
	}
	a.contentType, a.size, a.width, a.height = ct, int64(len(b)), 0, 0
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err == nil {
		a.width, a.height = cfg.Width, cfg.Height
	}
}

// createAttachment needs a name and either file (at most 10 MB decoded) or
// remote_file_url. The fake never downloads a remote file: its size stays
// null and its type is guessed from the extension.
func createAttachment(o op, p params) (record, verrs) {
	e := verrs{}
	a := &attachment{base: base{created: o.now, updated: o.now}, size: -1}
	a.name, _ = p.str("name")
	if a.name == "" {
		e.add("name", blank)
	}
	remote, _ := p.str("remote_file_url")
	switch {
	case p.has("file") && p["file"] != nil:
		a.setFile(p, e)
	case remote != "":
		u, err := url.Parse(remote)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			e.add("remote_file_url", invalid)
		} else {
			a.contentType = mime.TypeByExtension(path.Ext(u.Path))
		}
	default:
		e.add("file", blank)
	}
	if len(e) > 0 {
		return nil, e
	}
	id := o.d.atts.add(a)
	a.url = "/uploads/attachments/" + strconv.FormatInt(id, 10) + "/" + url.PathEscape(a.name)
	return a, nil
}

// updateAttachment accepts name and file.
func updateAttachment(o op, r record, p params) verrs {
	a := r.(*attachment)
	n := *a
	e := verrs{}
	if p.has("name") {
		if n.name, _ = p.str("name"); n.name == "" {
			e.add("name", blank)
		}
	}
	if p.has("file") && p["file"] != nil {
		n.setFile(p, e)
	}
	if len(e) > 0 {
		return e
	}
	n.url = "/uploads/attachments/" + strconv.FormatInt(n.id, 10) + "/" + url.PathEscape(n.name)
	n.updated = o.now
	*a = n
	return nil
}

func removeAttachment(d *db, id, now int64) bool {
	a := d.atts.rows[id]
	if a == nil {
		return false
	}
	for _, m := range a.messages {
		if ms := d.msgs.rows[m]; ms != nil {
			ms.attachments = drop(ms.attachments, id)
		}
	}
	return d.atts.remove(id, now)
}
