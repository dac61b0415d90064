// Package shareholderdist keeps the shareholder distributions (股东分配) of
// project companies to their minority shareholders (小股东): batches with
// one line per approved registration (pro rata to stake by default, largest
// remainder to the fen), review by a business admin, payouts on the ledger
// under an Idempotency-Key, the batch's export, the bank payout file and
// the minority shareholders report. It owns shareholder_distributions and
// shareholder_distribution_lines; the registry and registrations are
// internal/shareholder's, read through its query functions.
package shareholderdist

import (
	"time"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// Status is where a batch stands.
type Status string

// The batch's states: draft → submitted (录入分配及申请审核) → approved
// (审核通过) | returned (退回, editable again) → paid once every line's
// payout is registered.
const (
	StatusDraft     Status = "draft"
	StatusSubmitted Status = "submitted"
	StatusApproved  Status = "approved"
	StatusReturned  Status = "returned"
	StatusPaid      Status = "paid"
)

var statusLabels = map[Status]string{
	StatusDraft: "草稿", StatusSubmitted: "待审核", StatusApproved: "审核通过", StatusReturned: "已退回", StatusPaid: "已打款",
}

// Label is the state in Chinese.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// Editable says whether the batch's lines may still change.
func (s Status) Editable() bool { return s == StatusDraft || s == StatusReturned }

// StatusLabels are the batch states' labels (labels API).
func StatusLabels() map[Status]string { return statusLabels }

// LineStatus is where a line stands with its payout.
type LineStatus string

// The line's payout states.
const (
	LineUnpaid LineStatus = "unpaid" // 待打款
	LinePaid   LineStatus = "paid"   // 已打款
)

var lineLabels = map[LineStatus]string{LineUnpaid: "待打款", LinePaid: "已打款"}

// Label is the line state in Chinese.
func (s LineStatus) Label() string { return lineLabels[s] }

// LineStatusLabels are the line states' labels (labels API).
func LineStatusLabels() map[LineStatus]string { return lineLabels }

func init() {
	audit.DescribeStates("shareholder_distribution", statusLabels)
	audit.DescribeStates("shareholder_payout", lineLabels)
}

// Batch is a shareholder distribution with its lines.
type Batch struct {
	ID               int64        `json:"id" db:"id"`
	ProjectID        int64        `json:"project_id" db:"project_id"`
	Seq              int          `json:"seq" db:"seq"`
	Title            string       `json:"title" db:"-"`
	DistributionDate civil.Date   `json:"distribution_date" db:"distribution_date"`
	Amount           money.Amount `json:"amount" db:"amount"`
	Note             string       `json:"note" db:"note"`
	Status           Status       `json:"status" db:"status"`
	StatusLabel      string       `json:"status_label" db:"-"`
	SubmittedBy      *int64       `json:"submitted_by" db:"submitted_by"`
	SubmittedAt      *time.Time   `json:"submitted_at" db:"submitted_at"`
	ReviewedByName   string       `json:"reviewed_by_name" db:"reviewed_by_name"`
	ReviewedAt       *time.Time   `json:"reviewed_at" db:"reviewed_at"`
	ReviewReason     string       `json:"review_reason" db:"review_reason"`
	CreatedByName    string       `json:"created_by_name" db:"created_by_name"`
	CreatedAt        time.Time    `json:"created_at" db:"created_at"`
	Version          int          `json:"version" db:"version"`
	Lines            []Line       `json:"lines" db:"-"`
	// Paid is Σ of the paid lines.
	Paid money.Amount `json:"paid" db:"-"`
}

// Line is one shareholder's part of a batch.
type Line struct {
	ShareholderID  int64  `json:"shareholder_id" db:"shareholder_id"`
	RegistrationID int64  `json:"registration_id" db:"registration_id"`
	Name           string `json:"name" db:"name"`
	AccountMasked  string `json:"account_masked" db:"-"`
	Bank           string `json:"bank" db:"-"`
	// Stake is the fraction in force when the batch was created ("0.150000").
	Stake       string       `json:"stake" db:"stake"`
	Amount      money.Amount `json:"amount" db:"amount"`
	PaidOn      *civil.Date  `json:"paid_on" db:"paid_on"`
	LedgerTxID  *int64       `json:"ledger_transaction_id" db:"ledger_tx_id"`
	Status      LineStatus   `json:"status" db:"-"`
	StatusLabel string       `json:"status_label" db:"-"`
}

// CreateInput is the body of POST /projects/{id}/shareholder-distributions.
type CreateInput struct {
	DistributionDate civil.Date   `json:"distribution_date"`
	Amount           money.Amount `json:"amount"`
	Note             string       `json:"note"`
}

// LineInput is the body of PATCH …/{id}/lines/{shareholder_id}: an amount
// typed by hand. The batch's amount becomes Σ of its lines.
type LineInput struct {
	Amount  *money.Amount `json:"amount"`
	Version int           `json:"version"`
}

// VersionInput carries the version a change applies to.
type VersionInput struct {
	Version int `json:"version"`
}

// ReviewInput is the body of …/{id}/review.
type ReviewInput struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason"`
	Version int    `json:"version"`
}

// PayoutInput is the body of …/{id}/payouts (登记打款).
type PayoutInput struct {
	ShareholderID int64      `json:"shareholder_id"`
	PaidOn        civil.Date `json:"paid_on"`
}

// Payout is a registered payout with where the batch stands after it.
type Payout struct {
	BatchID          int64        `json:"batch_id"`
	ShareholderID    int64        `json:"shareholder_id"`
	Name             string       `json:"name"`
	PaidOn           civil.Date   `json:"paid_on"`
	Amount           money.Amount `json:"amount"`
	LedgerTxID       int64        `json:"ledger_transaction_id"`
	BatchStatus      Status       `json:"batch_status"`
	BatchStatusLabel string       `json:"batch_status_label"`
	// Replayed: the Idempotency-Key had registered this payout before; nothing was posted this time.
	Replayed bool `json:"replayed"`
}

// Errors.
var (
	ErrNotFound       = apperr.NotFound("shareholder_distribution_not_found", "股东分配批次不存在")
	ErrNoShareholders = apperr.Rule("no_approved_shareholders", "", "本项目没有审核通过的小股东登记，不能新建股东分配")
	ErrNotApproved    = apperr.Rule("shareholder_distribution_not_approved", "", "股东分配审核通过后才能登记打款")
	errLineNotFound   = apperr.NotFound("shareholder_distribution_line_not_found", "该股东不在本分配批次中")
)
