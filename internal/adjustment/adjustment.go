// Package adjustment owns peak change (峰值变更) and establishment adjustment
// (立项调整), RULES R5: a peak change is approved through the process center
// and, agreed, sets the new peak and a new shareholding version; the
// adjustment that follows re-splits every partner's principal (calc.Adjust),
// goes through submit, review and its own process, and its top-ups (补缴)
// and refunds (退款) are settled on the ledger (变更缴款确认).
package adjustment

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/workflow"
)

// Service owns peak changes and adjustments.
type Service struct {
	db  *db.DB
	est *establishment.Service
	pos *position.Service
	now func() time.Time
}

// NewService returns the service and registers the effects of the
// peak_change and adjustment processes on wf (nil in tests without a
// process center).
func NewService(d *db.DB, est *establishment.Service, wf *workflow.Service) *Service {
	s := &Service{db: d, est: est, pos: position.NewService(d, est), now: time.Now}
	if est != nil {
		est.GuardShareholding(peakChangePending)
	}
	if wf != nil {
		wf.Register(workflow.KindPeakChange, s.peakChangeEffect())
		wf.Register(workflow.KindAdjustment, s.adjustmentEffect())
	}
	return s
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// PeakStatus is a peak change's state: draft → in_approval (the
// peak_change process) → agreed, or back to draft when refused.
type PeakStatus string

// The peak change states.
const (
	PeakDraft      PeakStatus = "draft"
	PeakInApproval PeakStatus = "in_approval"
	PeakAgreed     PeakStatus = "agreed"
)

var peakStatusLabels = map[PeakStatus]string{PeakDraft: "待发起", PeakInApproval: "审批中", PeakAgreed: "已生效"}

// Label is the state in Chinese, or the code itself for an unknown state.
func (s PeakStatus) Label() string {
	if l, ok := peakStatusLabels[s]; ok {
		return l
	}
	return string(s)
}

func init() { audit.DescribeStates("peak_change", peakStatusLabels) }

// PeakChange is the subject of the peak_change process.
type PeakChange struct {
	ID             int64                            `json:"id" db:"id"`
	ProjectID      int64                            `json:"project_id" db:"project_id"`
	OldPeakCapital money.Amount                     `json:"old_peak_capital" db:"old_peak_capital"`
	NewPeakCapital money.Amount                     `json:"new_peak_capital" db:"new_peak_capital"`
	Shareholders   []establishment.ShareholderInput `json:"shareholders" db:"-"`
	RawHolders     []byte                           `json:"-" db:"shareholders"`
	Reason         string                           `json:"reason" db:"reason"`
	Status         PeakStatus                       `json:"status" db:"status"`
	StatusLabel    string                           `json:"status_label" db:"-"`
	ProcessID      *int64                           `json:"process_id" db:"process_id"`
	EffectiveOn    *civil.Date                      `json:"effective_on" db:"effective_on"`
	CreatedByName  string                           `json:"created_by_name" db:"created_by_name"`
	CreatedAt      time.Time                        `json:"created_at" db:"created_at"`
	Version        int                              `json:"version" db:"version"`
}

// PeakChangeInput is the body of POST /projects/{id}/peak-changes.
type PeakChangeInput struct {
	NewPeakCapital string                           `json:"new_peak_capital"`
	Shareholders   []establishment.ShareholderInput `json:"shareholders"`
	Reason         string                           `json:"reason"`
}

const selectPeak = `SELECT id, project_id, old_peak_capital, new_peak_capital, shareholders, reason, status, process_id,
	effective_on, created_by_name, created_at, version FROM peak_changes`

func actorName(a audit.Actor) string {
	if a.Name == "" {
		return audit.System.Name
	}
	return a.Name
}

// CreatePeakChange records a peak change for the project: the new peak
// must differ from the one in force, which must be locked by an agreed
// peak_capital process; one change is open at a time (409).
func (s *Service) CreatePeakChange(ctx context.Context, a audit.Actor, projectID int64, in PeakChangeInput) (PeakChange, error) {
	newPeak, err := money.Parse(in.NewPeakCapital)
	if err != nil || newPeak.Sign() <= 0 {
		return PeakChange{}, apperr.Invalid("new_peak_capital_invalid", "new_peak_capital", "新资金峰值必须为大于0的金额")
	}
	if len(in.Shareholders) == 0 {
		return PeakChange{}, apperr.Invalid("shareholders_required", "shareholders", "请填写变更后的股东及持股比例")
	}
	var out PeakChange
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		t, err := s.est.Terms(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if !t.PeakLocked {
			return apperr.Rule("peak_not_locked", "new_peak_capital", "项目资金峰值尚未审批通过，不能发起峰值变更")
		}
		if t.PeakCapital.Equal(newPeak) {
			return apperr.Rule("peak_unchanged", "new_peak_capital", "新资金峰值与现资金峰值相同")
		}
		// The shareholders are checked now, with the rules of 股权合作, so
		// that an agreed change cannot fail on them later.
		if err := establishment.CheckShareholders(in.Shareholders); err != nil {
			return err
		}
		var open bool
		if err := tx.GetContext(ctx, &open, `SELECT EXISTS (SELECT 1 FROM peak_changes WHERE project_id = $1 AND status <> 'agreed')`, projectID); err != nil {
			return fmt.Errorf("open peak change: %w", err)
		}
		if open {
			return apperr.Conflict("peak_change_open", "该项目已有未完成的峰值变更")
		}
		// R5 scales the principal from the peak it was allocated at: an
		// agreed change whose adjustment is not agreed yet must finish first.
		var pending bool
		if err := tx.GetContext(ctx, &pending, `SELECT EXISTS (SELECT 1 FROM adjustments WHERE project_id = $1 AND status <> 'agreed')
			OR EXISTS (SELECT 1 FROM peak_changes p WHERE p.project_id = $1 AND p.status = 'agreed'
				AND NOT EXISTS (SELECT 1 FROM adjustments a WHERE a.peak_change_id = p.id)
				AND EXISTS (SELECT 1 FROM rounds r WHERE r.project_id = $1 AND r.status = 'approved'))`, projectID); err != nil {
			return fmt.Errorf("pending adjustment: %w", err)
		}
		if pending {
			return apperr.Conflict("adjustment_pending", "上一次峰值变更的立项调整尚未完成")
		}
		holders, _ := json.Marshal(in.Shareholders)
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO peak_changes (project_id, old_peak_capital, new_peak_capital, shareholders, reason,
			created_by, created_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			projectID, t.PeakCapital, newPeak, holders, in.Reason, a.ID, actorName(a)); err != nil {
			return fmt.Errorf("insert peak change: %w", err)
		}
		if out, err = getPeak(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "peak_change.create", Entity: "peak_change", EntityID: id,
			ProjectID: &projectID, After: out})
	})
	return out, err
}

