package distribution

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/position"
	"hehuo/internal/project"
	"hehuo/internal/workflow"
)

// processKind is the process of each batch kind (subject: the batch id).
var processKind = map[Kind]workflow.Kind{
	KindPrincipal:   workflow.KindPrincipalDistribution,
	KindProfit:      workflow.KindProfitDistribution,
	KindLiquidation: workflow.KindLiquidation,
}

// ApprovalKey is the idempotency key of a batch's approval on the ledger.
func ApprovalKey(batchID int64) string { return fmt.Sprintf("distribution:%d:approved", batchID) }

// batchEffect is the effect of kind k's process: launched on a reviewed
// batch of the kind (the OA form of the seed's 事业合伙投资-利润1分配审批 with
// its calculation sheet), in approval while DingTalk decides, back to
// saved when refused or terminated, and, agreed, posted on the ledger
// (DESIGN §4) with its notices queued, a liquidation settling the project.
func (s *Service) batchEffect(k Kind) workflow.Effect {
	return workflow.Effect{
		Prepare: func(ctx context.Context, tx *sqlx.Tx, l workflow.Launch) (workflow.Form, error) {
			b, err := lockBatch(ctx, tx, l.SubjectID, l.ProjectID)
			if err != nil {
				return workflow.Form{}, err
			}
			if b.Kind != k {
				return workflow.Form{}, apperr.Rule("distribution_kind_mismatch", "subject_id", "该批次是「%s」，不能发起「%s」流程", b.Kind.Label(), l.Kind.Label())
			}
			if b.Status != StatusReviewed {
				return workflow.Form{}, apperr.Rule("distribution_not_reviewed", "subject_id", "分配批次审核通过后才能发起审批（当前：%s）", b.Status.Label())
			}
			// Staff never act on their own line: not even by sending it to approval.
			if err := partner.RefuseOwnLine(ctx, tx, l.Actor, b.partners()...); err != nil {
				return workflow.Form{}, err
			}
			if err := checkPostable(b); err != nil {
				return workflow.Form{}, err
			}
			if k == KindLiquidation {
				if err := s.checkReturnsAll(ctx, tx, b); err != nil {
					return workflow.Form{}, err
				}
			}
			return s.batchForm(ctx, tx, b)
		},
		Launched: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			// The status moves; the lines (checked at Prepare) are not read again.
			b, err := lockBatchRow(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if b.Status != StatusReviewed {
				return apperr.Conflict("distribution_not_reviewed", "分配批次已不在审核通过状态（当前：%s），不能发起审批", b.Status.Label())
			}
			return setBatchStatus(ctx, tx, b, StatusInApproval, inst.ID, "distribution.in_approval", nil)
		},
		Agreed: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			return s.approve(ctx, tx, inst)
		},
		Ended: func(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
			b, err := lockBatchRow(ctx, tx, inst.SubjectID, inst.ProjectID)
			if err != nil {
				return err
			}
			if b.Status != StatusInApproval {
				return nil
			}
			return setBatchStatus(ctx, tx, b, StatusSaved, inst.ID, "distribution.returned", nil)
		},
		Sheet: func(ctx context.Context, q sqlx.QueryerContext, inst workflow.Instance) (string, []byte, error) {
			return s.Sheet(ctx, q, inst.SubjectID)
		},
	}
}

// lockBatch loads and locks batch id of projectID, its lines without their
// traces (the effects check and post figures; the form's sheet reads the
// batch on its own); another project's batch is 404.
func lockBatch(ctx context.Context, tx *sqlx.Tx, id, projectID int64) (Batch, error) {
	b, err := loadFigures(ctx, tx, id, true)
	if err == nil && b.ProjectID != projectID {
		return Batch{}, ErrNotFound
	}
	return b, err
}

// lockBatchRow is lockBatch without the lines, for an effect that only
// moves the batch's status.
func lockBatchRow(ctx context.Context, tx *sqlx.Tx, id, projectID int64) (Batch, error) {
	b, err := loadRow(ctx, tx, id, true)
	if err == nil && b.ProjectID != projectID {
		return Batch{}, ErrNotFound
	}
	return b, err
}

// batchState is the part of a batch its process changes, for the audit log.
type batchState struct {
	Status     Status `json:"status"`
	ProcessID  *int64 `json:"process_id"`
	LedgerTxID *int64 `json:"ledger_tx_id,omitempty"`
	Version    int    `json:"version"`
}

