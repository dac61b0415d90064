package money

import (
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
)

func TestAmountJSON(t *testing.T) {
	type line struct {
		Amount Amount  `json:"amount"`
		Refund *Amount `json:"refund"`
	}
	b, err := json.Marshal(line{Amount: AmountOf(MustParse("28894"))})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"amount":"28894.00","refund":null}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	neg := AmountOf(MustParse("-0.5"))
	if b, _ := json.Marshal(neg); string(b) != `"-0.50"` {
		t.Errorf("json(-0.5) = %s, want \"-0.50\"", b)
	}

	var l line
	if err := json.Unmarshal([]byte(`{"amount":"123.4","refund":"-1.00"}`), &l); err != nil {
		t.Fatal(err)
	}
	if !l.Amount.Equal(MustParse("123.40")) || l.Refund == nil || !l.Refund.Equal(MustParse("-1")) {
		t.Errorf("unmarshal = %v, %v", l.Amount, l.Refund)
	}
	l = line{Amount: AmountOf(MustParse("7"))}
	if err := json.Unmarshal([]byte(`{"amount":null,"refund":null}`), &l); err != nil {
		t.Fatal(err)
	}
	if !l.Amount.Equal(MustParse("7")) || l.Refund != nil {
		t.Errorf("null changed the amount: %v, %v", l.Amount, l.Refund)
	}
}

func TestAmountJSONRefuses(t *testing.T) {
	tests := map[string]string{
		`"1.005"`:  "amount_too_precise",
		`123.45`:   "amount_invalid",
		`1`:        "amount_invalid",
		`"1e3"`:    "amount_invalid",
		`""`:       "amount_invalid",
		`true`:     "amount_invalid",
		`["1.00"]`: "amount_invalid",
		`"abc"`:    "amount_invalid",
	}
	for in, code := range tests {
		var a Amount
		err := json.Unmarshal([]byte(in), &a)
		if e := apperr.As(err); e == nil || e.Code != code {
			t.Errorf("unmarshal %s: error = %v, want code %s", in, err, code)
		}
	}
}

func TestAmountText(t *testing.T) {
	var a Amount
	if err := a.UnmarshalText([]byte("12.3")); err != nil {
		t.Fatal(err)
	}
	if b, _ := a.MarshalText(); string(b) != "12.30" || a.String() != "12.30" {
		t.Errorf("text = %s / %s, want 12.30", b, a.String())
	}
	if err := a.UnmarshalText([]byte("1.001")); err == nil {
		t.Error("UnmarshalText(1.001) succeeded")
	}
}

func TestAmountSQL(t *testing.T) {
	var _ sql.Scanner = (*Amount)(nil)
	for _, src := range []any{[]byte("28894.00"), "28894", int64(28894)} {
		var a Amount
		if err := a.Scan(src); err != nil || !a.Equal(MustParse("28894")) {
			t.Errorf("Scan(%v) = %v, %v", src, a, err)
		}
	}
	var a Amount
	if err := a.Scan(nil); err == nil {
		t.Error("Scan(nil) succeeded, want an error")
	}
	v, err := AmountOf(decimal.RequireFromString("1.5")).Value()
	if err != nil || v != "1.5" {
		t.Errorf("Value = %v, %v", v, err)
	}
}