// PeakChanges lists the project's peak changes, newest first.
func (s *Service) PeakChanges(ctx context.Context, projectID int64) ([]PeakChange, error) {
	var rows []PeakChange
	if err := sqlx.SelectContext(ctx, s.db, &rows, selectPeak+` WHERE project_id = $1 ORDER BY id DESC`, projectID); err != nil {
		return nil, fmt.Errorf("peak changes: %w", err)
	}
	for i := range rows {
		if err := rows[i].decode(); err != nil {
			return nil, err
		}
	}
	if rows == nil {
		rows = []PeakChange{}
	}
	return rows, nil
}

func (p *PeakChange) decode() error {
	p.StatusLabel = p.Status.Label()
	if err := json.Unmarshal(p.RawHolders, &p.Shareholders); err != nil {
		return fmt.Errorf("peak change %d shareholders: %w", p.ID, err)
	}
	return nil
}

func getPeak(ctx context.Context, q sqlx.QueryerContext, id int64) (PeakChange, error) {
	var p PeakChange
	if err := sqlx.GetContext(ctx, q, &p, selectPeak+` WHERE id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return p, apperr.NotFound("peak_change_not_found", "峰值变更不存在")
		}
		return p, fmt.Errorf("peak change %d: %w", id, err)
	}
	return p, p.decode()
}

func lockPeak(ctx context.Context, tx *sqlx.Tx, id, projectID int64) (PeakChange, error) {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM peak_changes WHERE id = $1 FOR UPDATE`, id); err != nil {
		return PeakChange{}, fmt.Errorf("lock peak change: %w", err)
	}
	p, err := getPeak(ctx, tx, id)
	if err == nil && p.ProjectID != projectID {
		return PeakChange{}, apperr.NotFound("peak_change_not_found", "峰值变更不存在")
	}
	return p, err
}

