// Package exit runs exits (退投, RULES R9) with the takeover of the stake by
// the platform company (承接): the price rules per exit type (exit_policies,
// edited by sysadmin), the quotes (离职退休测算: exits with one exit_lines row
// per project the partner holds), the exit process's effect (the stake
// transferred on the ledger as exit_takeover, the partner flagged 退/离),
// the payout registration (登记退出打款金额及打款日期), the partners' own
// requests from H5 (申请退出) and the 退出员工合伙信息查询表 report.
package exit

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// Status is an exit quote's state: quoted → in_approval → agreed (已承接) →
// paid; a refused or terminated process returns it to quoted; a newer
// quote of the same partner supersedes a quoted one.
type Status string

// The exit states.
const (
	StatusQuoted     Status = "quoted"
	StatusInApproval Status = "in_approval"
	StatusAgreed     Status = "agreed"
	StatusPaid       Status = "paid"
	StatusSuperseded Status = "superseded"
)

var statusLabels = map[Status]string{StatusQuoted: "已测算", StatusInApproval: "审批中", StatusAgreed: "已承接",
	StatusPaid: "已打款", StatusSuperseded: "已作废"}

// Label is the state in Chinese.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// Statuses lists the states with their labels, in order.
func Statuses() []Option {
	out := []Option{}
	for _, s := range []Status{StatusQuoted, StatusInApproval, StatusAgreed, StatusPaid, StatusSuperseded} {
		out = append(out, Option{Value: string(s), Label: s.Label()})
	}
	return out
}

// RequestStatus is a partner's exit request's state: submitted → quoted →
// launched → done, or rejected.
type RequestStatus string

// The request states.
const (
	RequestSubmitted RequestStatus = "submitted"
	RequestQuoted    RequestStatus = "quoted"
	RequestLaunched  RequestStatus = "launched"
	RequestDone      RequestStatus = "done"
	RequestRejected  RequestStatus = "rejected"
)

var requestLabels = map[RequestStatus]string{RequestSubmitted: "已提交", RequestQuoted: "已测算", RequestLaunched: "审批中",
	RequestDone: "已完成", RequestRejected: "已驳回"}

