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
