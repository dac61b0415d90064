package ledger

import (
	"regexp"
	"strconv"
	"strings"

	"hehuo/internal/apperr"
)

// AccountKind is the first segment of an account code: what the account holds.
type AccountKind string

// The chart of accounts (DESIGN §4). Debit-normal accounts hold assets;
// credit-normal ones hold what the partnership owes.
const (
	// KindBank is bank:{project}, the partnership's bank account for the project (debit).
	KindBank AccountKind = "bank"
	// KindPrincipal is principal:{project}:{partner}, principal paid in and not yet returned (credit).
	KindPrincipal AccountKind = "principal"
	// KindInterest is interest:{project}, capital interest charged to partners (credit).
	KindInterest AccountKind = "interest"
	// KindProfit is profit:{project}:{partner}, profit allocated and not yet paid (credit).
	KindProfit AccountKind = "profit"
	// KindOther is other:{project}:{partner}, other adjustments paid or charged (debit).
	KindOther AccountKind = "other"
	// KindProjectCompany is project_company:{project}, money invested in the project company (debit).
	KindProjectCompany AccountKind = "project_company"
	// KindPayable is payable:{project}:{payee}, money a distribution approved
	// for a payee and not yet paid out (credit): the approval credits it,
	// the payout (登记打款) debits it against the bank.
	KindPayable AccountKind = "payable"
	// KindExternal is external:{party}, money outside the partnership: a partner's
	// own pocket (external:{partner}) or a named party (external:platform, external:group).
	KindExternal AccountKind = "external"
	// KindMinority is minority:{project}:{shareholder}, the project company's
	// distributions to one of its minority shareholders (小股东, credit): a
	// shareholder payout (股东分配打款) credits it against the shareholder's
	// pocket, external:shareholder_{id}. Its second id slot carries the
	// minority shareholder's id (minority_shareholders.id), not a partner's.
	KindMinority AccountKind = "minority"
)

// kindLabels name the kinds of account in Chinese, for the screens that
// show an account (账务核对).
var kindLabels = map[AccountKind]string{
	KindBank: "项目银行账户", KindPrincipal: "合伙人本金", KindInterest: "资金利息", KindProfit: "应付利润",
	KindOther: "其它调整", KindProjectCompany: "项目公司投资", KindPayable: "应付分配款", KindExternal: "外部",
	KindMinority: "小股东分配",
}

// Label is the kind in Chinese, or the code itself for an unknown kind.
func (k AccountKind) Label() string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// AccountLabel words an account code for people: its kind in Chinese with
// the project and partner it belongs to (合伙人本金（项目 12，合伙人 3）);
// a code outside the chart is returned as it is.
func AccountLabel(code string) string {
	a, err := ParseAccount(code)
	if err != nil {
		return code
	}
	var parts []string
	if a.ProjectID != nil {
		parts = append(parts, "项目 "+strconv.FormatInt(*a.ProjectID, 10))
	}
	if a.PartnerID != nil {
		who := "合伙人 "
		if a.Kind == KindMinority {
			who = "小股东 "
		}
		parts = append(parts, who+strconv.FormatInt(*a.PartnerID, 10))
	}
	if a.Kind == KindExternal && a.PartnerID == nil {
		parts = append(parts, externalParty(code))
	}
	if len(parts) == 0 {
		return a.Kind.Label()
	}
	return a.Kind.Label() + "（" + strings.Join(parts, "，") + "）"
}

// externalParty names a named external party (平台公司, 集团).
func externalParty(code string) string {
	party := strings.TrimPrefix(code, string(KindExternal)+":")
	switch party {
	case "platform":
		return "平台公司"
	case "group":
		return "集团"
	}
	if id, ok := strings.CutPrefix(party, "shareholder_"); ok {
		return "小股东 " + id
	}
	return party
}

// chart says which ids each kind of account carries after its kind.
var chart = map[AccountKind]struct{ project, partner bool }{
	KindBank:           {project: true},
	KindPrincipal:      {project: true, partner: true},
	KindInterest:       {project: true},
	KindProfit:         {project: true, partner: true},
	KindOther:          {project: true, partner: true},
	KindProjectCompany: {project: true},
	KindPayable:        {project: true, partner: true},
	KindMinority:       {project: true, partner: true},
}

// Account is one account of the chart, parsed from its code.
type Account struct {
	Code      string
	Kind      AccountKind
	ProjectID *int64 // nil for external accounts
	PartnerID *int64 // the partner the account belongs to, if any
}

// Bank is the code of a project's bank account.
func Bank(project int64) string { return code(KindBank, project) }

// Principal is the code of a partner's principal in a project.
func Principal(project, partner int64) string { return code(KindPrincipal, project, partner) }

// Interest is the code of a project's capital interest account.
func Interest(project int64) string { return code(KindInterest, project) }

// Profit is the code of a partner's allocated, unpaid profit in a project.
func Profit(project, partner int64) string { return code(KindProfit, project, partner) }

// Other is the code of a partner's other adjustments (C) in a project.
func Other(project, partner int64) string { return code(KindOther, project, partner) }

// Payable is the code of what a distribution owes payee in a project, approved and not yet paid out.
func Payable(project, payee int64) string { return code(KindPayable, project, payee) }

// ProjectCompany is the code of the money the partnership put in a project company.
func ProjectCompany(project int64) string { return code(KindProjectCompany, project) }

// External is the code of a named party outside the partnership, such as
// "platform" or "group".
func External(party string) string { return string(KindExternal) + ":" + party }

// Minority is the code of a project company's distributions to minority
// shareholder sh (the id of minority_shareholders).
func Minority(project, sh int64) string { return code(KindMinority, project, sh) }

// ExternalShareholder is the code of a minority shareholder's own pocket,
// outside the partnership: external:shareholder_{id}.
func ExternalShareholder(sh int64) string {
	return External("shareholder_" + strconv.FormatInt(sh, 10))
}

// ExternalPartner is the code of a partner's own pocket, outside the partnership.
func ExternalPartner(partner int64) string { return code(KindExternal, partner) }

func code(kind AccountKind, ids ...int64) string {
	var b strings.Builder
	b.WriteString(string(kind))
	for _, id := range ids {
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

var partyName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// ParseAccount checks code against the chart and returns the account it
// names. Ids are positive decimal numbers without leading zeros, so that each
// account has exactly one code.
func ParseAccount(code string) (Account, error) {
	bad := func() (Account, error) {
		return Account{}, apperr.Invalid("ledger_account_invalid", "", "账户编码不正确：%s", code)
	}
	segs := strings.Split(code, ":")
	a := Account{Code: code, Kind: AccountKind(segs[0])}
	if a.Kind == KindExternal {
		if len(segs) != 2 {
			return bad()
		}
		if id, ok := parseID(segs[1]); ok {
			a.PartnerID = &id
		} else if !partyName.MatchString(segs[1]) {
			return bad()
		}
		return a, nil
	}
	shape, ok := chart[a.Kind]
	if !ok {
		return bad()
	}
	want := 2
	if shape.partner {
		want = 3
	}
	if len(segs) != want {
		return bad()
	}
	project, ok := parseID(segs[1])
	if !ok {
		return bad()
	}
	a.ProjectID = &project
	if shape.partner {
		partner, ok := parseID(segs[2])
		if !ok {
			return bad()
		}
		a.PartnerID = &partner
	}
	return a, nil
}

// parseID reads a positive id written without sign or leading zeros.
func parseID(s string) (int64, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}