// Label is the state in Chinese.
func (s RequestStatus) Label() string {
	if l, ok := requestLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() {
	audit.DescribeStates("exit", statusLabels)
	audit.DescribeStates("exit_request", requestLabels)
}

// Option is a code with its Chinese label.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Policy is one row of R9's price table as stored.
type Policy struct {
	Type          calc.ExitType `json:"exit_type" db:"exit_type"`
	TypeLabel     string        `json:"exit_type_label" db:"-"`
	HoldingReturn bool          `json:"holding_return" db:"holding_return"`
	Version       int           `json:"version" db:"version"`
	UpdatedAt     time.Time     `json:"updated_at" db:"updated_at"`
}

// PolicyInput edits a policy row (sysadmin).
type PolicyInput struct {
	HoldingReturn *bool `json:"holding_return"`
	Version       int   `json:"version"`
}

// QuoteInput asks for an exit quote (离职退休测算).
type QuoteInput struct {
	UserID   int64  `json:"user_id"`
	ExitType string `json:"exit_type"`
	ExitDate string `json:"exit_date"`
	// RequestID is the partner's exit request the quote answers (optional).
	RequestID int64 `json:"request_id,omitempty"`
}

// Line is one project of a quote.
type Line struct {
	ID          int64        `json:"id" db:"id"`
	ProjectID   int64        `json:"project_id" db:"project_id"`
	ProjectName string       `json:"project_name" db:"project_name"`
	P           money.Amount `json:"p" db:"p"`
	I           money.Amount `json:"i" db:"i"`
	H           money.Amount `json:"h" db:"h"`
	Payout      money.Amount `json:"payout" db:"payout"`
	// Rate is the exit rate H ran on (the project's financing cost rate),
	// null when the policy pays no H.
	Rate       *decimal.Decimal `json:"rate" db:"rate"`
	Trace      json.RawMessage  `json:"trace" db:"trace"`
	LedgerTxID *int64           `json:"ledger_transaction_id" db:"ledger_tx_id"`
}

// Exit is a quote with its lines.
type Exit struct {
	ID              int64         `json:"id" db:"id"`
	PartnerID       int64         `json:"partner_id" db:"partner_id"`
	UserID          int64         `json:"user_id" db:"user_id"`
	PartnerName     string        `json:"partner_name" db:"partner_name"`
	OrgUnit         string        `json:"org_unit" db:"org_unit"`
	ExitType        calc.ExitType `json:"exit_type" db:"exit_type"`
	ExitTypeLabel   string        `json:"exit_type_label" db:"-"`
	ExitDate        civil.Date    `json:"exit_date" db:"exit_date"`
	HoldingReturn   bool          `json:"holding_return" db:"holding_return"`
	RateSource      string        `json:"rate_source" db:"rate_source"`
	RateSourceLabel string        `json:"rate_source_label" db:"-"`
	Status          Status        `json:"status" db:"status"`
	StatusLabel     string        `json:"status_label" db:"-"`
	Total           money.Amount  `json:"total" db:"total"`
	RequestID       *int64        `json:"request_id" db:"request_id"`
	ProcessID       *int64        `json:"process_id" db:"process_id"`
	LaunchProjectID *int64        `json:"launch_project_id" db:"launch_project_id"`
	AgreedAt        *time.Time    `json:"agreed_at" db:"agreed_at"`
	PaidOn          *civil.Date   `json:"paid_on" db:"paid_on"`
	PaidAmount      *money.Amount `json:"paid_amount" db:"paid_amount"`
	PayoutTxID      *int64        `json:"payout_transaction_id" db:"payout_tx_id"`
	// TakenOverBy is the platform company's name (承接方).
	TakenOverBy   string    `json:"taken_over_by" db:"-"`
	CreatedByName string    `json:"created_by_name" db:"created_by_name"`
	CreatedAt     time.Time `json:"created_at" db:"created_at"`
	Version       int       `json:"version" db:"version"`
	Lines         []Line    `json:"lines" db:"-"`
}

// The rate sources of a quote.
const (
	RateFinancingCost = "financing_cost"
	RateNone          = "none"
)

var rateSourceLabels = map[string]string{RateFinancingCost: "项目资金成本利率", RateNone: "不计持有收益"}

func (e *Exit) describe() {
	e.ExitTypeLabel = e.ExitType.Label()
	e.StatusLabel = e.Status.Label()
	e.RateSourceLabel = rateSourceLabels[e.RateSource]
	if e.Lines == nil {
		e.Lines = []Line{}
	}
}

// PayoutInput registers the payout of an agreed exit.
type PayoutInput struct {
	PaidOn civil.Date   `json:"paid_on"`
	Amount money.Amount `json:"amount"`
}

// RequestInput is a partner's exit request (申请退出).
type RequestInput struct {
	Reason      string `json:"reason"`
	DesiredDate string `json:"desired_date"`
}

// Request is a partner's exit request.
type Request struct {
	ID          int64         `json:"id" db:"id"`
	PartnerID   int64         `json:"partner_id" db:"partner_id"`
	UserID      int64         `json:"user_id" db:"user_id"`
	PartnerName string        `json:"partner_name" db:"partner_name"`
	Reason      string        `json:"reason" db:"reason"`
	DesiredDate civil.Date    `json:"desired_date" db:"desired_date"`
	Status      RequestStatus `json:"status" db:"status"`
	StatusLabel string        `json:"status_label" db:"-"`
	ExitID      *int64        `json:"exit_id" db:"exit_id"`
	CreatedAt   time.Time     `json:"created_at" db:"created_at"`
	Version     int           `json:"version" db:"version"`
}

// Scope says which projects the caller may see (auth.Scope).
type Scope interface{ Contains(id int64) bool }
