package establishment

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/money"
	"hehuo/internal/project"
	"hehuo/internal/workflow"
)

// peakCapitalEffect is the peak_capital process (项目资金峰值): launched on
// complete terms within R1's caps; while in approval the peak and ratios
// cannot change; agreed, they are locked.
func (s *Service) peakCapitalEffect() workflow.Effect {
	return workflow.Effect{
		Prepare: s.preparePeak,
		Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			return s.markPeak(ctx, tx, inst, "establishment.peak.in_approval", `peak_process_id = $2`)
		},
		Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			return s.markPeak(ctx, tx, inst, "establishment.peak.lock", `peak_process_id = $2, peak_locked_at = now()`)
		},
		Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			return s.markPeak(ctx, tx, inst, "establishment.peak.unlock",
				`peak_process_id = CASE WHEN peak_locked_at IS NULL AND peak_process_id = $2 THEN NULL ELSE peak_process_id END`)
		},
		Sheet: s.peakSheet,
	}
}

// preparePeak refuses terms that may not go to approval and returns the
// figures of the OA form.
func (s *Service) preparePeak(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
	if err := ensure(ctx, tx, l.ProjectID); err != nil {
		return workflow.Form{}, err
	}
	t, err := s.Terms(ctx, tx, l.ProjectID)
	if err != nil {
		return workflow.Form{}, err
	}
	if t.PeakLocked {
		return workflow.Form{}, apperr.Conflict("peak_locked", "项目资金峰值已审批通过，不能再次发起")
	}
	if vs := calc.CheckCaps(t.PeakCapital, t.Ratios, t.Caps()); len(vs) > 0 {
		e := apperr.Rule(vs[0].Code, vs[0].Field, "%s", vs[0].Message)
		e.Details = vs
		return workflow.Form{}, e
	}
	if t.Sizing().Total.IsZero() {
		return workflow.Form{}, apperr.Rule("tier_ratios_missing", "tier_ratios", "各层级比例均为0，没有可跟投的额度")
	}
	sh, err := currentShareholding(ctx, tx, l.ProjectID)
	if err != nil {
		return workflow.Form{}, err
	}
	return workflow.Form{Fields: peakFields(t, sh)}, nil
}

// peakFields are the figures of the peak_capital form, in the seed's words.
func peakFields(t Terms, sh Shareholding) []workflow.FormField {
	sz := t.Sizing()
	f := []workflow.FormField{{Name: "资金峰值", Value: money.Format(t.PeakCapital)}}
	for _, tier := range calc.Tiers {
		f = append(f, workflow.FormField{Name: calc.TierLabel(tier) + "比例", Value: calc.Percent(t.Ratios.Get(tier))},
			workflow.FormField{Name: calc.TierLabel(tier) + "额度", Value: money.Format(sz.Pools.Get(tier))})
	}
	f = append(f,
		workflow.FormField{Name: "合伙投资占比", Value: calc.Percent(sz.Ratio)},
		workflow.FormField{Name: "跟投总额", Value: money.Format(sz.Total)},
		workflow.FormField{Name: "个人认购上限", Value: money.Format(t.PerPersonCap())},
	)
	if !t.FundingDate.IsZero() {
		f = append(f, workflow.FormField{Name: "资金投入日", Value: t.FundingDate.String()})
	}
	if t.FinancingRate != nil {
		f = append(f, workflow.FormField{Name: "融资利率", Value: calc.Percent(*t.FinancingRate)})
	}
	if len(sh.Shareholders) > 0 {
		var parts []string
		for _, h := range sh.Shareholders {
			parts = append(parts, fmt.Sprintf("%s（%s）%s", h.Name, KindLabel(h.Kind), calc.Percent(h.Stake)))
		}
		f = append(f, workflow.FormField{Name: "股东及持股比例", Value: strings.Join(parts, "；")})
	}
	return f
}

// markPeak records a step of the peak_capital process on the terms.
func (s *Service) markPeak(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance, action, set string) error {
	if err := ensure(ctx, tx, inst.ProjectID); err != nil {
		return err
	}
	before, err := load(ctx, tx, inst.ProjectID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE establishments SET `+set+`, updated_at = now() WHERE project_id = $1`,
		inst.ProjectID, inst.ID); err != nil {
		return fmt.Errorf("%s %d: %w", action, inst.ProjectID, err)
	}
	after, err := load(ctx, tx, inst.ProjectID)
	if err != nil {
		return err
	}
	pid := inst.ProjectID
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: action, Entity: "establishment_terms", EntityID: pid,
		ProjectID: &pid, Before: auditTerms(before), After: map[string]any{"terms": auditTerms(after), "process_id": inst.ID,
			"peak_locked": after.PeakLocked, "peak_in_approval": after.PeakInApproval}})
}

// peakSheet is the calculation sheet attached to the peak_capital form:
// R1's figures with their formulas.
func (s *Service) peakSheet(ctx context.Context, q sqlx.QueryerContext, inst workflow.Instance) (string, []byte, error) {
	t, err := s.Terms(ctx, q, inst.ProjectID)
	if err != nil {
		return "", nil, err
	}
	name, err := project.Name(ctx, q, inst.ProjectID)
	if err != nil {
		return "", nil, err
	}
	b, err := sizingSheet(name, t)
	return name + "_资金峰值测算表.xlsx", b, err
}

func sizingSheet(project string, t Terms) ([]byte, error) {
	x := excelize.NewFile()
	defer x.Close()
	const sh = "资金峰值测算"
	x.SetSheetName("Sheet1", sh)
	sz := t.Sizing()
	rows := [][]any{
		{"项目名称", project},
		{"资金峰值 P", t.PeakCapital.InexactFloat64()},
		{},
		{"层级", "比例", "额度（元）", "公式", "取整"},
	}
	for i, tier := range calc.Tiers {
		st := sz.Trace[i]
		rows = append(rows, []any{calc.TierLabel(tier), calc.Percent(t.Ratios.Get(tier)), sz.Pools.Get(tier).InexactFloat64(), st.Formula, st.Rounding})
	}
	rows = append(rows, []any{"合计", calc.Percent(sz.Ratio), sz.Total.InexactFloat64(), "Σ 各层级额度", ""})
	rows = append(rows, []any{}, []any{"个人认购上限", calc.Percent(t.PerPersonCapRatio), t.PerPersonCap().InexactFloat64()},
		[]any{"集团合伙上限", calc.Percent(t.GroupCapRatio)})
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow(sh, cell, &r); err != nil {
			return nil, err
		}
	}
	_ = x.SetColWidth(sh, "A", "A", 16)
	_ = x.SetColWidth(sh, "C", "C", 18)
	_ = x.SetColWidth(sh, "D", "D", 36)
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
