// Package round owns subscription rounds (合伙方案/轮次): partner lists,
// subscriptions, allocation, review.
//
// A round moves draft → open (notices sent) → closed (deadline passed or
// closed by hand) → calculated → submitted → reviewed (or rejected → back to
// calculated) → in_approval → approved (or refused → back to calculated)
// (DESIGN §2). A project has at most one initial round (立项); a
// supplementary round (补充立项) may be opened only when every earlier round
// of the project is approved, so that its pools — what approved rounds left —
// are known and no two rounds compete for the same quota.
package round

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/project"
	"hehuo/internal/workflow"
)

// The kinds of round.
const (
	KindInitial       = "initial"       // 立项
	KindSupplementary = "supplementary" // 补充立项
)

// Status is a round's state (DESIGN §2).
type Status string

// The round states.
const (
	StatusDraft      Status = "draft"
	StatusOpen       Status = "open"
	StatusClosed     Status = "closed"
	StatusCalculated Status = "calculated"
	StatusSubmitted  Status = "submitted"
	StatusReviewed   Status = "reviewed"
	StatusInApproval Status = "in_approval"
	StatusApproved   Status = "approved"
)

// statusLabels are the round states in the seed manual's words: a
// calculated round is 送审 (submitted) and waits for 审核; an approved one
// is 立项 done. The API serves them as status_label; no screen keeps its own.
var statusLabels = map[Status]string{
	StatusDraft: "草稿", StatusOpen: "认购中", StatusClosed: "认购截止", StatusCalculated: "已测算",
	StatusSubmitted: "待审核", StatusReviewed: "审核通过", StatusInApproval: "立项审批中", StatusApproved: "已立项",
}

// Statuses lists the round states in their order (DESIGN §2).
var Statuses = []Status{StatusDraft, StatusOpen, StatusClosed, StatusCalculated, StatusSubmitted,
	StatusReviewed, StatusInApproval, StatusApproved}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() { audit.DescribeStates("round", statusLabels) }

// The tiers of a partnership (GLOSSARY).
var Tiers = []string{"holding", "property", "city", "other"}

// TierNames are the tiers as the console shows them.
var TierNames = map[string]string{"holding": "控股集团", "property": "置业集团", "city": "城市公司", "other": "其它"}

// Service owns rounds.
type Service struct {
	db  *db.DB
	wf  *workflow.Service
	est *establishment.Service
	cfg config.Config
	// Now is the clock; tests move it past deadlines.
	Now func() time.Time
}

// NewService returns the round service and registers the establishment and
// supplementary process effects with the process center.
func NewService(d *db.DB, wf *workflow.Service, est *establishment.Service, cfg config.Config) *Service {
	s := &Service{db: d, wf: wf, est: est, cfg: cfg, Now: time.Now}
	s.registerEffects()
	return s
}

