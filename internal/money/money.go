// Package money holds Hehuo's rules for amounts of money: parsing, rounding
// half away from zero to fen or yuan, formatting with exactly two decimals,
// and splitting a total into parts that sum to it exactly.
//
// Amounts are shopspring/decimal values, never floats. In JSON they travel as
// strings ("28894.00"); in Postgres they are numeric(20,2).
package money

import (
	"strings"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
)

// Units to round and split to.
var (
	// Fen is 0.01 yuan, the unit of every amount but allocated principal.
	Fen = decimal.New(1, -2)
	// Yuan is the unit of allocated principal (R3, R5).
	Yuan = decimal.New(1, 0)
)

// maxIntDigits is how many digits numeric(20,2) allows before the point.
const maxIntDigits = 18

// RoundFen rounds d to fen (0.01), half away from zero: 0.005 → 0.01,
// -0.005 → -0.01, the same as Excel's ROUND(x, 2).
func RoundFen(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// RoundYuan rounds d to whole yuan, half away from zero: 2.5 → 3, -2.5 → -3.
func RoundYuan(d decimal.Decimal) decimal.Decimal { return d.Round(0) }

// Format renders d with exactly two decimals ("28894.00"), rounding half
// away from zero if d has more.
func Format(d decimal.Decimal) string { return d.StringFixed(2) }

// Display renders d as the screens show an amount, for messages people
// read (errors, notices): rounded to fen, thousands separated, 550,000.00
// and -1,234.50. Format stays the plain form for data (JSON, files, forms).
func Display(d decimal.Decimal) string {
	s := Format(d)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String() + "." + frac
}

// IsFen reports whether d is a whole number of fen (at most two decimals).
func IsFen(d decimal.Decimal) bool { return d.Equal(d.Truncate(2)) }

// IsYuan reports whether d is a whole number of yuan.
func IsYuan(d decimal.Decimal) bool { return d.IsInteger() }

// Parse reads an amount written as plain decimal digits with an optional
// leading minus and at most two decimals: "123", "123.4", "123.45", "-1.00".
// It refuses empty input, signs other than a leading minus, exponents,
// thousands separators, spaces, and more than 18 digits before the point.
// Extra decimals are refused with code amount_too_precise unless they are
// zeros ("1.000" is 1.00); every other refusal has code amount_invalid.
func Parse(s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, apperr.Invalid("amount_invalid", "", "金额不能为空")
	}
	body := strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(body, ".")
	if !digits(whole) || (hasPoint && !digits(frac)) {
		return decimal.Decimal{}, apperr.Invalid("amount_invalid", "", "金额格式不正确：%s", clip(s))
	}
	if len(strings.TrimLeft(whole, "0")) > maxIntDigits {
		return decimal.Decimal{}, apperr.Invalid("amount_invalid", "", "金额超出范围：%s", clip(s))
	}
	if len(strings.TrimRight(frac, "0")) > 2 {
		return decimal.Decimal{}, apperr.Invalid("amount_too_precise", "", "金额最多两位小数：%s", clip(s))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, apperr.Invalid("amount_invalid", "", "金额格式不正确：%s", clip(s))
	}
	return d, nil
}

// maxFracDigits bounds the decimals any number may carry (ratios need six).
const maxFracDigits = 12

// ParseNumber reads a number that is not an amount (a ratio, a rate, an
// area, a count) by Parse's syntax: plain decimal digits, an optional
// leading minus and point, at most 18 digits before the point and 12 after.
// No exponent ("1e5"), no plus sign, no point without digits on both sides
// ("100.", ".5"), no separators or spaces. Callers check range and
// precision and refuse with their own code; the refusal here has code
// number_invalid.
func ParseNumber(s string) (decimal.Decimal, error) {
	body := strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(body, ".")
	if !digits(whole) || (hasPoint && !digits(frac)) || len(strings.TrimLeft(whole, "0")) > maxIntDigits || len(frac) > maxFracDigits {
		return decimal.Decimal{}, apperr.Invalid("number_invalid", "", "数字格式不正确：%s", clip(s))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, apperr.Invalid("number_invalid", "", "数字格式不正确：%s", clip(s))
	}
	return d, nil
}

// ParseYuan is Parse for amounts that must be whole yuan, such as a
// subscription (R2): "500000" and "500000.00" pass, "500000.50" fails with
// code amount_not_whole_yuan.
func ParseYuan(s string) (decimal.Decimal, error) {
	d, err := Parse(s)
	if err != nil {
		return d, err
	}
	if !d.IsInteger() {
		return decimal.Decimal{}, apperr.Invalid("amount_not_whole_yuan", "", "金额须为整元：%s", clip(s))
	}
	return d, nil
}

// MustParse is Parse for literals in tests and fixtures; it panics on error.
func MustParse(s string) decimal.Decimal {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip keeps error messages short when the input is long.
func clip(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
