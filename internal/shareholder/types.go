// Package shareholder keeps the minority shareholders (小股东 / 外部股东) of
// project companies: the registry (后台管理 → 外部股东) with their ID and
// bank numbers sealed like payout accounts, and the registrations of their
// stakes per project (股东登记) with review by a business admin and a
// history of versions. Only approved registrations count (ApprovedStakes);
// internal/shareholderdist distributes to them.
package shareholder

import (
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/money"
)

// Purposes bind a sealed number to its use (see internal/secret).
const (
	idPurpose      = "minority_shareholder_id_number"
	accountPurpose = "minority_shareholder_account_number"
)

// Kind is what a shareholder is: a company or a person.
type Kind string

// The kinds of shareholder.
const (
	KindCompany Kind = "company"
	KindPerson  Kind = "person"
)

var kindLabels = map[Kind]string{KindCompany: "企业", KindPerson: "个人"}

// Label is the kind in Chinese.
func (k Kind) Label() string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// Status is a registration's state.
type Status string

// The registration's states: draft → submitted (申请审核) → approved
// (审核通过) | returned (退回, editable again); an approved one becomes
// superseded when a newer version for the same shareholder is approved.
const (
	StatusDraft      Status = "draft"
	StatusSubmitted  Status = "submitted"
	StatusApproved   Status = "approved"
	StatusReturned   Status = "returned"
	StatusSuperseded Status = "superseded"
)

var statusLabels = map[Status]string{
	StatusDraft: "草稿", StatusSubmitted: "待审核", StatusApproved: "已通过",
	StatusReturned: "已退回", StatusSuperseded: "已被替代",
}

// Label is the state in Chinese.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// StatusLabels are the registration states' labels (for the labels API).
func StatusLabels() map[Status]string { return statusLabels }

// KindLabels are the shareholder kinds' labels (for the labels API).
func KindLabels() map[Kind]string { return kindLabels }

func init() {
	audit.DescribeStates("shareholder_registration", statusLabels)
	audit.DescribeValues("minority_shareholder", "kind", kindLabels)
}

// Shareholder is a registered minority shareholder as every screen shows it:
// the ID and account numbers masked, never in clear.
type Shareholder struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	Kind           Kind      `json:"kind"`
	KindLabel      string    `json:"kind_label"`
	IDNumberMasked string    `json:"id_number_masked"`
	Contact        string    `json:"contact"`
	Bank           string    `json:"bank"`
	AccountMasked  string    `json:"account_masked"`
	Version        int       `json:"version"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Stake is an approved (in force) registration: a shareholder's share of a
// project company. Stake is a fraction (0.15 = 15%), Contributed in yuan to
// the fen.
type Stake struct {
	RegistrationID int64           `json:"registration_id"`
	ShareholderID  int64           `json:"shareholder_id"`
	Name           string          `json:"name"`
	Stake          decimal.Decimal `json:"stake"`
	Contributed    decimal.Decimal `json:"contributed"`
	ContributedOn  civil.Date      `json:"contributed_on"`
}

// BankAccount is a shareholder's bank account with the number in clear
// (Payee): only the bank payout file holds one; never JSON, a log or the
// audit log.
type BankAccount struct {
	ShareholderID int64
	Name          string
	Bank          string
	Number        string `json:"-"`
}

// Registration is one version of a shareholder's stake in a project.
type Registration struct {
	ID              int64        `json:"id"`
	ProjectID       int64        `json:"project_id"`
	ShareholderID   int64        `json:"shareholder_id"`
	ShareholderName string       `json:"shareholder_name"`
	ShareholderKind Kind         `json:"shareholder_kind"`
	Stake           string       `json:"stake"`
	Contributed     money.Amount `json:"contributed"`
	ContributedOn   civil.Date   `json:"contributed_on"`
	Status          Status       `json:"status"`
	StatusLabel     string       `json:"status_label"`
	SubmittedBy     *int64       `json:"submitted_by"`
	SubmittedAt     *time.Time   `json:"submitted_at"`
	ReviewedByName  string       `json:"reviewed_by_name"`
	ReviewedAt      *time.Time   `json:"reviewed_at"`
	ReviewReason    string       `json:"review_reason"`
	CreatedByName   string       `json:"created_by_name"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
	Version         int          `json:"version"`
}

// Mask shows a number by its last four characters only.
func Mask(last4 string) string {
	if last4 == "" {
		return ""
	}
	return "****" + last4
}