// Round is one subscription round with its figures.
type Round struct {
	ID              int64       `db:"id" json:"id"`
	ProjectID       int64       `db:"project_id" json:"project_id"`
	ProjectName     string      `db:"project_name" json:"project_name"`
	CityCompanyID   int64       `db:"city_company_id" json:"city_company_id"`
	Kind            string      `db:"kind" json:"kind"`
	Seq             int         `db:"seq" json:"seq"`
	Name            string      `db:"-" json:"name"`
	Status          Status      `db:"status" json:"status"`
	StatusLabel     string      `db:"-" json:"status_label"`
	SubscriptionSeq int64       `db:"subscription_seq" json:"subscription_seq"`
	Deadline        *civil.Date `db:"deadline" json:"deadline"` // the latest invitation deadline
	Invited         int         `db:"invited" json:"invited"`
	Subscribed      int         `db:"subscribed" json:"subscribed"`
	// MandatoryMissing counts mandatory partners without a subscription.
	MandatoryMissing int          `db:"mandatory_missing" json:"mandatory_missing"`
	Requested        money.Amount `db:"requested" json:"requested"` // Σ current subscriptions
	// HasAllocation says whether the round has been calculated (or previewed),
	// so screens ask for an allocation only when there is one.
	HasAllocation  bool       `db:"has_allocation" json:"has_allocation"`
	NoticesSentAt  *time.Time `db:"notices_sent_at" json:"notices_sent_at"`
	NoticesSentBy  *string    `db:"notices_sent_by" json:"notices_sent_by"`
	ClosedAt       *time.Time `db:"closed_at" json:"closed_at"`
	ClosedBy       *string    `db:"closed_by" json:"closed_by"`
	SubmittedAt    *time.Time `db:"submitted_at" json:"submitted_at"`
	ReviewedAt     *time.Time `db:"reviewed_at" json:"reviewed_at"`
	ReviewedBy     *string    `db:"reviewed_by" json:"reviewed_by"`
	ReviewDecision *string    `db:"review_decision" json:"review_decision"`
	ReviewReason   string     `db:"review_reason" json:"review_reason"`
	ApprovedAt     *time.Time `db:"approved_at" json:"approved_at"`
	CreatedBy      string     `db:"created_by" json:"created_by"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
	Version        int        `db:"version" json:"version"`
}

// RoundName is how people call a round: 立项, 补充立项2.
func RoundName(kind string, seq int) string {
	if kind == KindInitial {
		return "立项"
	}
	return fmt.Sprintf("补充立项%d", seq)
}

func (r *Round) fill() {
	r.Name = RoundName(r.Kind, r.Seq)
	r.StatusLabel = r.Status.Label()
}

const selectRound = `SELECT r.id, r.project_id, p.name AS project_name, p.city_company_id, r.kind, r.seq, r.status,
	r.subscription_seq, r.notices_sent_at, r.notices_sent_by, r.closed_at, r.closed_by, r.submitted_at, r.reviewed_at,
	r.reviewed_by, r.review_decision, r.review_reason, r.approved_at, r.created_by, r.created_at, r.updated_at, r.version,
	i.deadline, coalesce(i.invited, 0) AS invited, coalesce(i.subscribed, 0) AS subscribed,
	coalesce(i.mandatory_missing, 0) AS mandatory_missing, coalesce(i.requested, 0) AS requested,
	EXISTS (SELECT 1 FROM allocations a WHERE a.round_id = r.id) AS has_allocation
	FROM rounds r JOIN projects p ON p.id = r.project_id
	LEFT JOIN LATERAL (SELECT max(deadline) AS deadline, count(*) AS invited, count(amount) AS subscribed,
		count(*) FILTER (WHERE mandatory AND amount IS NULL) AS mandatory_missing, sum(amount) AS requested
		FROM invitations WHERE round_id = r.id) i ON true`

// Round returns one round.
func (s *Service) Round(ctx context.Context, q sqlx.QueryerContext, id int64) (Round, error) {
	var r Round
	err := sqlx.GetContext(ctx, q, &r, selectRound+` WHERE r.id = $1`, id)
	if db.IsNoRows(err) {
		return r, errRoundNotFound
	}
	if err != nil {
		return r, fmt.Errorf("get round %d: %w", id, err)
	}
	r.fill()
	return r, nil
}

var errRoundNotFound = apperr.NotFound("round_not_found", "轮次不存在")

// Get returns one round, read outside any transaction.
func (s *Service) Get(ctx context.Context, id int64) (Round, error) { return s.Round(ctx, s.db, id) }

// ProjectOf returns the project of round id, for scope checks: a missing
// round is 404 like one outside the caller's scope.
func (s *Service) ProjectOf(ctx context.Context, id int64) (int64, error) {
	var pid int64
	err := s.db.GetContext(ctx, &pid, `SELECT project_id FROM rounds WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return 0, errRoundNotFound
	}
	return pid, err
}

