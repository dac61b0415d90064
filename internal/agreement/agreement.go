// Package agreement owns agreements (协议, docs/agreements.md): versioned
// agreement templates (模板管理 → 协议模板), one agreement per partner per
// approved round or agreed adjustment — created in the approval's own
// transaction with a snapshot of its variables and the template version —,
// its PDF (rendered once, deterministically, from the snapshot, stored with
// its SHA-256) and the partner's sign-off through an esign.Provider.
package agreement

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/esign"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/position"
	"hehuo/internal/round"
	"hehuo/internal/workflow"
)

// The subjects an agreement is generated for; also the template codes.
const (
	SubjectRound      = "round"      // an approved establishment or supplementary round
	SubjectAdjustment = "adjustment" // an agreed establishment adjustment (R5)
)

// Status is whether the partner signed.
type Status string

// The agreement states.
const (
	StatusUnsigned Status = "unsigned"
	StatusSigned   Status = "signed"
)

// StatusLabels are the states as every screen names them (labels API).
var StatusLabels = map[Status]string{StatusUnsigned: "待签署", StatusSigned: "已签署"}

// Label is the state in Chinese.
func (s Status) Label() string { return StatusLabels[s] }

func init() { audit.DescribeStates("agreement", StatusLabels) }

// Service owns agreement templates, agreements and sign-offs.
type Service struct {
	db       *db.DB
	est      *establishment.Service
	rounds   *round.Service
	pos      *position.Service
	provider esign.Provider
	fontPath string
	now      func() time.Time
}