// setBatchStatus moves b to status with its process (and, when approved,
// its ledger transaction, locking it again if it was unlocked), audited as
// action.
func setBatchStatus(ctx context.Context, tx *sqlx.Tx, b Batch, status Status, processID int64, action string, ledgerTx *int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE distribution_batches SET status = $2, process_id = $3,
		approved_at = CASE WHEN $2 = 'approved' THEN now() ELSE approved_at END, ledger_tx_id = coalesce($4, ledger_tx_id),
		-- 完成后锁定 (R8): an agreed batch is locked again; its manual lines keep their marks.
		unlocked = unlocked AND $2 <> 'approved',
		version = version + 1, updated_at = now() WHERE id = $1`, b.ID, status, processID, ledgerTx); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	before := batchState{Status: b.Status, ProcessID: b.ProcessID, Version: b.Version}
	after := batchState{Status: status, ProcessID: &processID, LedgerTxID: ledgerTx, Version: b.Version + 1}
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: action, Entity: "distribution", EntityID: b.ID,
		ProjectID: &b.ProjectID, Before: before, After: after})
}

// checkPostable refuses a batch whose lines cannot be posted as they stand
// (a hand-entered figure out of line): E = D + C, and the principal a line
// returns, D − B, lies between 0 and A.
func checkPostable(b Batch) error {
	if b.Kind == KindProfit {
		return nil
	}
	for _, l := range b.Lines {
		returned := l.D.Sub(l.B.Decimal)
		switch {
		case !l.E.Equal(l.D.Add(l.C.Decimal)):
			return apperr.Rule("distribution_line_unbalanced", "lines", "%s：本金分配含其它(E) %s 应等于 D %s + C %s",
				l.Name, money.Display(l.E.Decimal), money.Display(l.D.Decimal), money.Display(l.C.Decimal))
		case returned.IsNegative() || returned.GreaterThan(l.A.Decimal):
			return apperr.Rule("distribution_line_out_of_range", "lines", "%s：本次返还本金 D−B %s 应在 0 与事业合伙本金(A) %s 之间",
				l.Name, money.Display(returned), money.Display(l.A.Decimal))
		}
	}
	return nil
}

// checkReturnsAll refuses a liquidation that does not return every
// partner's remaining principal (R7: afterwards every principal is zero).
func (s *Service) checkReturnsAll(ctx context.Context, tx *sqlx.Tx, b Batch) error {
	ps, err := s.pos.Positions(ctx, tx, position.Query{ProjectIDs: []int64{b.ProjectID}})
	if err != nil {
		return err
	}
	returns := map[int64]decimal.Decimal{}
	names := map[int64]string{}
	for _, l := range b.Lines {
		returns[l.PartnerID] = l.D.Sub(l.B.Decimal)
		names[l.PartnerID] = l.Name
	}
	for _, p := range ps {
		held := p.Held()
		if got := returns[p.PartnerID]; !got.Equal(held) {
			name := names[p.PartnerID]
			if name == "" {
				name = p.PartnerName
			}
			return apperr.Rule("liquidation_principal_remaining", "lines", "清算分配须返还全部剩余本金：%s 剩余本金 %s，本批次返还 %s",
				name, money.Display(held), money.Display(got))
		}
		delete(returns, p.PartnerID)
	}
	for id, got := range returns {
		if !got.IsZero() {
			return apperr.Rule("liquidation_principal_remaining", "lines", "清算分配须返还全部剩余本金：%s 没有剩余本金，本批次返还 %s",
				names[id], money.Display(got))
		}
	}
	return nil
}

// approve is the Agreed effect: in the approval event's transaction, once,
// the batch is approved and posted on the ledger, its notices queued, and
// a liquidation settles the project. The process center's own alert tells
// the city company's group (one robot alert per process).
func (s *Service) approve(ctx context.Context, tx *sqlx.Tx, inst workflow.Instance) error {
	b, err := lockBatch(ctx, tx, inst.SubjectID, inst.ProjectID)
	if err != nil {
		return err
	}
	if b.Status.Posted() {
		return nil // posted already: an event handed over twice moves nothing
	}
	if b.Status != StatusInApproval {
		return fmt.Errorf("distribution %d is %s, not in approval", b.ID, b.Status)
	}
	var txID *int64
	if ps := Postings(b); len(ps) > 0 {
		posted, err := ledger.Post(ctx, tx, ledger.Transaction{
			IdempotencyKey: ApprovalKey(b.ID), Kind: string(processKind[b.Kind]), Memo: b.Title + "审批通过",
			ProjectID: &b.ProjectID, Postings: ps,
		})
		if err != nil {
			return fmt.Errorf("post distribution %d: %w", b.ID, err)
		}
		txID = &posted.ID
	}
	if err := setBatchStatus(ctx, tx, b, StatusApproved, inst.ID, "distribution.approved", txID); err != nil {
		return err
	}
	if b.Kind == KindLiquidation {
		if err := project.Settle(ctx, tx, b.ProjectID, audit.System); err != nil {
			return err
		}
	}
	b.Status = StatusApproved
	b.describe()
	return s.queueNotices(ctx, tx, b)
}

// Postings are the ledger postings of an approved batch (DESIGN §4), one
// per account, zero amounts left out, by account code:
//
//   - per principal/liquidation line: principal:{project}:{partner} +(D − B)
//     (the principal returned, round(A × ratio)), interest:{project} −|B|
//     (the capital interest deducted), other:{project}:{partner} +C, and
//     payable:{project}:{payee} −E (owed to the payee until paid out);
//   - per profit/liquidation line: bank:{project} +F (the profit received)
//     and profit:{project}:{payee} −F (allocated to the payee).
//
// They balance when every line has E = D + C (checkPostable).
func Postings(b Batch) []ledger.Posting {
	sums := map[string]decimal.Decimal{}
	add := func(account string, amount decimal.Decimal) { sums[account] = sums[account].Add(amount) }
	p := b.ProjectID
	for _, l := range b.Lines {
		if b.Kind == KindPrincipal || b.Kind == KindLiquidation {
			add(ledger.Principal(p, l.PartnerID), l.D.Sub(l.B.Decimal))
			add(ledger.Interest(p), l.B.Decimal)
			add(ledger.Other(p, l.PartnerID), l.C.Decimal)
			add(ledger.Payable(p, l.PayeeID), l.E.Neg())
		}
		if b.Kind == KindProfit || b.Kind == KindLiquidation {
			add(ledger.Bank(p), l.F.Decimal)
			add(ledger.Profit(p, l.PayeeID), l.F.Neg())
		}
	}
	codes := make([]string, 0, len(sums))
	for c, v := range sums {
		if !v.IsZero() {
			codes = append(codes, c)
		}
	}
	slices.Sort(codes)
	out := make([]ledger.Posting, len(codes))
	for i, c := range codes {
		out[i] = ledger.Posting{Account: c, Amount: sums[c]}
	}
	return out
}

// percent3 is a ratio as the seed's forms show it: 3.910%.
func percent3(r decimal.Decimal) string { return r.Shift(2).StringFixed(3) + "%" }

func dateOrDash(d *civil.Date) string {
	if d == nil || d.IsZero() {
		return "—"
	}
	return d.String()
}

func amountOrDash(d decimal.Decimal) string {
	if d.IsZero() {
		return "—"
	}
	return money.Format(d)
}

// batchForm is the batch's part of the OA form, as the seed's
// 事业合伙投资-利润1分配审批 lays it out (the process center adds 流水号,
// 发起人, 发起部门, 项目名称 and 取得方式 before, and 情况说明, the sheet
// and the attachment slots after); a profit batch names its process
// 利润分配n and its form 事业合伙投资-利润n分配审批.
func (s *Service) batchForm(ctx context.Context, tx *sqlx.Tx, b Batch) (workflow.Form, error) {
	f := workflow.Form{Note: b.Note}
	field := func(name, value string) { f.Fields = append(f.Fields, workflow.FormField{Name: name, Value: value}) }
	field("本次分配节点", b.Title)
	switch b.Kind {
	case KindProfit:
		f.Label = "利润分配" + strconv.Itoa(b.Seq)
		f.Title = fmt.Sprintf("事业合伙投资-利润%d分配审批", b.Seq)
	case KindPrincipal:
		if b.Seq > 1 {
			f.Label = "本金分配" + strconv.Itoa(b.Seq)
		}
	}
	tiers, err := s.tierTable(ctx, tx, b)
	if err != nil {
		return f, err
	}
	if b.Kind == KindPrincipal || b.Kind == KindLiquidation {
		ratio := decimal.NewFromInt(1) // a liquidation returns all
		if b.Kind == KindPrincipal && b.ReturnRatio != nil {
			ratio = *b.ReturnRatio
		}
		field("本次返还比例", percent3(ratio))
		if b.ActualPeakID != nil {
			if p, err := getPeak(ctx, tx, *b.ActualPeakID, false); err == nil {
				field("资金峰值-实际", money.Format(p.ActualPeakCapital.Decimal))
			}
		}
		t := b.Totals
		field("分配人数", strconv.Itoa(len(b.Lines)))
		field("合计-事业合伙本金(A)", money.Format(t.A.Decimal))
		field("合计-资金利息(B)", money.Format(t.B.Decimal))
		field("合计-其它(C)", money.Format(t.C.Decimal))
		field("合计-本金分配不含其它(D)", money.Format(t.D.Decimal))
		field("合计-本金分配含其它(E)", money.Format(t.E.Decimal))
	}
	if b.Kind == KindProfit || b.Kind == KindLiquidation {
		field("销售去化达标时间", dateOrDash(b.SalesTargetOn))
		ratio := "—"
		if b.ProfitRatio != nil {
			ratio = percent3(*b.ProfitRatio)
		}
		field("本次分配比例", ratio)
		field("销售回款达标时间", dateOrDash(b.CollectionTargetOn))
		net := "—"
		if b.NetProfit != nil {
			net = money.Format(b.NetProfit.Decimal)
		}
		field("锦艺方预计净利润", net)
		share := tiers[len(tiers)-1].ratio
		if b.PartnershipRatio != nil {
			share = *b.PartnershipRatio
		}
		field("合伙投资占比", percent3(share))
		field("本次分配金额", money.Format(b.Totals.F.Decimal))
	}
	field("预计分配时间", dateOrDash(b.DistributionDate))
	if b.Kind == KindProfit || b.Kind == KindLiquidation {
		field("本次分配信息", "类别：合伙投资占比；本次总额")
		for _, t := range tiers {
			field("本次分配信息-"+t.label, percent3(t.ratio)+"；"+amountOrDash(t.f))
		}
	}
	return f, nil
}

// tierRow is one row of the form's tier table.
type tierRow struct {
	label string
	ratio decimal.Decimal // Σ principal of the tier / peak capital
	f     decimal.Decimal // Σ F of the tier's partners
}

// tierTable is the seed's 本次分配信息: per tier (控股集团, 置业集团,
// 城市公司, 其它) and 合计, the tier's principal over the peak capital and
// the batch's F of the tier's partners. A partner in several tiers has
// their F split pro rata to their principal in each, to the fen, the
// remainder in their last tier, so the rows add up to 合计.
func (s *Service) tierTable(ctx context.Context, tx *sqlx.Tx, b Batch) ([]tierRow, error) {
	tp, err := s.pos.Tiers(ctx, tx, b.ProjectID)
	if err != nil {
		return nil, err
	}
	var peak decimal.Decimal
	if t, err := s.est.Terms(ctx, tx, b.ProjectID); err == nil {
		peak = t.PeakCapital
	} else if apperr.As(err) == nil {
		return nil, err
	}
	idx := map[string]int{}
	rows := make([]tierRow, len(calc.Tiers)+1)
	for i, t := range calc.Tiers {
		idx[t] = i
		rows[i].label = calc.TierLabel(t)
	}
	total := &rows[len(calc.Tiers)]
	total.label = "合计"
	principal := map[int64]decimal.Decimal{}
	byPartner := map[int64][]position.TierPrincipal{}
	for _, x := range tp {
		i, ok := idx[x.Tier]
		if !ok {
			continue
		}
		rows[i].ratio = rows[i].ratio.Add(x.Principal) // principal for now, a ratio below
		principal[x.PartnerID] = principal[x.PartnerID].Add(x.Principal)
		byPartner[x.PartnerID] = append(byPartner[x.PartnerID], x)
	}
	for _, l := range b.Lines {
		ts := byPartner[l.PartnerID]
		if len(ts) == 0 || l.F.IsZero() {
			total.f = total.f.Add(l.F.Decimal)
			continue
		}
		rest := l.F.Decimal
		for j, x := range ts {
			part := rest
			if j < len(ts)-1 && principal[l.PartnerID].IsPositive() {
				part = money.RoundFen(l.F.Mul(x.Principal).Div(principal[l.PartnerID]))
			}
			rest = rest.Sub(part)
			rows[idx[x.Tier]].f = rows[idx[x.Tier]].f.Add(part)
		}
		total.f = total.f.Add(l.F.Decimal)
	}
	var sum decimal.Decimal
	for i := range calc.Tiers {
		sum = sum.Add(rows[i].ratio)
		rows[i].ratio = ratioOf(rows[i].ratio, peak)
	}
	total.ratio = ratioOf(sum, peak)
	return rows, nil
}

func ratioOf(x, peak decimal.Decimal) decimal.Decimal {
	if !peak.IsPositive() {
		return decimal.Zero
	}
	return x.DivRound(peak, 8)
}