// List returns a project's rounds, oldest first.
func (s *Service) List(ctx context.Context, projectID int64) ([]Round, error) {
	rs := []Round{}
	if err := s.db.SelectContext(ctx, &rs, selectRound+` WHERE r.project_id = $1 ORDER BY r.id`, projectID); err != nil {
		return nil, fmt.Errorf("list rounds: %w", err)
	}
	for i := range rs {
		rs[i].fill()
	}
	return rs, nil
}

// CreateInput opens a round.
type CreateInput struct {
	Kind string `json:"kind"`
}

// Create adds a draft round to a project: the one initial round, or a
// supplementary round once every earlier round is approved.
func (s *Service) Create(ctx context.Context, a audit.Actor, projectID int64, in CreateInput) (Round, error) {
	if in.Kind != KindInitial && in.Kind != KindSupplementary {
		return Round{}, apperr.Invalid("round_kind_invalid", "kind", "轮次类型须为 initial（立项）或 supplementary（补充立项）")
	}
	var r Round
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		// Lock the project so that two concurrent creations cannot both see "no round yet".
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT true FROM projects WHERE id = $1 FOR UPDATE`, projectID); err != nil {
			if db.IsNoRows(err) {
				return apperr.NotFound("project_not_found", "项目不存在")
			}
			return fmt.Errorf("lock project: %w", err)
		}
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		var existing []struct {
			Kind   string `db:"kind"`
			Status Status `db:"status"`
		}
		if err := tx.SelectContext(ctx, &existing, `SELECT kind, status FROM rounds WHERE project_id = $1`, projectID); err != nil {
			return fmt.Errorf("rounds of project: %w", err)
		}
		hasInitial := slices.ContainsFunc(existing, func(e struct {
			Kind   string `db:"kind"`
			Status Status `db:"status"`
		}) bool {
			return e.Kind == KindInitial
		})
		seq := 1
		switch in.Kind {
		case KindInitial:
			if hasInitial {
				return apperr.Conflict("initial_round_exists", "该项目已有立项轮次，新增合伙人请发起补充立项").WithField("kind")
			}
		case KindSupplementary:
			if !hasInitial {
				return apperr.Rule("initial_round_missing", "kind", "项目尚未立项，不能补充立项")
			}
			for _, e := range existing {
				if e.Status != StatusApproved {
					return apperr.Rule("round_pending", "kind", "项目还有未审批通过的轮次，完成后才能补充立项")
				}
				if e.Kind == KindSupplementary {
					seq++
				}
			}
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO rounds (project_id, kind, seq, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
			projectID, in.Kind, seq, actorName(a)); err != nil {
			if _, dup := db.IsUniqueViolation(err); dup {
				return apperr.Conflict("initial_round_exists", "该项目已有立项轮次")
			}
			return fmt.Errorf("insert round: %w", err)
		}
		var err error
		if r, err = s.Round(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "round.create", Entity: "round", EntityID: id, ProjectID: &projectID, After: r})
	})
	return r, err
}

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}

// writable refuses a write on a round of a project that is not open or is
// settled (project.Writable, the rule every area shares); a missing round is
// 404. Callers run it first in their transaction, before locking the round.
func writable(ctx context.Context, tx *sqlx.Tx, roundID int64) error {
	var projectID int64
	err := tx.GetContext(ctx, &projectID, `SELECT project_id FROM rounds WHERE id = $1`, roundID)
	if db.IsNoRows(err) {
		return errRoundNotFound
	}
	if err != nil {
		return fmt.Errorf("project of round %d: %w", roundID, err)
	}
	return project.Writable(ctx, tx, projectID)
}

// lock reads round id FOR UPDATE in tx.
func (s *Service) lock(ctx context.Context, tx *sqlx.Tx, id int64) (Round, error) {
	var st Status
	if err := tx.GetContext(ctx, &st, `SELECT status FROM rounds WHERE id = $1 FOR UPDATE`, id); err != nil {
		if db.IsNoRows(err) {
			return Round{}, errRoundNotFound
		}
		return Round{}, fmt.Errorf("lock round %d: %w", id, err)
	}
	return s.Round(ctx, tx, id)
}

// stateError says a round is not in a state that allows the step.
func stateError(r Round, step string) error {
	return apperr.Conflict("round_state", "轮次当前状态为「%s」，不能%s", r.Status.Label(), step)
}

// transition moves round roundID from one of from to to, in tx, with its
// audit entry; any other current state is a 409. It stamps the time of the
// states that have one.
func (s *Service) transition(ctx context.Context, tx *sqlx.Tx, roundID int64, from []Status, to Status, a audit.Actor, action string) error {
	before, err := s.lock(ctx, tx, roundID)
	if err != nil {
		return err
	}
	if !slices.Contains(from, before.Status) {
		return stateError(before, transitionVerb(to))
	}
	stamp := ""
	switch to {
	case StatusClosed:
		stamp = ", closed_at = now(), closed_by = $3"
	case StatusSubmitted:
		stamp = ", submitted_at = now()"
	case StatusApproved:
		stamp = ", approved_at = now()"
	case StatusOpen:
		stamp = ", notices_sent_at = coalesce(notices_sent_at, now()), notices_sent_by = coalesce(notices_sent_by, $3)"
	}
	args := []any{to, roundID}
	if strings.Contains(stamp, "$3") {
		args = append(args, actorName(a))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rounds SET status = $1, version = version + 1, updated_at = now()`+stamp+` WHERE id = $2`, args...); err != nil {
		return fmt.Errorf("round %d → %s: %w", roundID, to, err)
	}
	after, err := s.Round(ctx, tx, roundID)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, a, audit.Entry{Action: action, Entity: "round", EntityID: roundID, ProjectID: &before.ProjectID,
		Before: map[string]any{"status": before.Status, "version": before.Version},
		After:  map[string]any{"status": after.Status, "version": after.Version}})
}

