package text

import (
	"testing"

	"hehuo/internal/apperr"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		required bool
		want     string
		code     string
	}{
		{"trims", "  靖江项目 ", true, "靖江项目", ""},
		{"missing required", "  ", true, "", "required"},
		{"optional empty", "", false, "", ""},
		{"angle brackets", "<b>", true, "", "angle_brackets"},
		{"too long", "一二三四五六", true, "", "too_long"},
		{"emoji is text", "项目😀", true, "项目😀", ""},
		{"NUL", "靖江\x00", true, "", "invalid_text"},
		{"NUL alone", "\x00", false, "", "invalid_text"},
		{"bell", "a\x07b", true, "", "invalid_text"},
		{"DEL", "a\x7fb", true, "", "invalid_text"},
		{"C1 control", "a\u0085b", true, "", "invalid_text"},
		{"invalid UTF-8", "a\xffb", true, "", "invalid_text"},
		{"newline in one line", "甲\n乙", true, "", "invalid_text"},
		{"tab in one line", "甲\t乙", true, "", "invalid_text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Clean(tt.in, "name", "名称", tt.required, 5)
			if tt.code != "" {
				e := apperr.As(err)
				if e == nil || e.Code != tt.code || e.Field != "name" {
					t.Fatalf("err = %v, want code %s on field name", err, tt.code)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCleanNote(t *testing.T) {
	tests := []struct {
		name, in, want, code string
	}{
		{"lines kept", "第一行\n第二行", "第一行\n第二行", ""},
		{"CRLF becomes LF", "甲\r\n乙", "甲\n乙", ""},
		{"tab kept", "甲\t乙", "甲\t乙", ""},
		{"NUL refused", "甲\x00乙", "", "invalid_text"},
		{"escape refused", "甲\x1b[31m", "", "invalid_text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanNote(tt.in, "note", "备注", false, 100)
			if tt.code != "" {
				if e := apperr.As(err); e == nil || e.Code != tt.code || e.Field != "note" {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
