package microapp

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/civil"
	"hehuo/internal/text"
)

// The one reader of query and path parameters: every handler reads ids,
// pages, counts and dates through these instead of calling strconv, so a
// value that is not a positive number within int64, a page beyond reach or
// a date outside civil's window is a 400 invalid_parameter (404 for a path
// id), never a 500 from Postgres.

// Paging bounds: page × page size stays far inside int64, so an offset can
// never overflow into a negative number.
const (
	maxPage     = 1_000_000
	maxPageSize = 500
)

// badParam is the 400 for a query parameter that cannot be read.
func badParam(name, format string, args ...any) error {
	return apperr.Invalid("invalid_parameter", name, format, args...)
}

// checkParams refuses, for every route, query values with control
// characters or broken UTF-8 (400 invalid_parameter) and path parameters
// with them (404, as a path that names nothing). Query values may hold tabs
// and line breaks, as bodies may: a sign-in's next= with one is turned into
// "/" by safeNext rather than refused, and one-line search text with one
// simply matches nothing.
func checkParams(c *gin.Context) error {
	for name, vs := range c.Request.URL.Query() {
		if !text.Valid(name, false) {
			return badParam("", "查询参数名中有不可见的控制字符或乱码")
		}
		for _, v := range vs {
			if !text.Valid(v, true) {
				return badParam(name, "参数 %s 中有不可见的控制字符或乱码", name)
			}
		}
	}
	for _, p := range c.Params {
		if !text.Valid(p.Value, false) {
			return apperr.NotFound("not_found", "记录不存在")
		}
	}
	return nil
}

// queryInt reads an optional integer query parameter in [min, max]; absent is 0.
func queryInt(c *gin.Context, name string, min, max int64) (int64, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < min || v > max {
		return 0, badParam(name, "参数 %s 须为%d到%d之间的整数", name, min, max)
	}
	return v, nil
}

// queryID reads an optional id query parameter: a positive int64; absent is 0.
func queryID(c *gin.Context, name string) (int64, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	v, err := parseID(s)
	if err != nil {
		return 0, badParam(name, "参数 %s 须为正整数编号", name)
	}
	return v, nil
}

// queryPage reads page (from 1, at most maxPage) and page_size (capped at
// max, def when absent).
func queryPage(c *gin.Context, def, max int) (page, size int, err error) {
	p, err := queryInt(c, "page", 1, maxPage)
	if err != nil {
		return 0, 0, err
	}
	sz, err := queryInt(c, "page_size", 1, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	page, size = int(max64(p, 1)), int(sz)
	switch {
	case size == 0:
		size = def
	case size > max:
		size = max
	}
	return page, size, nil
}

// queryDate reads an optional date query parameter within civil's window;
// absent is the zero date.
func queryDate(c *gin.Context, name, label string) (civil.Date, error) {
	s := c.Query(name)
	if s == "" {
		return civil.Date{}, nil
	}
	d, err := civil.ParseField(s, name, label)
	if err != nil {
		return d, err
	}
	return d, nil
}

// parseID reads a positive int64.
func parseID(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, strconv.ErrRange
	}
	return v, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
