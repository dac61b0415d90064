package agreement

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// fonts caches the CJK font files read, by path.
var fonts sync.Map // path → []byte

func (s *Service) font() ([]byte, error) {
	if b, ok := fonts.Load(s.fontPath); ok {
		return b.([]byte), nil
	}
	b, err := os.ReadFile(s.fontPath)
	if err != nil {
		return nil, fmt.Errorf("agreement font (agreements.font_path, scripts/pdf.sh installs fonts-droid-fallback): %w", err)
	}
	fonts.Store(s.fontPath, b)
	return b, nil
}

// Document is what a PDF is made from: the rendered text, the title and the
// footer facts. The same Document gives the same bytes.
type Document struct {
	AgreementID     int64
	Title           string
	Text            string
	TemplateVersion int
	// Date is the agreement's creation time, the PDF's creation date.
	Date time.Time
}

// RenderPDF lays d out on A4 pages with the CJK font at fontPath. It is
// deterministic: the creation date is d.Date and nothing else varies.
func RenderPDF(font []byte, d Document) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(d.Date.UTC())
	pdf.SetModificationDate(d.Date.UTC())
	pdf.SetProducer("Hehuo", true)
	pdf.SetCreator("Hehuo", true)
	pdf.SetTitle(d.Title, true)
	pdf.AddUTF8FontFromBytes("cjk", "", font)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-14)
		pdf.SetFont("cjk", "", 8)
		pdf.CellFormat(0, 6, fmt.Sprintf("协议编号 %d · 模板第%d版 · 第 %d / {nb} 页", d.AgreementID, d.TemplateVersion, pdf.PageNo()),
			"", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	lines := strings.Split(strings.TrimRight(d.Text, "\n"), "\n")
	start := 0
	if len(lines) > 0 && strings.TrimSpace(lines[0]) == strings.TrimSpace(d.Title) {
		start = 1 // the body's first line is the title
	}
	pdf.SetFont("cjk", "", 18)
	pdf.CellFormat(0, 12, d.Title, "", 1, "C", false, 0, "")
	pdf.Ln(4)
	pdf.SetFont("cjk", "", 11)
	for _, l := range lines[start:] {
		if strings.TrimSpace(l) == "" {
			pdf.Ln(3)
			continue
		}
		pdf.MultiCell(0, 7, l, "", "L", false)
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("agreement pdf: %w", err)
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("agreement pdf: %w", err)
	}
	return b.Bytes(), nil
}

// Hash is the hex SHA-256 of b.
func Hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