// NewService returns the service and, when wf is not nil, observes the
// agreement of the establishment, supplementary and adjustment processes:
// their partners' agreements are created in the approval's transaction.
func NewService(d *db.DB, est *establishment.Service, rounds *round.Service, wf *workflow.Service, cfg config.Config) *Service {
	font := cfg.Agreements.FontPath
	if font == "" {
		font = config.DefaultAgreementFont
	}
	s := &Service{db: d, est: est, rounds: rounds, pos: position.NewService(d, est), provider: esign.InHouse{},
		fontPath: font, now: time.Now}
	if wf != nil {
		wf.Observe(workflow.KindEstablishment, s.roundAgreed)
		wf.Observe(workflow.KindSupplementary, s.roundAgreed)
		wf.Observe(workflow.KindAdjustment, s.adjustmentAgreed)
	}
	return s
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// SetProvider replaces the signature provider (the in-house one by default).
func (s *Service) SetProvider(p esign.Provider) { s.provider = p }

// Vars are an agreement's variables, by name (see Variables).
type Vars map[string]string

// Variable is one variable a template may use, with a sample for previews.
type Variable struct {
	Name   string `json:"name"`
	Label  string `json:"label"`
	Sample string `json:"sample"`
}

// Variables are what every agreement's snapshot holds. Amounts are in yuan,
// to the fen, thousands separated (1,234,567.89), as the screens show them.
var Variables = []Variable{
	{"partner_name", "合伙人姓名", "张三"},
	{"project_name", "项目名称", "常州项目"},
	{"round_name", "轮次", "立项"},
	{"tiers", "跟投层级", "城市公司"},
	{"allocated", "本轮认购金额（元）", "1,000,000.00"},
	{"principal", "在执本金（元）", "1,234,567.89"},
	{"funding_date", "资金到位日期", "2026-12-01"},
	{"agreement_date", "协议日期", "2026-12-04"},
	{"collection_bank", "收款开户银行", "招商银行常州分行"},
	{"collection_account_name", "收款账户名称", "常州合伙企业（有限合伙）"},
	{"collection_account_number", "收款银行账号", "6225 8800 1234 5678"},
}

// SampleVars are the sample values of every variable (previews).
func SampleVars() Vars {
	v := Vars{}
	for _, x := range Variables {
		v[x.Name] = x.Sample
	}
	return v
}

// Agreement is one partner's agreement.
type Agreement struct {
	ID              int64      `json:"id" db:"id"`
	ProjectID       int64      `json:"project_id" db:"project_id"`
	ProjectName     string     `json:"project_name" db:"-"`
	PartnerID       int64      `json:"partner_id" db:"partner_id"`
	PartnerName     string     `json:"partner_name" db:"-"`
	UserID          int64      `json:"user_id" db:"user_id"`
	SubjectKind     string     `json:"subject_kind" db:"subject_kind"`
	SubjectID       int64      `json:"subject_id" db:"subject_id"`
	SubjectName     string     `json:"subject_name" db:"-"`
	ProcessID       *int64     `json:"process_id" db:"process_id"`
	TemplateID      int64      `json:"template_id" db:"template_id"`
	TemplateName    string     `json:"template_name" db:"template_name"`
	TemplateVersion int        `json:"template_version" db:"template_version"`
	RawVars         []byte     `json:"-" db:"vars"`
	Vars            Vars       `json:"vars" db:"-"`
	SHA256          *string    `json:"sha256" db:"sha256"`
	GeneratedAt     *time.Time `json:"generated_at" db:"generated_at"`
	CreatedAt       time.Time  `json:"created_at" db:"created_at"`
	Status          Status     `json:"status" db:"-"`
	StatusLabel     string     `json:"status_label" db:"-"`
	SignedAt        *time.Time `json:"signed_at" db:"signed_at"`
	SignedSHA256    *string    `json:"signed_sha256" db:"signed_sha256"`
	DingTalkUserID  *string    `json:"signed_by_dingtalk_userid" db:"signed_by"`
}

const selectAgreement = `SELECT a.id, a.project_id, a.partner_id, a.user_id, a.subject_kind, a.subject_id, a.process_id,
	a.template_id, t.name AS template_name, t.version AS template_version, a.vars, a.sha256, a.generated_at, a.created_at,
	s.signed_at, s.document_sha256 AS signed_sha256, s.dingtalk_userid AS signed_by
	FROM agreements a JOIN agreement_templates t ON t.id = a.template_id
	LEFT JOIN agreement_signoffs s ON s.agreement_id = a.id`

func (a *Agreement) fill() error {
	a.Vars = Vars{}
	if err := json.Unmarshal(a.RawVars, &a.Vars); err != nil {
		return fmt.Errorf("agreement %d vars: %w", a.ID, err)
	}
	a.ProjectName, a.PartnerName, a.SubjectName = a.Vars["project_name"], a.Vars["partner_name"], a.Vars["round_name"]
	a.Status = StatusUnsigned
	if a.SignedAt != nil {
		a.Status = StatusSigned
	}
	a.StatusLabel = a.Status.Label()
	return nil
}

func selectAgreements(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]Agreement, error) {
	out := []Agreement{}
	if err := sqlx.SelectContext(ctx, q, &out, selectAgreement+" "+where, args...); err != nil {
		return nil, fmt.Errorf("agreements: %w", err)
	}
	for i := range out {
		if err := out[i].fill(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ErrNotFound is any agreement the caller may not see: another partner's
// is 404 as if it did not exist.
var ErrNotFound = apperr.NotFound("agreement_not_found", "协议不存在")

// GenerateForRound creates the agreements of approved round roundID that
// are missing, in its own transaction: for rounds approved without the
// process center (opening balances, the demo's data). Running it again
// writes nothing.
func (s *Service) GenerateForRound(ctx context.Context, roundID int64) error {
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		return s.roundAgreed(ctx, tx, workflow.Instance{SubjectID: roundID})
	})
}

// roundAgreed creates the agreements of an approved round's partners.
func (s *Service) roundAgreed(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
	r, err := s.rounds.Round(ctx, tx, inst.SubjectID)
	if err != nil {
		return err
	}
	if r.Status != round.StatusApproved {
		return apperr.Rule("round_not_approved", "subject_id", "轮次尚未立项审批通过，不能生成协议")
	}
	rp, err := s.pos.Round(ctx, tx, r.ID, r.ProjectID)
	if err != nil {
		return err
	}
	allocated := map[int64]money.Amount{}
	var order []int64
	for _, l := range rp.Lines {
		if l.UserID == nil {
			continue
		}
		if _, ok := allocated[l.PartnerID]; !ok {
			order = append(order, l.PartnerID)
		}
		allocated[l.PartnerID] = money.AmountOf(allocated[l.PartnerID].Add(l.Allocated))
	}
	var process *int64
	if inst.ID != 0 {
		process = &inst.ID
	}
	return s.generate(ctx, tx, SubjectRound, r.ID, process, r.ProjectID, r.Name, order, allocated)
}

// adjustmentAgreed creates an agreement (补充协议) for every employee partner
// holding principal in force in the project once the adjustment is agreed.
func (s *Service) adjustmentAgreed(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
	return s.generate(ctx, tx, SubjectAdjustment, inst.SubjectID, &inst.ID, inst.ProjectID, "立项调整", nil, nil)
}

// generate writes the agreements of one subject: for the partners in order
// (all employee partners with principal in force when nil), a snapshot of
// the variables and the current template of the subject's kind. Running
// again for the same subject writes nothing new.
func (s *Service) generate(ctx context.Context, tx *sqlx.Tx, kind string, subjectID int64, processID *int64, projectID int64, subjectName string,
	order []int64, allocated map[int64]money.Amount) error {
	tpl, err := current(ctx, tx, kind)
	if err != nil {
		return err
	}
	ps, err := s.pos.Positions(ctx, tx, position.Query{ProjectIDs: []int64{projectID}})
	if err != nil {
		return err
	}
	byPartner := map[int64]position.Position{}
	for _, p := range ps {
		byPartner[p.PartnerID] = p
	}
	if order == nil {
		for _, p := range ps {
			if p.UserID != nil && p.Committed && p.Principal.IsPositive() {
				order = append(order, p.PartnerID)
			}
		}
	}
	terms, err := s.est.Terms(ctx, tx, projectID)
	if err != nil {
		return err
	}
	today := civil.Today(s.now()).String()
	funding := ""
	if !terms.FundingDate.IsZero() {
		funding = terms.FundingDate.String()
	}
	n := 0
	for _, id := range order {
		p := byPartner[id]
		if p.UserID == nil {
			continue
		}
		var tiers []string
		for _, t := range p.Tiers() {
			tiers = append(tiers, round.TierNames[t])
		}
		alloc := "—"
		if a, ok := allocated[id]; ok {
			alloc = money.Display(a.Decimal)
		}
		v := Vars{
			"partner_name": p.PartnerName, "project_name": p.ProjectName, "round_name": subjectName,
			"tiers": strings.Join(tiers, "、"), "allocated": alloc, "principal": money.Display(p.Principal),
			"funding_date": funding, "agreement_date": today,
			"collection_bank": terms.CollectionAccount.Bank, "collection_account_name": terms.CollectionAccount.AccountName,
			"collection_account_number": terms.CollectionAccount.AccountNumber,
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO agreements (project_id, partner_id, user_id, subject_kind, subject_id, process_id, template_id, vars)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (subject_kind, subject_id, partner_id) DO NOTHING`,
			projectID, id, *p.UserID, kind, subjectID, processID, tpl.ID, raw)
		if err != nil {
			return fmt.Errorf("create agreement of partner %d: %w", id, err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: "agreement.generate", Entity: "agreement",
		EntityID: fmt.Sprintf("%s:%d", kind, subjectID), ProjectID: &projectID,
		After: map[string]any{"subject_kind": kind, "subject_id": subjectID, "count": n, "template_version": tpl.Version}})
}

var errNotAgreed = apperr.Invalid("agreement_not_agreed", "agreed", "请先阅读协议全文并勾选“我已阅读并同意”")
