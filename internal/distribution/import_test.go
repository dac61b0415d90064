package distribution

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/money"
)

// An amount cell's stored value: blank is 0, a typed fen value passes, a
// float Excel stored with binary noise is its fen value, and a third
// decimal, a sign, text or an exponent are refused with a Chinese message.
func TestParseCellAmount(t *testing.T) {
	tests := []struct {
		raw, want, refused string
	}{
		{"", "0", ""},
		{"111573.5", "111573.50", ""},
		{"10207.42", "10207.42", ""},
		{"1,234.50", "1234.50", ""},
		{"10207.420000000002", "10207.42", ""},
		{"0.30000000000000004", "0.30", ""},
		{"1.000", "1.00", ""},
		{"1.234", "", "两位小数"},
		{"10207.4213", "", "两位小数"},
		{"-5", "", "负数"},
		{"一万", "", "应为金额数字"},
		{"1E-3", "", "应为金额数字"},
		{"+5", "", "应为金额数字"},
	}
	for _, tt := range tests {
		got, msg := parseCellAmount(tt.raw)
		if tt.refused != "" {
			if !strings.Contains(msg, tt.refused) {
				t.Errorf("%q: %s %q, want refused with %q", tt.raw, got, msg, tt.refused)
			}
			continue
		}
		if msg != "" || !got.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("%q: %s %q, want %s", tt.raw, got, msg, tt.want)
		}
	}
}

// A principal batch's import types D and E; E must be D + C of the line,
// and the error names the row and the E column.
func TestParseImportPrincipalChecksE(t *testing.T) {
	b := Batch{Kind: KindPrincipal, Seq: 1, Lines: []Line{
		{PartnerID: 7, Name: "安景和", C: money.AmountOf(decimal.RequireFromString("-100.00")), CReason: "代扣"},
		{PartnerID: 8, Name: "柏若川"},
	}}
	if got := strings.Join(ImportColumns(b.Kind, b.Seq), "|"); got != "序号|合伙人ID|姓名|钉钉账号|D 本金分配 不含其它|E 本金分配 含其它" {
		t.Fatalf("columns %s", got)
	}
	work, errs := parseImport(b, [][]string{
		{"1", "7", "安景和", "", "436609.50", "436509.50"},
		nil,
		{"2", "8", "柏若川", "", "177366.50", "177366.51"},
	})
	if len(errs) != 1 || errs[0].Row != 4 || errs[0].Column != "E 本金分配 含其它" || !strings.Contains(errs[0].Message, "177,366.50") {
		t.Fatalf("errors %+v", errs)
	}
	if len(work) != 1 || work[0].partnerID != 7 || !work[0].amounts["e"].Equal(decimal.RequireFromString("436509.50")) {
		t.Fatalf("work %+v", work)
	}
	if got := strings.Join(ImportColumns(KindLiquidation, 1), "|"); !strings.HasSuffix(got, "E 本金分配 含其它|F 清算分配") {
		t.Fatalf("liquidation columns %s", got)
	}
}
