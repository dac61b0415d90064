package microapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"hehuo/internal/apperr"
	"hehuo/internal/cache"
	"hehuo/internal/db"
	"hehuo/internal/text"
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

// outageRetryAfter is the Retry-After of every 503, in seconds: long enough
// for a restarted Postgres or Redis, short enough that nobody waits for nothing.
const outageRetryAfter = "10"

// shown is the error a user sees for err: its own *apperr.Error, 503
// service_unavailable when Postgres or Redis could not serve the request
// (classified by type in internal/db and internal/cache), or nil for a bug.
func shown(err error) *apperr.Error {
	if e := apperr.As(err); e != nil && e.Kind != apperr.KindInternal {
		return e
	}
	if db.IsUnavailable(err) || cache.IsUnavailable(err) {
		return apperr.ServiceUnavailable(err)
	}
	return nil
}

// writeError renders err. Errors that are not *apperr.Error are bugs or
// outages: they are logged with the request id and shown as a generic
// message; an outage answers 503 with Retry-After.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	e := shown(err)
	switch {
	case e == nil:
		log.ErrorContext(c.Request.Context(), "request failed", "err", err, "request_id", requestID(c),
			"method", c.Request.Method, "path", c.FullPath())
		e = &apperr.Error{Kind: apperr.KindInternal, Code: "internal", Message: "服务器内部错误，请稍后再试（请求号 " + requestID(c) + "）"}
	case e.Kind == apperr.KindUnavailable:
		if e.Err != nil { // the outage's real cause, logged once here and never shown
			log.WarnContext(c.Request.Context(), "dependency unavailable", "code", e.Code, "err", err, "request_id", requestID(c),
				"method", c.Request.Method, "path", c.FullPath())
		}
		c.Header("Retry-After", outageRetryAfter)
	}
	// A refusal for a while (a sign-in limit, a backoff) says how long.
	var wait interface{ RetryAfterSeconds() string }
	if errors.As(err, &wait) {
		c.Header("Retry-After", wait.RetryAfterSeconds())
	}
	c.AbortWithStatusJSON(statusOf[e.Kind], errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, Details: e.Details}})
}

// errNotFoundRoute answers unknown API paths.
var errNotFoundRoute = apperr.NotFound("route_not_found", "接口不存在")

// bind decodes the JSON body into dst, turning decoding errors into 400s that
// name the field when they can. Every string the body carries, in any field
// (whether or not its service cleans it with text.Clean), is checked here:
// control characters other than line breaks and tabs are refused with 400
// invalid_text, so no NUL byte reaches Postgres. Single-line fields refuse
// line breaks too, in text.Clean.
func bind(c *gin.Context, dst any) error {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.Invalid("body_too_large", "", "请求内容过大")
		}
		return apperr.Invalid("malformed_json", "", "请求格式错误，须为 JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		if e := apperr.As(err); e != nil {
			if e.Field == "" {
				// A field's own decoder (a date, an amount) does not know its
				// name: find the value it refused.
				if field := refusedField(raw, reflect.TypeOf(dst)); field != "" {
					e = e.WithField(field)
					e.Message = "字段 " + field + "：" + e.Message
				}
			}
			return e
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apperr.Invalid("field_type_invalid", te.Field, "字段 %s 的类型不正确", te.Field)
		}
		return apperr.Invalid("malformed_json", "", "请求格式错误，须为 JSON")
	}
	return checkStrings(reflect.ValueOf(dst), "")
}

// checkStrings walks v and refuses any string with control characters.
func checkStrings(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkStrings(v.Elem(), path)
		}
	case reflect.String:
		return text.Check(v.String(), path, "字段 "+path, true)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if err := checkStrings(v.Field(i), joinField(path, jsonName(f))); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := checkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := fmt.Sprint(it.Key().Interface())
			if err := text.Check(k, path, "字段 "+path, false); err != nil {
				return err
			}
			if err := checkStrings(it.Value(), joinField(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// refusedField returns the JSON path of the first value in raw that its
// field's own decoder (json.Unmarshaler) refuses, or "".
func refusedField(raw []byte, t reflect.Type) string {
	var tree any
	if json.Unmarshal(raw, &tree) != nil {
		return ""
	}
	return findRefused(tree, t, "")
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func findRefused(v any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return ""
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		b, _ := json.Marshal(v)
		if reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b) != nil {
			return path
		}
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Anonymous && f.Tag.Get("json") == "" {
				if p := findRefused(v, f.Type, path); p != "" {
					return p
				}
				continue
			}
			name := jsonName(f)
			for k, sub := range m {
				if strings.EqualFold(k, name) {
					if p := findRefused(sub, f.Type, joinField(path, name)); p != "" {
						return p
					}
				}
			}
		}
	case reflect.Slice, reflect.Array:
		items, _ := v.([]any)
		for i, sub := range items {
			if p := findRefused(sub, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		m, _ := v.(map[string]any)
		for k, sub := range m {
			if p := findRefused(sub, t.Elem(), joinField(path, k)); p != "" {
				return p
			}
		}
	}
	return ""
}

// jsonName is the name a struct field has in JSON.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
