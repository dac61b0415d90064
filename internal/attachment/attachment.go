// Package attachment stores files attached to processes and subjects (附件):
// uploads linked from OA forms and generated calculation sheets. Files stay
// in Hehuo (DingTalk forms link to them). The content is kept in Postgres:
// files are small (≤ 10 MB) and a database backup then holds everything.
package attachment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/gabriel-vasile/mimetype"
	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/text"
)

// MaxSize is the largest file accepted (the seed's 10M).
const MaxSize = 10 << 20

// ErrTooLarge is an upload over MaxSize, refused while the request is read.
var ErrTooLarge = apperr.Rule("attachment_too_large", "file", "文件不能大于10M")

// Attachment is a stored file without its content.
type Attachment struct {
	ID          int64     `json:"id" db:"id"`
	ProjectID   *int64    `json:"project_id" db:"project_id"`
	Name        string    `json:"name" db:"name"`
	Size        int64     `json:"size" db:"size"`
	SHA256      string    `json:"sha256" db:"sha256"`
	ContentType string    `json:"content_type" db:"content_type"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// Service stores attachments.
type Service struct{ db *db.DB }

// NewService returns the attachment service.
func NewService(d *db.DB) *Service { return &Service{db: d} }

// allowed maps each accepted extension (the seed's list) to the content
// types its bytes may have; a detected type matches when it or one of its
// parents (mimetype's tree: docx → zip) is listed.
var allowed = map[string][]string{
	"xls":  {"application/vnd.ms-excel", "application/x-ole-storage"},
	"doc":  {"application/msword", "application/x-ole-storage"},
	"ppt":  {"application/vnd.ms-powerpoint", "application/x-ole-storage"},
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	"docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	"pptx": {"application/vnd.openxmlformats-officedocument.presentationml.presentation"},
	"jpg":  {"image/jpeg"},
	"jpeg": {"image/jpeg"},
	"png":  {"image/png"},
	"bmp":  {"image/bmp"},
	"tiff": {"image/tiff"},
	"mp4":  {"video/mp4"},
	"rar":  {"application/x-rar-compressed"},
	"zip":  {"application/zip"},
	"tar":  {"application/x-tar"},
	"gz":   {"application/gzip"},
	"pdf":  {"application/pdf"},
	"xml":  {"text/xml"},
	"csv":  {"text/plain"},
}

// AllowedExtensions lists the accepted extensions, for messages and the UI.
const AllowedExtensions = "xls, xlsx, jpg, jpeg, png, bmp, tiff, mp4, doc, docx, rar, zip, tar, gz, pdf, ppt, pptx, xml, csv"

// ooxml are the Office formats that are zip files inside: mimetype names
// them only when the parts it looks for come first, so a plain zip is
// accepted for them too (an executable or a PDF renamed is still refused).
var ooxml = map[string]bool{"xlsx": true, "docx": true, "pptx": true}

// Check validates a file's name and content and returns its extension and
// content type: the name must be clean text with an allowed extension, the
// size within MaxSize, and the bytes of a type that extension may have.
func Check(name string, content []byte) (ext, contentType string, err error) {
	name, err = text.Clean(path.Base(strings.ReplaceAll(name, `\`, "/")), "file", "文件名", true, 200)
	if err != nil {
		return "", "", err
	}
	if len(content) == 0 {
		return "", "", apperr.Invalid("attachment_empty", "file", "文件是空的")
	}
	if len(content) > MaxSize {
		// The size in MB to one decimal, in integers (no float anywhere near
		// the rules): tenths of a MB, rounded half up.
		tenths := (int64(len(content))*10 + 1<<19) >> 20
		return "", "", apperr.Rule("attachment_too_large", "file", "文件不能大于10M（此文件 %d.%dM）", tenths/10, tenths%10)
	}
	ext = strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	want, ok := allowed[ext]
	if !ok {
		return "", "", apperr.Rule("attachment_type_forbidden", "file", "不支持此类型的文件，只能上传 %s", AllowedExtensions)
	}
	m := mimetype.Detect(content)
	if matches(m, want) || (ooxml[ext] && m.Is("application/zip")) {
		return ext, m.String(), nil
	}
	return "", "", apperr.Rule("attachment_content_mismatch", "file", "文件内容与扩展名 .%s 不符（实际为 %s），请上传真实的 %s 文件", ext, describe(m), ext)
}

func matches(m *mimetype.MIME, want []string) bool {
	for ; m != nil; m = m.Parent() {
		for _, w := range want {
			if m.Is(w) {
				return true
			}
		}
	}
	return false
}

func describe(m *mimetype.MIME) string {
	if m.Extension() != "" {
		return strings.TrimPrefix(m.Extension(), ".") + " 文件"
	}
	if m.Is("application/octet-stream") {
		return "未知格式"
	}
	return m.String()
}

// Upload reads a file of at most MaxSize from r, checks it and stores it
// for projectID (0 for none).
func (s *Service) Upload(ctx context.Context, a audit.Actor, projectID int64, name string, r io.Reader) (Attachment, error) {
	content, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return Attachment{}, apperr.Invalid("attachment_unreadable", "file", "文件读取失败，请重新上传")
	}
	var out Attachment
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		out, err = Store(ctx, tx, a, projectID, name, content)
		return err
	})
	return out, err
}

// Store checks and stores a file inside tx, with its audit entry; the
// process center stores generated calculation sheets with it.
func Store(ctx context.Context, tx *sqlx.Tx, a audit.Actor, projectID int64, name string, content []byte) (Attachment, error) {
	ext, ctype, err := Check(name, content)
	if err != nil {
		return Attachment{}, err
	}
	name, _ = text.Clean(path.Base(strings.ReplaceAll(name, `\`, "/")), "file", "文件名", true, 200)
	sum := sha256.Sum256(content)
	var project *int64
	if projectID != 0 {
		project = &projectID
	}
	var out Attachment
	err = sqlx.GetContext(ctx, tx, &out, `
		INSERT INTO attachments (project_id, name, ext, content_type, size, sha256, content, uploaded_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id, project_id, name, size, sha256, content_type, created_at`,
		project, name, ext, ctype, len(content), hex.EncodeToString(sum[:]), content, a.ID)
	if err != nil {
		if _, ok := db.IsForeignKeyViolation(err); ok {
			return Attachment{}, apperr.NotFound("project_not_found", "项目不存在")
		}
		return Attachment{}, fmt.Errorf("store attachment %s: %w", name, err)
	}
	if err := audit.Record(ctx, tx, a, audit.Entry{Action: "attachment.upload", Entity: "attachment", EntityID: out.ID,
		ProjectID: project, After: out}); err != nil {
		return Attachment{}, err
	}
	return out, nil
}

// Get returns an attachment's record.
func (s *Service) Get(ctx context.Context, id int64) (Attachment, error) {
	return Get(ctx, s.db, id)
}

// Get returns an attachment's record.
func Get(ctx context.Context, q sqlx.QueryerContext, id int64) (Attachment, error) {
	var out Attachment
	err := sqlx.GetContext(ctx, q, &out, `SELECT id, project_id, name, size, sha256, content_type, created_at FROM attachments WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return out, apperr.NotFound("attachment_not_found", "附件不存在")
	}
	if err != nil {
		return out, fmt.Errorf("get attachment %d: %w", id, err)
	}
	return out, nil
}

// Content returns an attachment with its bytes, verified against the
// stored SHA-256 so a damaged file is never served as good.
func (s *Service) Content(ctx context.Context, id int64) (Attachment, []byte, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return a, nil, err
	}
	var content []byte
	if err := s.db.GetContext(ctx, &content, `SELECT content FROM attachments WHERE id = $1`, id); err != nil {
		return a, nil, fmt.Errorf("read attachment %d: %w", id, err)
	}
	sum := sha256.Sum256(content)
	if hex.EncodeToString(sum[:]) != a.SHA256 {
		return a, nil, fmt.Errorf("attachment %d: content does not match its SHA-256", id)
	}
	return a, bytes.Clone(content), nil
}