func (s *Service) setPeakStatus(ctx context.Context, tx *sqlx.Tx, p PeakChange, status PeakStatus, processID int64, action string, effective *civil.Date) error {
	if _, err := tx.ExecContext(ctx, `UPDATE peak_changes SET status = $2, process_id = $3, effective_on = COALESCE($4, effective_on),
		version = version + 1, updated_at = now() WHERE id = $1`, p.ID, status, processID, effective); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	after, err := getPeak(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: action, Entity: "peak_change", EntityID: p.ID,
		ProjectID: &p.ProjectID, Before: p, After: after})
}

// peakChangePending refuses a direct save of 股权合作 while a peak change of
// the project is in progress: its new shareholders take effect only when it
// is agreed (seed 4.1.1). In progress is drafted and not yet launched, or in
// approval; one refused or terminated goes back to draft with its process
// id, and no longer holds the shareholding.
func peakChangePending(ctx context.Context, q sqlx.QueryerContext, projectID int64) error {
	var pending bool
	if err := sqlx.GetContext(ctx, q, &pending, `SELECT EXISTS (SELECT 1 FROM peak_changes WHERE project_id = $1
		AND (status = 'in_approval' OR (status = 'draft' AND process_id IS NULL)))`, projectID); err != nil {
		return fmt.Errorf("peak change in progress: %w", err)
	}
	if pending {
		return apperr.Conflict("peak_change_pending", "该项目有进行中的峰值变更，新的股东随峰值变更审批通过后生效，不能直接修改股权合作")
	}
	return nil
}

// peakChangeEffect: launched on a draft change; while in approval nothing
// else may start; agreed, the new peak and shareholding take effect.
func (s *Service) peakChangeEffect() workflow.Effect {
	return workflow.Effect{
		Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
			p, err := lockPeak(ctx, tx, l.SubjectID, l.ProjectID)
			if err != nil {
				return workflow.Form{}, err
			}
			if p.Status != PeakDraft {
				return workflow.Form{}, apperr.Conflict("peak_change_not_draft", "该峰值变更已发起或已生效")
			}
			f := []workflow.FormField{
				{Name: "原资金峰值", Value: p.OldPeakCapital.String()},
				{Name: "新资金峰值", Value: p.NewPeakCapital.String()},
			}
			for _, h := range p.Shareholders {
				f = append(f, workflow.FormField{Name: "股东：" + h.Name, Value: establishment.KindLabel(h.Kind) + " " + h.Stake})
			}
			if p.Reason != "" {
				f = append(f, workflow.FormField{Name: "变更原因", Value: p.Reason})
			}
			return workflow.Form{Fields: f}, nil
		},
		Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			p, err := lockPeak(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			return s.setPeakStatus(ctx, tx, p, PeakInApproval, inst.ID, "peak_change.in_approval", nil)
		},
		Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			p, err := lockPeak(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			today := civil.Today(s.now())
			if err := s.est.ChangePeakCapital(ctx, tx, audit.System, p.ProjectID, p.NewPeakCapital.Decimal, inst.ID); err != nil {
				return err
			}
			cur, err := s.est.Shareholding(ctx, tx, p.ProjectID)
			if err != nil {
				return err
			}
			eff := today
			if cur.Version > 0 && today.Start().Before(cur.EffectiveOn.Start()) {
				eff = cur.EffectiveOn
			}
			if _, err := s.est.SaveShareholding(ctx, tx, audit.System, p.ProjectID, establishment.ShareholdingInput{
				EffectiveOn: eff, Reason: fmt.Sprintf("峰值变更（流程 %d）", inst.ID), Shareholders: p.Shareholders, Version: cur.Version,
			}); err != nil {
				return err
			}
			return s.setPeakStatus(ctx, tx, p, PeakAgreed, inst.ID, "peak_change.agreed", &today)
		},
		Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			p, err := lockPeak(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if p.Status != PeakInApproval {
				return nil
			}
			return s.setPeakStatus(ctx, tx, p, PeakDraft, inst.ID, "peak_change.returned", nil)
		},
	}
}
