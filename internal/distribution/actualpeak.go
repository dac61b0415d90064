package distribution

import (
	"cmp"
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/project"
	"hehuo/internal/text"
	"hehuo/internal/workflow"
)

// ActualPeakInput is the body of POST /projects/{id}/actual-peaks.
type ActualPeakInput struct {
	ActualPeakCapital string `json:"actual_peak_capital"` // 资金峰值-实际, yuan to the fen
	Reason            string `json:"reason"`              // 情况说明
}

const selectPeak = `SELECT id, project_id, actual_peak_capital, reason, status, process_id, agreed_at, created_by_name,
	created_at, version FROM actual_peaks`

// CreateActualPeak records a confirmation of the project's actual peak
// capital (实际资金峰值确认), the subject of an actual_peak process; its
// files are linked when the process is launched, like every subject's. One
// confirmation is open (draft or in approval) at a time (409); the kind is
// repeatable, and a principal batch takes the last one agreed.
func (s *Service) CreateActualPeak(ctx context.Context, a audit.Actor, projectID int64, in ActualPeakInput) (ActualPeak, error) {
	capital, err := money.Parse(in.ActualPeakCapital)
	if err != nil || !capital.IsPositive() {
		code := "actual_peak_capital_invalid"
		if e := apperr.As(err); e != nil && e.Code == "amount_too_precise" {
			code = e.Code
		}
		return ActualPeak{}, apperr.Invalid(code, "actual_peak_capital", "资金峰值-实际必须为大于0的金额，最多两位小数")
	}
	reason, err := text.CleanNote(in.Reason, "reason", "情况说明", false, 2000)
	if err != nil {
		return ActualPeak{}, err
	}
	var out ActualPeak
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := project.Writable(ctx, tx, projectID); err != nil {
			return err
		}
		var open bool
		if err := tx.GetContext(ctx, &open, `SELECT EXISTS (SELECT 1 FROM actual_peaks WHERE project_id = $1 AND status <> 'agreed')`, projectID); err != nil {
			return fmt.Errorf("open actual peak: %w", err)
		}
		if open {
			return errPeakOpen
		}
		var id int64
		err := tx.GetContext(ctx, &id, `INSERT INTO actual_peaks (project_id, actual_peak_capital, reason, created_by, created_by_name)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, projectID, capital, reason, a.ID, cmp.Or(a.Name, audit.System.Name))
		if _, ok := db.IsUniqueViolation(err); ok { // a concurrent create (actual_peaks_one_open)
			return errPeakOpen
		}
		if err != nil {
			return fmt.Errorf("insert actual peak: %w", err)
		}
		if out, err = getPeak(ctx, tx, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "actual_peak.create", Entity: "actual_peak", EntityID: id,
			ProjectID: &projectID, After: out})
	})
	return out, err
}

var errPeakOpen = apperr.Conflict("actual_peak_open", "该项目已有未完成的实际资金峰值确认，请先完成审批")

// ActualPeaks lists the project's actual peak confirmations, newest first.
func (s *Service) ActualPeaks(ctx context.Context, projectID int64) ([]ActualPeak, error) {
	rows := []ActualPeak{}
	if err := sqlx.SelectContext(ctx, s.db, &rows, selectPeak+` WHERE project_id = $1 ORDER BY id DESC`, projectID); err != nil {
		return nil, fmt.Errorf("actual peaks of project %d: %w", projectID, err)
	}
	for i := range rows {
		rows[i].StatusLabel = rows[i].Status.Label()
	}
	return rows, nil
}

// AgreedActualPeak returns the project's last agreed actual peak (nil when
// none is), on q: what a principal batch is calculated against.
func AgreedActualPeak(ctx context.Context, q sqlx.QueryerContext, projectID int64) (*ActualPeak, error) {
	var p ActualPeak
	err := sqlx.GetContext(ctx, q, &p, selectPeak+` WHERE project_id = $1 AND status = 'agreed' ORDER BY agreed_at DESC, id DESC LIMIT 1`, projectID)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agreed actual peak of project %d: %w", projectID, err)
	}
	p.StatusLabel = p.Status.Label()
	return &p, nil
}

func getPeak(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (ActualPeak, error) {
	var p ActualPeak
	query := selectPeak + ` WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	if err := sqlx.GetContext(ctx, q, &p, query, id); err != nil {
		if db.IsNoRows(err) {
			return p, apperr.NotFound("actual_peak_not_found", "实际资金峰值确认不存在")
		}
		return p, fmt.Errorf("actual peak %d: %w", id, err)
	}
	p.StatusLabel = p.Status.Label()
	return p, nil
}

// lockPeak locks actual peak id of projectID (another project's is 404).
func lockPeak(ctx context.Context, tx *sqlx.Tx, id, projectID int64) (ActualPeak, error) {
	p, err := getPeak(ctx, tx, id, true)
	if err == nil && p.ProjectID != projectID {
		return ActualPeak{}, apperr.NotFound("actual_peak_not_found", "实际资金峰值确认不存在")
	}
	return p, err
}

// setPeakStatus moves p to status with its process, audited as action.
func setPeakStatus(ctx context.Context, tx *sqlx.Tx, p ActualPeak, status PeakStatus, processID int64, action string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE actual_peaks SET status = $2, process_id = $3,
		agreed_at = CASE WHEN $2 = 'agreed' THEN now() ELSE agreed_at END, version = version + 1, updated_at = now()
		WHERE id = $1`, p.ID, status, processID); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	after, err := getPeak(ctx, tx, p.ID, false)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: action, Entity: "actual_peak", EntityID: p.ID,
		ProjectID: &p.ProjectID, Before: p, After: after})
}

// actualPeakEffect is the actual_peak process's effect: launched on a
// draft confirmation (资金峰值-实际 beside the establishment's peak), in
// approval while DingTalk decides, agreed (the figure a principal batch
// uses), or back to draft when refused or terminated.
func (s *Service) actualPeakEffect() workflow.Effect {
	return workflow.Effect{
		Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
			p, err := lockPeak(ctx, tx, l.SubjectID, l.ProjectID)
			if err != nil {
				return workflow.Form{}, err
			}
			if p.Status != PeakDraft {
				return workflow.Form{}, apperr.Conflict("actual_peak_not_draft", "该实际资金峰值确认已发起或已确认（%s）", p.Status.Label())
			}
			old := "—"
			if t, err := s.est.Terms(ctx, tx, l.ProjectID); err == nil {
				old = money.Format(t.PeakCapital)
			} else if apperr.As(err) == nil {
				return workflow.Form{}, err
			}
			return workflow.Form{Fields: []workflow.FormField{
				{Name: "资金峰值-实际", Value: money.Format(p.ActualPeakCapital.Decimal)},
				{Name: "原资金峰值", Value: old},
			}, Note: p.Reason}, nil
		},
		Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			p, err := lockPeak(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			return setPeakStatus(ctx, tx, p, PeakInApproval, inst.ID, "actual_peak.in_approval")
		},
		Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			p, err := lockPeak(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if p.Status == PeakAgreed {
				return nil
			}
			return setPeakStatus(ctx, tx, p, PeakAgreed, inst.ID, "actual_peak.agreed")
		},
		Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			p, err := lockPeak(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if p.Status != PeakInApproval {
				return nil
			}
			return setPeakStatus(ctx, tx, p, PeakDraft, inst.ID, "actual_peak.returned")
		},
	}
}
