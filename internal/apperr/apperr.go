// Package apperr defines Hehuo's one error type: a kind that decides the HTTP
// status, an English code for programs, a Chinese message for people, and the
// input field at fault, if any.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error; the transport maps each kind to one status.
type Kind int

// The kinds of error. Their HTTP status is fixed in microapp's status table.
const (
	KindInternal        Kind = iota // a bug or an outage: 500
	KindInvalid                     // malformed input: 400
	KindUnauthenticated             // not signed in: 401
	KindForbidden                   // wrong role: 403
	KindNotFound                    // missing or outside the caller's scope: 404
	KindConflict                    // state or version conflict: 409
	KindRule                        // a broken business rule: 422
	KindLocked                      // temporarily refused (locked account): 423
	KindTooMany                     // rate limited: 429
	KindUnavailable                 // a service we depend on (DingTalk, Postgres, Redis) failed or is unreachable: 503
	KindMediaType                   // a request body of a type the route does not take: 415
)

// Error is an error that can be shown to a user.
type Error struct {
	Kind    Kind
	Code    string // English, stable, for programs: "subscription_above_max"
	Message string // Chinese, for people
	Field   string // the input field at fault, if any
	Details any    // more detail for the client, e.g. row errors of an import
	Err     error  // the cause, never shown to users
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, apperr.NotFound("x", "")) style checks work on codes.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithField returns a copy of e naming the field at fault.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// RowError is one bad cell of an imported sheet.
type RowError struct {
	Row     int    `json:"row"`    // the sheet's row number, as Excel shows it
	Column  string `json:"column"` // the column's header, as the sheet shows it
	Message string `json:"message"`
}

// ImportInvalid reports every bad row of an import, none of which was applied.
func ImportInvalid(rows []RowError) *Error {
	first := rows[0]
	return &Error{Kind: KindInvalid, Code: "import_invalid", Field: "file", Details: rows,
		Message: fmt.Sprintf("导入失败，共%d处错误，未导入任何数据。第%d行「%s」：%s", len(rows), first.Row, first.Column, first.Message)}
}

// New returns an error of the given kind.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalid is malformed input (400).
func Invalid(code, field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Rule is a broken business rule (422).
func Rule(code, field, format string, args ...any) *Error {
	return &Error{Kind: KindRule, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Conflict is a state or version conflict (409).
func Conflict(code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a missing record, or one outside the caller's scope (404).
func NotFound(code, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Forbidden is a wrong role (403).
func Forbidden(code, format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unavailable is a failure of a service we depend on, such as DingTalk (503).
func Unavailable(code, format string, args ...any) *Error {
	return &Error{Kind: KindUnavailable, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServiceUnavailable is an outage of our own storage (Postgres or Redis)
// met while serving a request (503, try again later); the cause is logged,
// never shown.
func ServiceUnavailable(cause error) *Error {
	return &Error{Kind: KindUnavailable, Code: "service_unavailable", Message: "系统维护中，请稍后再试", Err: cause}
}

// Unauthenticated is a request without a valid session (401).
func Unauthenticated(code, format string, args ...any) *Error {
	return &Error{Kind: KindUnauthenticated, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors shared by every area.
var (
	ErrStaleVersion = Conflict("stale_version", "数据已被他人修改，请刷新后重试")
	ErrNotSignedIn  = Unauthenticated("not_signed_in", "请先登录")
	ErrWrongRole    = Forbidden("forbidden", "没有权限执行此操作")
	ErrReadOnly     = Forbidden("read_only", "只读账号不能修改数据")
)

// As returns err as an *Error, or nil if it is not one.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err; errors that are not *Error are internal.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return KindInternal
}
