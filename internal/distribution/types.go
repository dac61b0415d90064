// Package distribution brings the money back to partners (分配, RULES R6–R8,
// R10): the actual peak confirmation (实际资金峰值确认), the batches —
// 本金分配, 利润分配 1..n and 清算分配 — with one line per partner, their
// calculation with a trace per figure, manual entry (解锁编辑, 导入), review
// (申请发布审核), the DingTalk approval whose agreement posts the batch on the
// ledger, the payouts (登记打款, bank payout file) and the 分配通知.
//
// It owns actual_peaks, distribution_batches and distribution_lines; money
// positions come from internal/position (which reads the lines back for the
// capital interest already deducted, R6's "B is deducted once").
package distribution

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// Kind is a batch's kind.
type Kind string

// The batch kinds, in the order of the stage bar (未分配 → 本金分配 → 第n次利润分配 → 清算分配).
const (
	KindPrincipal   Kind = "principal"   // 本金分配 (R6)
	KindProfit      Kind = "profit"      // 利润分配 n (R7)
	KindLiquidation Kind = "liquidation" // 清算分配 (R7): all remaining principal and the profit entered
)

var kindLabels = map[Kind]string{KindPrincipal: "本金分配", KindProfit: "利润分配", KindLiquidation: "清算分配"}

// Label is the kind in Chinese, or the code itself for an unknown kind.
func (k Kind) Label() string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// Valid reports whether k is a batch kind.
func (k Kind) Valid() bool { _, ok := kindLabels[k]; return ok }

// Status is a batch's state.
type Status string

// The batch states. draft → calculated → saved → submitted → reviewed (or
// rejected) → in_approval → approved → paid; a refused process returns the
// batch to saved, an edited input to draft.
const (
	StatusDraft      Status = "draft"
	StatusCalculated Status = "calculated"
	StatusSaved      Status = "saved"
	StatusSubmitted  Status = "submitted"
	StatusReviewed   Status = "reviewed"
	StatusRejected   Status = "rejected"
	StatusInApproval Status = "in_approval"
	StatusApproved   Status = "approved"
	StatusPaid       Status = "paid"
)

var statusLabels = map[Status]string{
	StatusDraft: "待测算", StatusCalculated: "已测算未保存", StatusSaved: "已保存", StatusSubmitted: "待审核",
	StatusReviewed: "审核通过", StatusRejected: "审核退回", StatusInApproval: "审批中", StatusApproved: "已审批待支付",
	StatusPaid: "已支付",
}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// Posted reports whether the batch's approval is on the ledger.
func (s Status) Posted() bool { return s == StatusApproved || s == StatusPaid }

// PeakStatus is an actual peak confirmation's state.
type PeakStatus string

// The actual peak states: draft → in_approval → agreed (refused: draft again).
const (
	PeakDraft      PeakStatus = "draft"
	PeakInApproval PeakStatus = "in_approval"
	PeakAgreed     PeakStatus = "agreed"
)

