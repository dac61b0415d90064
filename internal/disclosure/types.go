// Package disclosure is the holding period's information to partners: the
// P&L updates (盈亏动态) — dated periods of the establishment's profit
// indicators (盈利指标), the 立项 values staying the baseline — and the
// disclosures (披露): a disclosure process per period, agreed in DingTalk,
// waiting in 披露审核 until the business admin sends the merged notices
// (合并发送通知, seed 6.1.3), one per partner naming every project they
// hold that has news.
//
// It owns profit_updates, profit_update_versions, disclosure_sends and
// disclosures. Who holds a project comes from internal/position; the
// indicators' baseline from internal/establishment; a disclosure's
// documents are its process's attachments (internal/workflow).
package disclosure

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// Status is a P&L update's state.
type Status string

// The P&L update states: draft → in_approval → disclosed; a refused or
// terminated disclosure process returns the period to draft.
const (
	StatusDraft      Status = "draft"
	StatusInApproval Status = "in_approval"
	StatusDisclosed  Status = "disclosed"
)

var statusLabels = map[Status]string{StatusDraft: "未披露", StatusInApproval: "披露审批中", StatusDisclosed: "已披露"}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// SendStatus is a disclosure's state in 披露审核.
type SendStatus string

// The disclosure states: agreed (待发送) → sent (已发送).
const (
	SendAgreed SendStatus = "agreed"
	SendSent   SendStatus = "sent"
)

var sendLabels = map[SendStatus]string{SendAgreed: "待发送", SendSent: "已发送"}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s SendStatus) Label() string {
	if l, ok := sendLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() {
	audit.DescribeStates("profit_update", statusLabels)
	audit.DescribeStates("disclosure", sendLabels)
}

// ErrNotFound is a P&L update that does not exist (or another project's).
var ErrNotFound = apperr.NotFound("profit_update_not_found", "盈亏动态不存在")

// Values are one period's indicators: the fields of establishment's
// Indicators (IndicatorLabels names them), each optional; ratios are
// fractions ("0.12" = 12%).
type Values struct {
	// SaleableValue (货值; 立项: the establishment's basic information) and
	// Collections (回款: no 立项 value) are not among the 盈利指标.
	SaleableValue   *money.Amount `json:"saleable_value"`
	Collections     *money.Amount `json:"collections"`
	SalesRevenue    *money.Amount `json:"sales_revenue"`
	TotalInvestment *money.Amount `json:"total_investment"`
	NetProfit       *money.Amount `json:"net_profit"`
	GroupNetProfit  *money.Amount `json:"group_net_profit"`
	NetMargin       *string       `json:"net_margin"`
	IRR             *string       `json:"irr"`
	PaybackMonths   *int          `json:"payback_months"`
}

// Input is a period as the accountant enters it (POST creates, PATCH
// replaces every field with the version read).
type Input struct {
	PeriodOn civil.Date `json:"period_on"`
	Title    string     `json:"title"`
	Note     string     `json:"note"`
	Values
	Version int `json:"version"`
}

// Compared is one indicator: 立项 (Baseline), 动态 (Value) and the
// difference Value − Baseline when both are entered.
type Compared struct {
	Field      string  `json:"field"`
	Label      string  `json:"label"`
	Kind       string  `json:"kind"` // amount, ratio, months
	Baseline   *string `json:"baseline"`
	Value      *string `json:"value"`
	Difference *string `json:"difference"`
}

// Revision is one saved version of a period.
type Revision struct {
	Version     int       `json:"version" db:"version"`
	Data        Snapshot  `json:"data" db:"-"`
	Raw         []byte    `json:"-" db:"data"`
	SavedByName string    `json:"saved_by_name" db:"saved_by_name"`
	SavedAt     time.Time `json:"saved_at" db:"saved_at"`
}

// Snapshot is what a version holds.
type Snapshot struct {
	PeriodOn civil.Date `json:"period_on"`
	Title    string     `json:"title"`
	Note     string     `json:"note"`
	Values
}

// ProfitUpdate is one period of a project's P&L with its comparison to
// the 立项 baseline and its history.
type ProfitUpdate struct {
	ID          int64      `json:"id" db:"id"`
	ProjectID   int64      `json:"project_id" db:"project_id"`
	PeriodOn    civil.Date `json:"period_on" db:"period_on"`
	Title       string     `json:"title" db:"title"`
	Note        string     `json:"note" db:"note"`
	Values      `db:"-"`
	Status      Status     `json:"status" db:"status"`
	StatusLabel string     `json:"status_label" db:"-"`
	ProcessID   *int64     `json:"process_id" db:"process_id"`
	CreatedBy   string     `json:"created_by_name" db:"created_by_name"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
	UpdatedBy   string     `json:"updated_by_name" db:"updated_by_name"`
	UpdatedAt   time.Time  `json:"updated_at" db:"updated_at"`
	Version     int        `json:"version" db:"version"`
	Comparison  []Compared `json:"comparison" db:"-"`
	History     []Revision `json:"history" db:"-"`
}

// valueRow is the numeric columns as stored.
type valueRow struct {
	SaleableValue   *decimal.Decimal `db:"saleable_value"`
	Collections     *decimal.Decimal `db:"collections"`
	SalesRevenue    *decimal.Decimal `db:"sales_revenue"`
	TotalInvestment *decimal.Decimal `db:"total_investment"`
	NetProfit       *decimal.Decimal `db:"net_profit"`
	GroupNetProfit  *decimal.Decimal `db:"group_net_profit"`
	NetMargin       *decimal.Decimal `db:"net_margin"`
	IRR             *decimal.Decimal `db:"irr"`
	PaybackMonths   *int             `db:"payback_months"`
}

// Indicator names one indicator for the screens.
type Indicator struct {
	Field string `json:"field"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
}

// Updates is a project's P&L: the indicators, the 立项 baseline and the
// periods, oldest first.
type Updates struct {
	ProjectID  int64          `json:"project_id"`
	Indicators []Indicator    `json:"indicators"`
	Baseline   Values         `json:"baseline"`
	Items      []ProfitUpdate `json:"items"`
}

// Disclosure is one agreed disclosure as 披露审核 lists it.
type Disclosure struct {
	ID             int64      `json:"id" db:"id"`
	ProjectID      int64      `json:"project_id" db:"project_id"`
	ProjectName    string     `json:"project_name" db:"-"`
	ProfitUpdateID int64      `json:"profit_update_id" db:"profit_update_id"`
	PeriodOn       civil.Date `json:"period_on" db:"period_on"`
	PeriodTitle    string     `json:"period_title" db:"title"`
	ProcessID      int64      `json:"process_id" db:"process_id"`
	Status         SendStatus `json:"status" db:"status"`
	StatusLabel    string     `json:"status_label" db:"-"`
	AgreedAt       time.Time  `json:"agreed_at" db:"agreed_at"`
	SentAt         *time.Time `json:"sent_at" db:"sent_at"`
	SentByName     *string    `json:"sent_by_name" db:"sent_by_name"`
	NoticeIDs      []int64    `json:"notice_ids" db:"-"`
	Partners       int        `json:"partners" db:"-"` // partners holding the project now
}

// marshalSnapshot renders a version's data.
func marshalSnapshot(s Snapshot) ([]byte, error) { return json.Marshal(s) }