func transitionVerb(to Status) string {
	switch to {
	case StatusOpen:
		return "发送认购通知"
	case StatusClosed:
		return "截止认购"
	case StatusCalculated:
		return "测算"
	case StatusSubmitted:
		return "送审"
	case StatusReviewed:
		return "审核"
	case StatusInApproval:
		return "发起立项流程"
	case StatusApproved:
		return "审批通过"
	}
	return "变更"
}

// InvitationLine is one invitation as allocation needs it.
type InvitationLine struct {
	InvitationID int64           `db:"id"`
	PartnerID    int64           `db:"partner_id"`
	UserID       int64           `db:"user_id"`
	Name         string          `db:"name"`
	Tier         string          `db:"tier"`
	Mandatory    bool            `db:"mandatory"`
	Min          decimal.Decimal `db:"min_amount"`
	Max          decimal.Decimal `db:"max_amount"`
	Requested    decimal.Decimal `db:"requested"` // the current subscription, 0 without one
	Subscribed   bool            `db:"subscribed"`
}

// invitationsForAllocation returns round roundID's invitations in partner order.
func (s *Service) invitationsForAllocation(ctx context.Context, q sqlx.QueryerContext, roundID int64) ([]InvitationLine, error) {
	ls := []InvitationLine{}
	err := sqlx.SelectContext(ctx, q, &ls, `SELECT i.id, i.partner_id, i.user_id, u.name, i.tier, i.mandatory, i.min_amount, i.max_amount,
		coalesce(i.amount, 0) AS requested, i.amount IS NOT NULL AS subscribed
		FROM invitations i JOIN users u ON u.id = i.user_id WHERE i.round_id = $1 ORDER BY i.partner_id`, roundID)
	if err != nil {
		return nil, fmt.Errorf("invitations of round %d: %w", roundID, err)
	}
	return ls, nil
}
