package microapp

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[apperr.Kind]int{
	apperr.KindInternal:        http.StatusInternalServerError,
	apperr.KindInvalid:         http.StatusBadRequest,
	apperr.KindUnauthenticated: http.StatusUnauthorized,
	apperr.KindForbidden:       http.StatusForbidden,
	apperr.KindNotFound:        http.StatusNotFound,
	apperr.KindConflict:        http.StatusConflict,
	apperr.KindRule:            http.StatusUnprocessableEntity,
	apperr.KindLocked:          http.StatusLocked,
	apperr.KindTooMany:         http.StatusTooManyRequests,
	apperr.KindUnavailable:     http.StatusServiceUnavailable,
	apperr.KindMediaType:       http.StatusUnsupportedMediaType,
}

// errorBody is the one JSON shape of every error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Details any    `json:"details,omitempty"`
}

// writeError renders err. Errors that are not *apperr.Error are bugs or
// outages: they are logged with the request id and shown as a generic message.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	e := apperr.As(err)
	if e == nil || e.Kind == apperr.KindInternal {
		log.ErrorContext(c.Request.Context(), "request failed", "err", err, "request_id", requestID(c),
			"method", c.Request.Method, "path", c.FullPath())
		e = &apperr.Error{Kind: apperr.KindInternal, Code: "internal", Message: "服务器内部错误，请稍后再试（请求号 " + requestID(c) + "）"}
	}
	c.AbortWithStatusJSON(statusOf[e.Kind], errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, Details: e.Details}})
}

// errNotFoundRoute answers unknown API paths.
var errNotFoundRoute = apperr.NotFound("route_not_found", "接口不存在")

// bind decodes the JSON body into dst, turning decoding errors into 400s that
// name the field when they can.
func bind(c *gin.Context, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		if e := apperr.As(err); e != nil {
			return e
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apperr.Invalid("field_type_invalid", te.Field, "字段 %s 的类型不正确", te.Field)
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.Invalid("body_too_large", "", "请求内容过大")
		}
		return apperr.Invalid("malformed_json", "", "请求格式错误，须为 JSON")
	}
	return nil
}
