package microapp

import (
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
)

func ctxWithQuery(q string) *gin.Context {
	gin.SetMode(gin.ReleaseMode) // as the server runs, and without gin's debug banner
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/x?"+q, nil)
	return c
}

// Issue 9: one reader of ids and pages; every refusal is 400 invalid_parameter.
func TestQueryIDAndPage(t *testing.T) {
	for _, c := range []struct {
		q    string
		want int64
		ok   bool
	}{
		{"", 0, true}, {"id=1", 1, true}, {"id=9223372036854775807", 9223372036854775807, true},
		{"id=0", 0, false}, {"id=-1", 0, false}, {"id=99999999999999999999", 0, false},
		{"id=1e5", 0, false}, {"id=+1", 0, false}, {"id=%F0%9F%98%80", 0, false}, {"id=1%00", 0, false}, {"id=0x10", 0, false},
	} {
		got, err := queryID(ctxWithQuery(c.q), "id")
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("queryID(%q) = %d, %v", c.q, got, err)
		}
		if err != nil {
			if e := apperr.As(err); e == nil || e.Code != "invalid_parameter" || e.Field != "id" {
				t.Errorf("queryID(%q): %v", c.q, err)
			}
		}
	}
	for _, c := range []struct {
		q          string
		page, size int
		ok         bool
	}{
		{"", 1, 50, true}, {"page=3&page_size=20", 3, 20, true}, {"page_size=100000", 1, 500, true},
		{"page=1000000&page_size=500", 1000000, 500, true},
		{"page=1000001", 0, 0, false}, {"page=99999999999999999999", 0, 0, false}, {"page=9223372036854775807", 0, 0, false},
		{"page=0", 0, 0, false}, {"page=-1", 0, 0, false}, {"page_size=0", 0, 0, false}, {"page_size=-5", 0, 0, false},
		{"page=1e5", 0, 0, false}, {"page_size=99999999999999999999", 0, 0, false},
	} {
		page, size, err := queryPage(ctxWithQuery(c.q), 50, 500)
		if c.ok != (err == nil) || page != c.page || size != c.size {
			t.Errorf("queryPage(%q) = %d, %d, %v", c.q, page, size, err)
		}
		if c.ok && int64(page-1)*int64(size) < 0 {
			t.Errorf("queryPage(%q): negative offset", c.q)
		}
	}
}
