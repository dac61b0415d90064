package money

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
)

// Amount is a sum of money as it crosses the edges of the program: in JSON it
// is always a string with exactly two decimals ("28894.00"), in SQL it is a
// numeric. Reading it back applies Parse's rules, so "1.005" or a bare JSON
// number is refused. Arithmetic goes through the embedded decimal.Decimal.
//
// The zero value is 0.00. Use *Amount for a nullable amount.
type Amount struct {
	decimal.Decimal
}

// AmountOf wraps d.
func AmountOf(d decimal.Decimal) Amount { return Amount{d} }

// String renders a with two decimals.
func (a Amount) String() string { return Format(a.Decimal) }

// MarshalJSON renders a as a JSON string with two decimals.
func (a Amount) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = append(b, Format(a.Decimal)...)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON string holding an amount (Parse rules) or
// null, which leaves a unchanged as encoding/json expects.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return apperr.Invalid("amount_invalid", "", `金额须为字符串，例如 "28894.00"`)
	}
	d, err := Parse(s)
	if err != nil {
		return err
	}
	a.Decimal = d
	return nil
}

// MarshalText renders a with two decimals, for query strings and forms.
func (a Amount) MarshalText() ([]byte, error) { return []byte(Format(a.Decimal)), nil }

// UnmarshalText reads an amount by Parse's rules.
func (a *Amount) UnmarshalText(b []byte) error {
	d, err := Parse(string(b))
	if err != nil {
		return err
	}
	a.Decimal = d
	return nil
}

// Scan reads a numeric column. NULL is an error: scan into **Amount (a
// *Amount field) for a nullable column.
func (a *Amount) Scan(src any) error {
	if src == nil {
		return fmt.Errorf("money: scan NULL into Amount")
	}
	var d decimal.Decimal
	if err := d.Scan(src); err != nil {
		return fmt.Errorf("money: %w", err)
	}
	a.Decimal = d
	return nil
}

// Value writes a exactly as it is; numeric(20,2) columns keep two decimals.
func (a Amount) Value() (driver.Value, error) { return a.Decimal.String(), nil }
