// Package text checks the free text users type: trimmed, bounded, and free of
// the angle brackets the seed system refuses (they would open the door to
// markup injection in notices and approval forms).
package text

import (
	"strings"
	"unicode/utf8"

	"hehuo/internal/apperr"
)

// Clean trims s and checks it: required when min > 0, at most max runes, no < or >.
// label is the Chinese field name used in the message.
func Clean(s, field, label string, required bool, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", apperr.Invalid("required", field, "请填写%s", label)
		}
		return "", nil
	}
	if utf8.RuneCountInString(s) > max {
		return "", apperr.Invalid("too_long", field, "%s不能超过%d个字", label, max)
	}
	if strings.ContainsAny(s, "<>") {
		return "", apperr.Invalid("angle_brackets", field, "%s中不能有<、>符号", label)
	}
	return s, nil
}

// OrNil returns nil for the empty string, so optional unique columns
// (project code, DingTalk userid) store NULL rather than a colliding "".
func OrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Deref returns *s, or "" for nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
