package exit

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/position"
	"hehuo/internal/workflow"
)

// ErrQuoteRequired refuses an exit process launched without a quote (seed:
// 必须先进行测算).
var ErrQuoteRequired = apperr.Rule("exit_quote_required", "subject_id", "请先进行离职退休测算，再发起退出流程")

// TakeoverKey is the ledger idempotency key of one exit line's transfer.
func TakeoverKey(exitID, lineID int64) string {
	return fmt.Sprintf("exit:%d:line:%d:takeover", exitID, lineID)
}

// lock reads exit id with its lines, the row locked.
func (s *Service) lock(ctx context.Context, tx *sqlx.Tx, id int64) (Exit, error) {
	if _, err := tx.ExecContext(ctx, `SELECT id FROM exits WHERE id = $1 FOR UPDATE`, id); err != nil {
		return Exit{}, fmt.Errorf("lock exit %d: %w", id, err)
	}
	return s.Get(ctx, tx, id)
}

// hasLine reports whether e has a line in project.
func (e Exit) hasLine(project int64) bool {
	for _, l := range e.Lines {
		if l.ProjectID == project {
			return true
		}
	}
	return false
}

// setStatus moves e to status, audited as action.
func setStatus(ctx context.Context, tx *sqlx.Tx, a audit.Actor, e Exit, status Status, action string, processID *int64, project *int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE exits SET status = $2, process_id = coalesce($3, process_id),
		launch_project_id = coalesce($4, launch_project_id), agreed_at = CASE WHEN $2 = 'agreed' THEN now() ELSE agreed_at END,
		version = version + 1, updated_at = now() WHERE id = $1`, e.ID, status, processID, project); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return audit.Record(ctx, tx, a, audit.Entry{Action: action, Entity: "exit", EntityID: e.ID, ProjectID: project,
		Before: map[string]any{"status": e.Status, "version": e.Version},
		After:  map[string]any{"status": status, "process_id": processID, "version": e.Version + 1}})
}

// setRequest moves the request of e (if any) to status.
func setRequest(ctx context.Context, tx *sqlx.Tx, e Exit, status RequestStatus) error {
	if e.RequestID == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE exit_requests SET status = $2, version = version + 1, updated_at = now()
		WHERE id = $1 AND status NOT IN ('done', 'rejected')`, *e.RequestID, status); err != nil {
		return fmt.Errorf("exit request %d: %w", *e.RequestID, err)
	}
	return nil
}

// effect is the exit process (subject: the quote id), launched under any
// project the quote covers: in approval while DingTalk decides, back to
// quoted when refused or terminated, and agreed, every line's stake
// transferred to the platform company on the ledger at the quoted price.
func (s *Service) effect() workflow.Effect {
	return workflow.Effect{
		Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
			if l.SubjectID <= 0 {
				return workflow.Form{}, ErrQuoteRequired
			}
			e, err := s.lock(ctx, tx, l.SubjectID)
			if err == ErrNotFound {
				return workflow.Form{}, ErrQuoteRequired
			}
			if err != nil {
				return workflow.Form{}, err
			}
			if !e.hasLine(l.ProjectID) {
				return workflow.Form{}, apperr.Rule("exit_quote_other_project", "subject_id", "该退出测算不含本项目，请在测算所含项目下发起")
			}
			switch e.Status {
			case StatusQuoted:
			case StatusSuperseded:
				return workflow.Form{}, apperr.Rule("exit_quote_superseded", "subject_id", "该退出测算已被新的测算取代，请使用最新测算")
			default:
				return workflow.Form{}, apperr.Conflict("exit_already_launched", "该退出测算已发起审批（当前：%s）", e.Status.Label())
			}
			if err := partner.RefuseOwnLine(ctx, tx, l.Actor, e.PartnerID); err != nil {
				return workflow.Form{}, err
			}
			if err := s.checkStillHeld(ctx, tx, e); err != nil {
				return workflow.Form{}, err
			}
			return quoteForm(e), nil
		},
		Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			e, err := s.lock(ctx, tx, inst.SubjectID)
			if err != nil {
				return err
			}
			if e.Status != StatusQuoted {
				return apperr.Conflict("exit_already_launched", "该退出测算已不在已测算状态（当前：%s）", e.Status.Label())
			}
			if err := setRequest(ctx, tx, e, RequestLaunched); err != nil {
				return err
			}
			return setStatus(ctx, tx, audit.System, e, StatusInApproval, "exit.in_approval", &inst.ID, &inst.ProjectID)
		},
		Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			return s.agree(ctx, tx, inst)
		},
		Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			e, err := s.lock(ctx, tx, inst.SubjectID)
			if err != nil {
				return err
			}
			if e.Status != StatusInApproval {
				return nil
			}
			if err := setRequest(ctx, tx, e, RequestQuoted); err != nil {
				return err
			}
			return setStatus(ctx, tx, audit.System, e, StatusQuoted, "exit.returned", &inst.ID, nil)
		},
	}
}

