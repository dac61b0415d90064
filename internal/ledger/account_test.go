package ledger

import "testing"

func TestParseAccount(t *testing.T) {
	tests := []struct {
		code             string
		kind             AccountKind
		project, partner int64 // 0: none
	}{
		{Bank(12), KindBank, 12, 0},
		{Principal(12, 7), KindPrincipal, 12, 7},
		{Interest(12), KindInterest, 12, 0},
		{Profit(12, 7), KindProfit, 12, 7},
		{Other(12, 7), KindOther, 12, 7},
		{ProjectCompany(12), KindProjectCompany, 12, 0},
		{Payable(12, 7), KindPayable, 12, 7},
		{External("platform"), KindExternal, 0, 0},
		{External("group"), KindExternal, 0, 0},
		{ExternalPartner(7), KindExternal, 0, 7},
		{Minority(12, 9), KindMinority, 12, 9},
		{ExternalShareholder(9), KindExternal, 0, 0},
	}
	for _, tt := range tests {
		a, err := ParseAccount(tt.code)
		if err != nil {
			t.Errorf("ParseAccount(%q): %v", tt.code, err)
			continue
		}
		if a.Kind != tt.kind || a.Code != tt.code || val(a.ProjectID) != tt.project || val(a.PartnerID) != tt.partner {
			t.Errorf("ParseAccount(%q) = %+v, want kind %s project %d partner %d", tt.code, a, tt.kind, tt.project, tt.partner)
		}
	}
}

func TestParseAccountRefuses(t *testing.T) {
	for _, code := range []string{
		"", "bank", "bank:", "bank:0", "bank:012", "bank:-1", "bank:1:2", "bank:x",
		"principal:1", "principal:1:", "principal:1:2:3", "principal:1:0", "payable:1",
		"cash:1", "Bank:1", "external", "external:", "external:Platform", "external:a:b",
		"external:0", "external:01", "minority:1", "minority:1:0", "minority:1:2:3", "bank:99999999999999999999", " bank:1",
	} {
		if _, err := ParseAccount(code); err == nil {
			t.Errorf("ParseAccount(%q) succeeded, want ledger_account_invalid", code)
		}
	}
}

func val(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func TestMinorityAccounts(t *testing.T) {
	if got := Minority(12, 9); got != "minority:12:9" {
		t.Errorf("Minority = %q", got)
	}
	if got := ExternalShareholder(9); got != "external:shareholder_9" {
		t.Errorf("ExternalShareholder = %q", got)
	}
	if got := AccountLabel(Minority(12, 9)); got != "小股东分配（项目 12，小股东 9）" {
		t.Errorf("AccountLabel(minority) = %q", got)
	}
	if got := AccountLabel(ExternalShareholder(9)); got != "外部（小股东 9）" {
		t.Errorf("AccountLabel(external shareholder) = %q", got)
	}
	if KindMinority.Label() != "小股东分配" {
		t.Errorf("label = %q", KindMinority.Label())
	}
}