var peakStatusLabels = map[PeakStatus]string{PeakDraft: "待发起", PeakInApproval: "审批中", PeakAgreed: "已确认"}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s PeakStatus) Label() string {
	if l, ok := peakStatusLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() {
	audit.DescribeStates("distribution", statusLabels)
	audit.DescribeStates("actual_peak", peakStatusLabels)
}

// ActualPeak is the subject of the actual_peak process (实际资金峰值确认).
type ActualPeak struct {
	ID                int64        `json:"id" db:"id"`
	ProjectID         int64        `json:"project_id" db:"project_id"`
	ActualPeakCapital money.Amount `json:"actual_peak_capital" db:"actual_peak_capital"`
	Reason            string       `json:"reason" db:"reason"`
	Status            PeakStatus   `json:"status" db:"status"`
	StatusLabel       string       `json:"status_label" db:"-"`
	ProcessID         *int64       `json:"process_id" db:"process_id"`
	AgreedAt          *time.Time   `json:"agreed_at" db:"agreed_at"`
	CreatedByName     string       `json:"created_by_name" db:"created_by_name"`
	CreatedAt         time.Time    `json:"created_at" db:"created_at"`
	Version           int          `json:"version" db:"version"`
}

// Flags are the marks a line shows beside the name (退, 离).
type Flags struct {
	Exited bool `json:"exited"` // 退: the stake passed to the platform company
	Left   bool `json:"left"`   // 离: the partner left the company
}

// Line is one partner's line of a batch. A–E are R6's columns (principal
// and liquidation), F is R7's (profit and liquidation); Total is 分配合计
// across the project's batches up to and including this one.
type Line struct {
	Seq          int             `json:"seq" db:"seq"` // 序号
	PartnerID    int64           `json:"partner_id" db:"partner_id"`
	UserID       *int64          `json:"user_id" db:"user_id"`
	Name         string          `json:"name" db:"name"`
	Flags        Flags           `json:"flags" db:"-"`
	PayeeID      int64           `json:"payee_partner_id" db:"payee_partner_id"`
	PayeeName    string          `json:"payee_name" db:"payee_name"`
	A            money.Amount    `json:"a" db:"a"` // 事业合伙本金: principal outstanding
	B            money.Amount    `json:"b" db:"b"` // 资金利息: capital interest not yet deducted (≤ 0)
	C            money.Amount    `json:"c" db:"c"` // 其它: any sign, with a reason
	CReason      string          `json:"c_reason" db:"c_reason"`
	D            money.Amount    `json:"d" db:"d"` // 本金分配 不含其它 = round(A × ratio) + B
	E            money.Amount    `json:"e" db:"e"` // 本金分配 含其它 = D + C
	F            money.Amount    `json:"f" db:"f"` // 利润分配
	CalcD        *money.Amount   `json:"calc_d" db:"calc_d"`
	CalcE        *money.Amount   `json:"calc_e" db:"calc_e"`
	CalcF        *money.Amount   `json:"calc_f" db:"calc_f"`
	Manual       bool            `json:"manual" db:"manual"`
	ManualByName string          `json:"manual_by_name" db:"manual_by_name"`
	ManualAt     *time.Time      `json:"manual_at" db:"manual_at"`
	Trace        json.RawMessage `json:"trace" db:"trace"`
	Total        money.Amount    `json:"total" db:"-"` // 分配合计 (不含其它) across batches
	PaidOn       *civil.Date     `json:"paid_on" db:"paid_on"`
	PaidAmount   *money.Amount   `json:"paid_amount" db:"paid_amount"`
	PayoutStatus string          `json:"payout_status" db:"-"`
	PayoutLabel  string          `json:"payout_status_label" db:"-"`
}

// Batch is one distribution batch with its lines.
type Batch struct {
	ID                 int64            `json:"id" db:"id"`
	ProjectID          int64            `json:"project_id" db:"project_id"`
	Kind               Kind             `json:"kind" db:"kind"`
	KindLabel          string           `json:"kind_label" db:"-"`
	Seq                int              `json:"seq" db:"seq"`
	Title              string           `json:"title" db:"-"` // 本金分配, 第1次利润分配, 清算分配 (手工 when unlocked)
	Status             Status           `json:"status" db:"status"`
	StatusLabel        string           `json:"status_label" db:"-"`
	DistributionDate   *civil.Date      `json:"distribution_date" db:"distribution_date"`
	RecordDate         *civil.Date      `json:"record_date" db:"record_date"`
	ReturnRatio        *decimal.Decimal `json:"return_ratio" db:"return_ratio"`
	Amount             *money.Amount    `json:"amount" db:"amount"`
	AmountEntered      bool             `json:"amount_entered" db:"amount_entered"`
	NetProfit          *money.Amount    `json:"net_profit" db:"net_profit"`
	PartnershipRatio   *decimal.Decimal `json:"partnership_ratio" db:"partnership_ratio"`
	ProfitRatio        *decimal.Decimal `json:"profit_ratio" db:"profit_ratio"`
	SalesTargetOn      *civil.Date      `json:"sales_target_on" db:"sales_target_on"`
	CollectionTargetOn *civil.Date      `json:"collection_target_on" db:"collection_target_on"`
	Note               string           `json:"note" db:"note"`
	ActualPeakID       *int64           `json:"actual_peak_id" db:"actual_peak_id"`
	Unlocked           bool             `json:"unlocked" db:"unlocked"`
	ReviewNote         string           `json:"review_note" db:"review_note"`
	ProcessID          *int64           `json:"process_id" db:"process_id"`
	ApprovedAt         *time.Time       `json:"approved_at" db:"approved_at"`
	CreatedByName      string           `json:"created_by_name" db:"created_by_name"`
	CreatedAt          time.Time        `json:"created_at" db:"created_at"`
	Version            int              `json:"version" db:"version"`
	Lines              []Line           `json:"lines" db:"-"`
	// Totals are the 合计 row: Σ of each column over the lines.
	Totals Totals `json:"totals" db:"-"`
}

// Totals is the 合计 row of a batch.
type Totals struct {
	A     money.Amount `json:"a"`
	B     money.Amount `json:"b"`
	C     money.Amount `json:"c"`
	D     money.Amount `json:"d"`
	E     money.Amount `json:"e"`
	F     money.Amount `json:"f"`
	Total money.Amount `json:"total"`
}