// checkStillHeld refuses a quote whose P no longer is the partner's
// principal outstanding (a distribution or payment since): quote again.
func (s *Service) checkStillHeld(ctx context.Context, tx *sqlx.Tx, e Exit) error {
	ps, err := s.pos.Positions(ctx, tx, position.Query{PartnerID: e.PartnerID})
	if err != nil {
		return err
	}
	held := map[int64]string{}
	for _, p := range ps {
		held[p.ProjectID] = money.Format(p.Held())
	}
	for _, l := range e.Lines {
		if held[l.ProjectID] != money.Format(l.P.Decimal) {
			return apperr.Conflict("exit_quote_stale", "「%s」在投本金已变为 %s（测算时 %s），请重新测算",
				l.ProjectName, held[l.ProjectID], money.Format(l.P.Decimal))
		}
	}
	return nil
}

// quoteForm is the OA form of the exit process: the quote.
func quoteForm(e Exit) workflow.Form {
	f := workflow.Form{Fields: []workflow.FormField{
		{Name: "退出合伙人", Value: e.PartnerName},
		{Name: "退出类型", Value: e.ExitType.Label()},
		{Name: "退出日期", Value: e.ExitDate.String()},
	}}
	for _, l := range e.Lines {
		f.Fields = append(f.Fields, workflow.FormField{Name: l.ProjectName,
			Value: fmt.Sprintf("在投本金P %s，资金利息I %s，持有收益H %s，退出价款 %s",
				money.Display(l.P.Decimal), money.Display(l.I.Decimal), money.Display(l.H.Decimal), money.Display(l.Payout.Decimal))})
	}
	f.Fields = append(f.Fields, workflow.FormField{Name: "退出价款合计", Value: money.Display(e.Total.Decimal)},
		workflow.FormField{Name: "承接方", Value: "平台公司"})
	f.Note = fmt.Sprintf("%s%s退出，平台公司按测算价款承接其全部份额", e.PartnerName, e.ExitType.Label())
	return f
}

// agree is the Agreed effect, once, in the approval event's transaction:
// per line a balanced exit_takeover transaction moves P from the partner's
// principal account to the platform company's (承接), the partner is
// flagged 退 (and 离 unless the exit is a transfer: 调动 stays in the
// group), the quote is agreed and its request done.
func (s *Service) agree(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
	e, err := s.lock(ctx, tx, inst.SubjectID)
	if err != nil {
		return err
	}
	if e.Status == StatusAgreed || e.Status == StatusPaid {
		return nil
	}
	platform, err := partner.Platform(ctx, tx)
	if err != nil {
		return err
	}
	txIDs := map[int64]int64{}
	for _, l := range e.Lines {
		project := l.ProjectID
		posted, err := ledger.Post(ctx, tx, ledger.Transaction{
			IdempotencyKey: TakeoverKey(e.ID, l.ID), Kind: position.KindExitTakeover,
			Memo:      fmt.Sprintf("%s%s退出，平台公司承接 %s（退出价款 %s）", e.PartnerName, e.ExitType.Label(), money.Display(l.P.Decimal), money.Display(l.Payout.Decimal)),
			ProjectID: &project,
			Postings: []ledger.Posting{
				{Account: ledger.Principal(project, e.PartnerID), Amount: l.P.Decimal},
				{Account: ledger.Principal(project, platform), Amount: l.P.Decimal.Neg()},
			},
		})
		if err != nil {
			return err
		}
		txIDs[l.ID] = posted.ID
		if _, err := tx.ExecContext(ctx, `UPDATE exit_lines SET ledger_tx_id = $2 WHERE id = $1`, l.ID, posted.ID); err != nil {
			return fmt.Errorf("exit line %d: %w", l.ID, err)
		}
	}
	left := e.ExitType != calc.ExitTransfer
	if err := partner.MarkFlags(ctx, tx, e.PartnerID, true, left, e.ExitDate); err != nil {
		return err
	}
	if err := setRequest(ctx, tx, e, RequestDone); err != nil {
		return err
	}
	if err := setStatus(ctx, tx, audit.System, e, StatusAgreed, "exit.agreed", &inst.ID, &inst.ProjectID); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: "exit.takeover", Entity: "exit", EntityID: e.ID,
		ProjectID: &inst.ProjectID, After: map[string]any{"platform_partner_id": platform, "ledger_transactions": txIDs,
			"exited": true, "left": left, "on": e.ExitDate}})
}
