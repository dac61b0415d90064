package attachment_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/attachment"
	"hehuo/internal/audit"
	"hehuo/internal/db/dbtest"
)

func xlsx(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	f.SetCellValue("Sheet1", "A1", "资金峰值")
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// An executable: the DOS header and PE signature.
var exe = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 200)...)

func TestCheck(t *testing.T) {
	pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
	cases := []struct {
		name    string
		content []byte
		code    string // "" accepted
		kind    apperr.Kind
	}{
		{"计算表.xlsx", xlsx(t), "", 0},
		{"计算表.XLSX", xlsx(t), "", 0},
		{"现场.png", png, "", 0},
		{"协议.pdf", pdf, "", 0},
		{"名单.csv", []byte("姓名,金额\n张三,100000\n"), "", 0},
		{"打包.zip", xlsx(t), "", 0}, // an xlsx is a zip
		{"数据.xml", []byte(`<?xml version="1.0"?><a>1</a>`), "", 0},
		{"木马.xlsx", exe, "attachment_content_mismatch", apperr.KindRule},
		{"图片.jpg", png, "attachment_content_mismatch", apperr.KindRule},
		{"协议.pdf", []byte("just text, not a pdf"), "attachment_content_mismatch", apperr.KindRule},
		{"程序.exe", exe, "attachment_type_forbidden", apperr.KindRule},
		{"无扩展名", pdf, "attachment_type_forbidden", apperr.KindRule},
		{"脚本.html", []byte("<html></html>"), "attachment_type_forbidden", apperr.KindRule},
		{"<script>.pdf", pdf, "angle_brackets", apperr.KindInvalid},
		{"空.pdf", nil, "attachment_empty", apperr.KindInvalid},
		{"大.csv", bytes.Repeat([]byte("a,b\n"), attachment.MaxSize/4+1), "attachment_too_large", apperr.KindRule},
	}
	for _, c := range cases {
		_, _, err := attachment.Check(c.name, c.content)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v, want accepted", c.name, err)
			}
			continue
		}
		e := apperr.As(err)
		if e == nil || e.Code != c.code || e.Kind != c.kind || e.Message == "" {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
}

func TestUploadKeepsSHA256AndContent(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := attachment.NewService(d)
	content := xlsx(t)
	a, err := s.Upload(ctx, audit.System, 0, `C:\docs\测算表.xlsx`, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if a.Name != "测算表.xlsx" || a.Size != int64(len(content)) || a.SHA256 != hex.EncodeToString(sum[:]) ||
		a.ContentType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("stored %+v", a)
	}
	got, body, err := s.Content(ctx, a.ID)
	if err != nil || !bytes.Equal(body, content) || got.ID != a.ID {
		t.Fatalf("content: %v, %d bytes", err, len(body))
	}
	// A refused upload stores nothing.
	if _, err := s.Upload(ctx, audit.System, 0, "木马.xlsx", bytes.NewReader(exe)); apperr.As(err) == nil {
		t.Fatalf("exe as xlsx: %v", err)
	}
	big := bytes.Repeat([]byte("a,b\n"), attachment.MaxSize/4+1)
	if _, err := s.Upload(ctx, audit.System, 0, "大.csv", bytes.NewReader(big)); apperr.As(err) == nil || apperr.As(err).Code != "attachment_too_large" {
		t.Fatalf("11 MB: %v", err)
	}
	var n int
	d.Get(&n, `SELECT count(*) FROM attachments`)
	if n != 1 {
		t.Errorf("%d attachments stored, want 1", n)
	}
	if _, err := s.Upload(ctx, audit.System, 999999, "a.pdf", bytes.NewReader([]byte("%PDF-1.4\n%%EOF"))); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("unknown project: %v, want not found", err)
	}
	if _, err := s.Get(ctx, 999999); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("unknown id: %v", err)
	}
}
