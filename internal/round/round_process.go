package round

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/money"
	"hehuo/internal/workflow"
)

// registerEffects registers the establishment (initial round) and
// supplementary (supplementary round) process effects: a reviewed round goes
// to OA approval, is in_approval while DingTalk runs it, approved when
// agreed, and back to calculated when refused or terminated.
func (s *Service) registerEffects() {
	if s.wf == nil {
		return
	}
	for kind, roundKind := range map[workflow.Kind]string{workflow.KindEstablishment: KindInitial, workflow.KindSupplementary: KindSupplementary} {
		s.wf.Register(kind, workflow.Effect{
			Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
				return s.prepare(ctx, tx, l, roundKind)
			},
			Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
				if err := s.transition(ctx, tx, inst.SubjectID, []Status{StatusReviewed}, StatusInApproval, processActor(inst), "round.in_approval"); err != nil {
					return err
				}
				if kind == workflow.KindEstablishment {
					// Launching establishment freezes the funding date and rate (R1).
					return s.est.FreezeFunding(ctx, tx, inst.ProjectID)
				}
				return nil
			},
			Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
				return s.transition(ctx, tx, inst.SubjectID, []Status{StatusInApproval}, StatusApproved, processActor(inst), "round.approve")
			},
			Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
				return s.transition(ctx, tx, inst.SubjectID, []Status{StatusInApproval}, StatusCalculated, processActor(inst), "round.refused")
			},
			// The OA form carries the round's subscription detail (认购明细) as its calculation sheet.
			Sheet: func(ctx context.Context, _ sqlx.QueryerContext, inst workflow.Instance) (string, []byte, error) {
				var buf bytes.Buffer
				name, err := s.AllocationXLSX(ctx, inst.SubjectID, &buf)
				return name, buf.Bytes(), err
			},
		})
	}
}

// processActor is the system acting on an approval event of inst.
func processActor(inst workflow.Instance) audit.Actor {
	return audit.Actor{Name: "钉钉审批", RequestID: inst.InstanceID}
}

// prepare refuses a round that may not go to approval now and returns its
// figures for the OA form.
func (s *Service) prepare(ctx context.Context, tx *sqlx.Tx, l workflow.Launch, kind string) (workflow.Form, error) {
	r, err := s.lock(ctx, tx, l.SubjectID)
	if err != nil || r.ProjectID != l.ProjectID {
		return workflow.Form{}, apperr.Rule("round_not_found", "subject_id", "请选择本项目的轮次")
	}
	if r.Kind != kind {
		if kind == KindInitial {
			return workflow.Form{}, apperr.Rule("round_kind_mismatch", "subject_id", "事业合伙立项流程只能为立项轮次发起；补充立项请发起补充立项流程")
		}
		return workflow.Form{}, apperr.Rule("round_kind_mismatch", "subject_id", "补充立项流程只能为补充立项轮次发起")
	}
	if r.Status != StatusReviewed {
		return workflow.Form{}, apperr.Rule("round_not_reviewed", "subject_id", "方案未审核通过，不能发起立项流程")
	}
	terms, err := s.est.Terms(ctx, tx, r.ProjectID)
	if err != nil {
		return workflow.Form{}, err
	}
	if !terms.PeakLocked {
		return workflow.Form{}, apperr.Rule("peak_not_locked", "subject_id", "项目资金峰值尚未审批通过，不能发起立项流程")
	}
	// Launched freezes the funding date and rate; refuse here, before
	// DingTalk is asked, when they are missing.
	if err := terms.FundingReady(); err != nil {
		return workflow.Form{}, err
	}
	totals, err := s.AllocatedTotals(ctx, tx, r.ID)
	if err != nil {
		return workflow.Form{}, err
	}
	var partners int
	if err := tx.GetContext(ctx, &partners, `SELECT count(*) FROM allocation_lines WHERE round_id = $1 AND allocated > 0`, r.ID); err != nil {
		return workflow.Form{}, fmt.Errorf("allocated partners: %w", err)
	}
	total := totals.Total()
	f := workflow.Form{Fields: []workflow.FormField{
		{Name: "轮次", Value: r.Name},
		{Name: "资金峰值（元）", Value: money.Format(terms.PeakCapital)},
		{Name: "合伙人数", Value: fmt.Sprint(partners)},
	}}
	for _, t := range Tiers {
		f.Fields = append(f.Fields, workflow.FormField{Name: TierNames[t] + "跟投额（元）", Value: money.Format(totals.Get(t))})
	}
	f.Fields = append(f.Fields, workflow.FormField{Name: "跟投总额（元）", Value: money.Format(total)})
	if terms.PeakCapital.IsPositive() {
		f.Fields = append(f.Fields, workflow.FormField{Name: "实际跟投比例", Value: calc.Percent(total.DivRound(terms.PeakCapital, 6))})
	}
	return f, nil
}
