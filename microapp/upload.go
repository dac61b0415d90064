package microapp

import (
	"errors"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/sheet"
)

// multipartEnvelope is what a multipart body may add to the file it carries.
const multipartEnvelope = 64 << 10

// uploadedFile opens the multipart field "file" of a request whose body is
// capped at limit (plus the envelope) before any of it is read: a larger
// Content-Length is refused unread, and a body without one is cut off at
// the cap, so an oversized upload costs neither memory nor disk. tooLarge
// and missing are the errors to answer for a file over limit and for none.
func uploadedFile(c *gin.Context, limit int64, tooLarge, missing error) (multipart.File, *multipart.FileHeader, error) {
	if c.Request.ContentLength > limit+multipartEnvelope {
		return nil, nil, tooLarge
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+multipartEnvelope)
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, tooLarge
		}
		return nil, nil, missing
	}
	if fh.Size > limit {
		return nil, nil, tooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return nil, nil, err
	}
	return f, fh, nil
}

// importFile is the .xlsx of an import (projects, partner lists, bank statements).
func importFile(c *gin.Context) (multipart.File, error) {
	f, _, err := uploadedFile(c, sheet.MaxFileSize, sheet.ErrTooLarge, errImportFileRequired)
	return f, err
}

var errImportFileRequired = apperr.Invalid("file_required", "file", "请选择要导入的 Excel 文件")
