// Package text checks the free text users type: trimmed, bounded, free of
// control characters (a NUL byte cannot be stored in Postgres, and invisible
// characters have no place in names and notes), and free of the angle
// brackets the seed system refuses (they would open the door to markup
// injection in notices and approval forms).
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"hehuo/internal/apperr"
)

// Clean trims s and checks it as one line: required when required is set, at
// most max runes, no control characters (line breaks and tabs included), no
// < or >. label is the Chinese field name used in the message.
func Clean(s, field, label string, required bool, max int) (string, error) {
	return clean(s, field, label, required, max, false)
}

// CleanNote is Clean for multi-line prose (notes, reasons, review comments,
// typed in a text area): line breaks and tabs are kept ("\r\n" becomes
// "\n"); every other control character is refused as Clean refuses it.
func CleanNote(s, field, label string, required bool, max int) (string, error) {
	return clean(strings.ReplaceAll(s, "\r\n", "\n"), field, label, required, max, true)
}

func clean(s, field, label string, required bool, max int, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", apperr.Invalid("required", field, "请填写%s", label)
		}
		return "", nil
	}
	if !Valid(s, multiline) {
		return "", invalid(field, label)
	}
	if utf8.RuneCountInString(s) > max {
		return "", apperr.Invalid("too_long", field, "%s不能超过%d个字", label, max)
	}
	if strings.ContainsAny(s, "<>") {
		return "", apperr.Invalid("angle_brackets", field, "%s中不能有<、>符号", label)
	}
	return s, nil
}

// Valid reports whether s is well-formed UTF-8 without control characters
// (C0, DEL, C1). With multiline, line feeds, carriage returns and tabs are
// allowed. This is the rule every text input meets, whether or not its
// handler cleans it: request bodies, query and path parameters.
func Valid(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Check is Valid as an error: 400 invalid_text naming field (label is the
// name shown to people; field is used when it is empty).
func Check(s, field, label string, multiline bool) error {
	if Valid(s, multiline) {
		return nil
	}
	if label == "" {
		label = field
	}
	return invalid(field, label)
}

func invalid(field, label string) error {
	return apperr.Invalid("invalid_text", field, "%s中有不可见的控制字符或乱码，请删除后重试", label)
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
