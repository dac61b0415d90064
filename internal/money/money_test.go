package money

import (
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
)

func TestRounding(t *testing.T) {
	tests := []struct {
		in, fen, yuan string
	}{
		{"0.005", "0.01", "0"},
		{"-0.005", "-0.01", "0"},
		{"0.0049", "0", "0"},
		{"-0.0049", "0", "0"},
		{"2.5", "2.5", "3"},
		{"-2.5", "-2.5", "-3"},
		{"-2.4999", "-2.5", "-2"},
		{"1.005", "1.01", "1"},
		{"-1.015", "-1.02", "-1"},
		{"297142.857142", "297142.86", "297143"},
		{"-679.315068", "-679.32", "-679"},
		{"123", "123", "123"},
	}
	for _, tt := range tests {
		d := decimal.RequireFromString(tt.in)
		if got := RoundFen(d); !got.Equal(decimal.RequireFromString(tt.fen)) {
			t.Errorf("RoundFen(%s) = %s, want %s", tt.in, got, tt.fen)
		}
		if got := RoundYuan(d); !got.Equal(decimal.RequireFromString(tt.yuan)) {
			t.Errorf("RoundYuan(%s) = %s, want %s", tt.in, got, tt.yuan)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := map[string]string{
		"28894":     "28894.00",
		"28894.5":   "28894.50",
		"-1":        "-1.00",
		"0":         "0.00",
		"-0.005":    "-0.01",
		"1.004":     "1.00",
		"123456789": "123456789.00",
	}
	for in, want := range tests {
		if got := Format(decimal.RequireFromString(in)); got != want {
			t.Errorf("Format(%s) = %q, want %q", in, got, want)
		}
	}
	if got := Format(decimal.Decimal{}); got != "0.00" {
		t.Errorf("Format(zero value) = %q, want 0.00", got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string // the value, or the error code
		ok   bool
	}{
		{"123", "123", true},
		{"123.4", "123.4", true},
		{"123.45", "123.45", true},
		{"-1.00", "-1", true},
		{"0", "0", true},
		{"-0", "0", true},
		{"007", "7", true},
		{"1.000", "1", true},
		{"999999999999999999.99", "999999999999999999.99", true},
		{"1.005", "amount_too_precise", false},
		{"-0.001", "amount_too_precise", false},
		{"", "amount_invalid", false},
		{"abc", "amount_invalid", false},
		{"1e3", "amount_invalid", false},
		{"1E3", "amount_invalid", false},
		{"+1", "amount_invalid", false},
		{"--1", "amount_invalid", false},
		{"-", "amount_invalid", false},
		{".5", "amount_invalid", false},
		{"5.", "amount_invalid", false},
		{"1.2.3", "amount_invalid", false},
		{" 1", "amount_invalid", false},
		{"1 ", "amount_invalid", false},
		{"28,894.00", "amount_invalid", false},
		{"１２３", "amount_invalid", false},
		{"NaN", "amount_invalid", false},
		{"0x10", "amount_invalid", false},
		{"1000000000000000000", "amount_invalid", false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.ok {
			if err != nil || !got.Equal(decimal.RequireFromString(tt.want)) {
				t.Errorf("Parse(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
			}
			continue
		}
		e := apperr.As(err)
		if e == nil || e.Code != tt.want || e.Kind != apperr.KindInvalid || e.Message == "" {
			t.Errorf("Parse(%q) error = %v, want code %s", tt.in, err, tt.want)
		}
	}
}

func TestParseTooPreciseMessage(t *testing.T) {
	_, err := Parse("1.005")
	if e := apperr.As(err); e == nil || e.Message != "金额最多两位小数：1.005" {
		t.Fatalf("Parse(1.005) error = %v, want the Chinese message 金额最多两位小数", err)
	}
}

func TestParseYuan(t *testing.T) {
	for _, ok := range []string{"500000", "500000.00", "-3", "0.0"} {
		if _, err := ParseYuan(ok); err != nil {
			t.Errorf("ParseYuan(%q) = %v, want ok", ok, err)
		}
	}
	for in, code := range map[string]string{
		"500000.50": "amount_not_whole_yuan",
		"0.01":      "amount_not_whole_yuan",
		"1.005":     "amount_too_precise",
		"x":         "amount_invalid",
	} {
		_, err := ParseYuan(in)
		if e := apperr.As(err); e == nil || e.Code != code {
			t.Errorf("ParseYuan(%q) error = %v, want code %s", in, err, code)
		}
	}
}

func TestIsFenIsYuan(t *testing.T) {
	if !IsFen(MustParse("1.23")) || IsFen(decimal.RequireFromString("1.234")) {
		t.Error("IsFen is wrong")
	}
	if !IsYuan(MustParse("100.00")) || IsYuan(MustParse("100.10")) {
		t.Error("IsYuan is wrong")
	}
}

// Issue 9: every number that is not an amount goes through ParseNumber:
// plain digits only, bounded precision.
func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		in, want string // want "" means refused
	}{
		{"100", "100"}, {"0.0331", "0.0331"}, {"-0.12", "-0.12"}, {"12345.67", "12345.67"},
		{"0.123456789012", "0.123456789012"}, {"000100", "100"},
		{"1e5", ""}, {"1E2", ""}, {"+100", ""}, {"100.", ""}, {".5", ""}, {"-", ""}, {"", ""},
		{"1,000", ""}, {" 1", ""}, {"1 ", ""}, {"0x10", ""}, {"NaN", ""}, {"Infinity", ""}, {"--1", ""},
		{"99999999999999999999", ""}, {"0.1234567890123", ""}, {"１００", ""}, {"1\x00", ""},
	} {
		d, err := ParseNumber(c.in)
		if c.want == "" {
			if e := apperr.As(err); e == nil || e.Code != "number_invalid" {
				t.Errorf("%q: got %v, %v; want number_invalid", c.in, d, err)
			}
			continue
		}
		if err != nil || d.String() != c.want {
			t.Errorf("%q: got %v, %v; want %s", c.in, d, err, c.want)
		}
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0.00"},
		{"0.01", "0.01"},
		{"0.5", "0.50"},
		{"999", "999.00"},
		{"1000", "1,000.00"},
		{"550000", "550,000.00"},
		{"550000.00", "550,000.00"},
		{"1234567.891", "1,234,567.89"},
		{"123456789012.34", "123,456,789,012.34"},
		{"-1", "-1.00"},
		{"-1234.5", "-1,234.50"},
		{"-999999.995", "-1,000,000.00"},
		{"-0.004", "0.00"},
	}
	for _, tt := range tests {
		if got := Display(decimal.RequireFromString(tt.in)); got != tt.want {
			t.Errorf("Display(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Display(decimal.Decimal{}); got != "0.00" {
		t.Errorf("Display(zero value) = %q, want 0.00", got)
	}
}
