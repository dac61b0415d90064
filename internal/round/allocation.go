package round

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/partner"
	"hehuo/internal/text"
)

// AllocationLine is one partner's line of the subscription detail (认购明细).
type AllocationLine struct {
	PartnerID    int64        `db:"partner_id" json:"partner_id"`
	UserID       *int64       `db:"user_id" json:"user_id"`
	Name         string       `db:"name" json:"name"`
	InvitationID *int64       `db:"invitation_id" json:"invitation_id"`
	Tier         string       `db:"tier" json:"tier"`
	Mandatory    bool         `db:"mandatory" json:"mandatory"`
	Min          money.Amount `db:"min_amount" json:"min_amount"`
	Max          money.Amount `db:"max_amount" json:"max_amount"`
	Requested    money.Amount `db:"requested" json:"requested"`
	// Calculated is what R3 gave; Allocated is what counts (they differ
	// only on an edited line).
	Calculated money.Amount `db:"calculated" json:"calculated"`
	Allocated  money.Amount `db:"allocated" json:"allocated"`
	Edited     bool         `db:"edited" json:"edited"`
	Reason     string       `db:"reason" json:"reason"`
	EditedBy   *string      `db:"edited_by" json:"edited_by"`
	EditedAt   *time.Time   `db:"edited_at" json:"edited_at"`
}

// TierPools are amounts per tier as they travel in JSON.
type TierPools struct {
	Holding  money.Amount `json:"holding"`
	Property money.Amount `json:"property"`
	City     money.Amount `json:"city"`
	Other    money.Amount `json:"other"`
}

func tierPools(p calc.Pools) TierPools {
	return TierPools{money.AmountOf(p.Holding), money.AmountOf(p.Property), money.AmountOf(p.City), money.AmountOf(p.Other)}
}

// TierSummary is one tier of an allocation: its pool against what was asked
// and allocated, and the effective ratio beside the planned one (R3).
type TierSummary struct {
	Tier      string       `json:"tier"`
	Label     string       `json:"label"`
	Pool      money.Amount `json:"pool"`
	Requested money.Amount `json:"requested"`
	Allocated money.Amount `json:"allocated"`
	// Excess is Σ allocated − pool when edits pushed the tier over its pool
	// (then Balanced is false and the round cannot be submitted).
	Excess money.Amount `json:"excess"`
	// Shortfall is pool − Σ allocated: quota that stays with the group.
	Shortfall money.Amount `json:"shortfall"`
	Balanced  bool         `json:"balanced"`
	// PlannedRatio is pool / P; EffectiveRatio is Σ allocated / P. Both are
	// fractions as decimal strings ("0.006" = 0.6%), like the terms' ratios.
	PlannedRatio   string `json:"planned_ratio"`
	EffectiveRatio string `json:"effective_ratio"`
	Partners       int    `json:"partners"`
}

// Allocation is a round's subscription detail (认购明细) with its figures.
type Allocation struct {
	RoundID     int64  `json:"round_id"`
	RoundStatus Status `json:"round_status"`
	// RoundStatusLabel is RoundStatus in Chinese.
	RoundStatusLabel string `json:"round_status_label"`
	// SubscriptionSeq is the round's subscription_seq the allocation was
	// computed on; Stale reports that subscriptions changed since.
	SubscriptionSeq int64            `json:"subscription_seq"`
	Lines           []AllocationLine `json:"lines"`
	Pools           TierPools        `json:"pools"`
	Trace           calc.Trace       `json:"trace"`
	Stale           bool             `json:"stale"`
	// Balanced reports Σ allocated ≤ pool in every tier.
	Balanced bool `json:"balanced"`
	// Preview marks an allocation computed while the round was open: it
	// shows where subscriptions stand and cannot be edited or submitted.
	Preview      bool          `json:"preview"`
	PerTier      []TierSummary `json:"per_tier"`
	PeakCapital  money.Amount  `json:"peak_capital"`
	PerPersonCap money.Amount  `json:"per_person_cap"`
	Allocated    money.Amount  `json:"allocated"`
	// PlannedRatio is Σ pools / P; EffectiveRatio is Σ allocated / P (R3:
	// shown beside each other; unsubscribed quota stays with the group).
	PlannedRatio   string    `json:"planned_ratio"`
	EffectiveRatio string    `json:"effective_ratio"`
	ComputedBy     string    `json:"computed_by"`
	ComputedAt     time.Time `json:"computed_at"`
	Version        int       `json:"version"`
}

// ratioDigits bounds the decimals of an effective ratio (a fraction).
const ratioDigits = 8

func ratio(x, peak decimal.Decimal) string {
	if !peak.IsPositive() {
		return "0"
	}
	return x.DivRound(peak, ratioDigits).String()
}

var (
	errAllocationMissing = apperr.NotFound("allocation_not_found", "该轮次尚未测算认购明细")
	errAllocationStale   = apperr.Conflict("allocation_stale", "测算后认购金额有变动，测算结果已过期，请重新测算")
	errAllocationPreview = apperr.Conflict("allocation_preview", "当前测算结果是认购期间的预览，请在认购截止后重新测算")
)

// Allocate computes R3 for every tier of round roundID and stores it as the
// round's allocation, replacing the previous one (and its edits). On an open
// round the result is a preview and the round stays open; on a closed (or
// already calculated) round it becomes the allocation to review and the
// round moves to calculated.
func (s *Service) Allocate(ctx context.Context, a audit.Actor, roundID int64) (Allocation, error) {
	var out Allocation
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		var err error
		out, err = s.allocate(ctx, tx, a, roundID)
		return err
	})
	return out, err
}

// allocate is Allocate inside the caller's transaction.
func (s *Service) allocate(ctx context.Context, tx *sqlx.Tx, a audit.Actor, roundID int64) (Allocation, error) {
	var out Allocation
	err := func() error {
		// Locking the round orders the calculation with subscriptions, which
		// bump its subscription_seq: the seq read here is the one of the
		// invitations read below.
		r, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		preview := false
		switch r.Status {
		case StatusOpen:
			preview = true
		case StatusClosed, StatusCalculated:
		default:
			return stateError(r, "测算")
		}
		terms, err := s.est.Terms(ctx, tx, r.ProjectID)
		if err != nil {
			return err
		}
		pools, err := s.Pools(ctx, tx, roundID)
		if err != nil {
			return err
		}
		invs, err := s.invitationsForAllocation(ctx, tx, roundID)
		if err != nil {
			return err
		}
		lines, trace, err := allocateTiers(pools, invs)
		if err != nil {
			return err
		}
		// What a recalculation replaces, for the audit log: edits are lost.
		var before struct {
			Version int `db:"version" json:"version"`
			Edited  int `db:"edited" json:"edited_lines"`
		}
		if err := tx.GetContext(ctx, &before, `SELECT coalesce(max(a.version), 0) AS version, count(l.partner_id) AS edited
			FROM allocations a LEFT JOIN allocation_lines l ON l.round_id = a.round_id AND l.edited
			WHERE a.round_id = $1`, roundID); err != nil {
			return fmt.Errorf("previous allocation: %w", err)
		}
		if err := storeAllocation(ctx, tx, roundID, r.SubscriptionSeq, preview, terms.PeakCapital, pools, actorName(a), lines); err != nil {
			return err
		}
		if r.Status == StatusClosed {
			if err := s.transition(ctx, tx, roundID, []Status{StatusClosed}, StatusCalculated, a, "round.calculate"); err != nil {
				return err
			}
		}
		// The result is put together from what was just stored rather than
		// read back: a 10,000-line round would pay twice for its lines.
		row, err := s.allocationRow(ctx, tx, roundID)
		if err != nil {
			return err
		}
		sortLines(lines)
		out = buildAllocation(roundID, row, lines, trace, terms.PerPersonCap())
		return audit.Record(ctx, tx, a, audit.Entry{Action: "allocation.compute", Entity: "allocation", EntityID: roundID,
			ProjectID: &r.ProjectID, Before: before, After: auditSummary(out)})
	}()
	return out, err
}

// auditSummary is what the audit log keeps of a computed allocation: the
// per-tier totals and the seq, not every line of a 10,000-partner round.
func auditSummary(a Allocation) map[string]any {
	return map[string]any{"subscription_seq": a.SubscriptionSeq, "preview": a.Preview, "pools": a.Pools,
		"per_tier": a.PerTier, "lines": len(a.Lines), "version": a.Version}
}

// allocateTiers applies calc.Allocate to each tier's invitations and returns
// the lines in partner order and the trace, each step's figure prefixed by
// its tier ("city.allocated[12]").
func allocateTiers(pools calc.Pools, invs []InvitationLine) ([]AllocationLine, calc.Trace, error) {
	byTier := map[string][]int{}
	for i, inv := range invs {
		byTier[inv.Tier] = append(byTier[inv.Tier], i)
	}
	lines := make([]AllocationLine, len(invs))
	trace := make(calc.Trace, 0, len(invs)+4*8)
	for _, tier := range calc.Tiers {
		idx := byTier[tier]
		pool := pools.Get(tier)
		trace = append(trace, calc.Step{Figure: tier + ".pool", Formula: "层级额度（" + calc.TierLabel(tier) + "）", Value: pool.String()})
		subs := make([]calc.Subscription, len(idx))
		for k, i := range idx {
			subs[k] = calc.Subscription{PartnerID: invs[i].PartnerID, Mandatory: invs[i].Mandatory, Requested: invs[i].Requested}
		}
		res, err := calc.Allocate(pool, subs)
		if err != nil {
			return nil, nil, fmt.Errorf("allocate tier %s: %w", tier, err)
		}
		for _, st := range res.Trace {
			st.Figure = tier + "." + st.Figure
			trace = append(trace, st)
		}
		for k, i := range idx {
			inv := invs[i]
			uid, iid := inv.UserID, inv.InvitationID
			lines[i] = AllocationLine{
				PartnerID: inv.PartnerID, UserID: &uid, Name: inv.Name, InvitationID: &iid, Tier: tier, Mandatory: inv.Mandatory,
				Min: money.AmountOf(inv.Min), Max: money.AmountOf(inv.Max), Requested: money.AmountOf(inv.Requested),
				Calculated: money.AmountOf(res.Lines[k].Allocated), Allocated: money.AmountOf(res.Lines[k].Allocated),
			}
		}
	}
	return lines, trace, nil
}

// storeAllocation replaces round roundID's allocation, edits included.
func storeAllocation(ctx context.Context, tx *sqlx.Tx, roundID, seq int64, preview bool, peak decimal.Decimal,
	pools calc.Pools, by string, lines []AllocationLine) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM allocation_lines WHERE round_id = $1`, roundID); err != nil {
		return fmt.Errorf("clear allocation of round %d: %w", roundID, err)
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO allocations (round_id, subscription_seq, preview, peak_capital, pool_holding, pool_property, pool_city, pool_other, computed_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (round_id) DO UPDATE SET subscription_seq = EXCLUDED.subscription_seq, preview = EXCLUDED.preview,
			peak_capital = EXCLUDED.peak_capital, pool_holding = EXCLUDED.pool_holding, pool_property = EXCLUDED.pool_property,
			pool_city = EXCLUDED.pool_city, pool_other = EXCLUDED.pool_other, edits = '[]',
			computed_by = EXCLUDED.computed_by, computed_at = now(), version = allocations.version + 1, updated_at = now()`,
		roundID, seq, preview, peak, pools.Holding, pools.Property, pools.City, pools.Other, by)
	if err != nil {
		return fmt.Errorf("store allocation of round %d: %w", roundID, err)
	}
	// COPY: one stream for thousands of lines, measured faster than a
	// multi-row insert over arrays (BenchmarkAllocationPersisted10000).
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("allocation_lines", "round_id", "partner_id", "user_id", "invitation_id", "tier",
		"mandatory", "min_amount", "max_amount", "requested", "calculated", "allocated"))
	if err != nil {
		return fmt.Errorf("copy allocation lines: %w", err)
	}
	defer stmt.Close()
	for _, l := range lines {
		if _, err := stmt.ExecContext(ctx, roundID, l.PartnerID, l.UserID, l.InvitationID, l.Tier, l.Mandatory,
			l.Min.Decimal.String(), l.Max.Decimal.String(), l.Requested.Decimal.String(), l.Calculated.Decimal.String(),
			l.Allocated.Decimal.String()); err != nil {
			return fmt.Errorf("copy allocation line %d: %w", l.PartnerID, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("copy allocation lines: %w", err)
	}
	return nil
}

// GetAllocation returns round roundID's allocation with Stale computed.
func (s *Service) GetAllocation(ctx context.Context, roundID int64) (Allocation, error) {
	return s.allocation(ctx, s.db, roundID)
}

type allocationRow struct {
	Present         bool            `db:"present"`
	SubscriptionSeq int64           `db:"subscription_seq"`
	RoundSeq        int64           `db:"round_seq"`
	Status          Status          `db:"status"`
	ProjectID       int64           `db:"project_id"`
	Preview         bool            `db:"preview"`
	PeakCapital     decimal.Decimal `db:"peak_capital"`
	Holding         decimal.Decimal `db:"pool_holding"`
	Property        decimal.Decimal `db:"pool_property"`
	City            decimal.Decimal `db:"pool_city"`
	Other           decimal.Decimal `db:"pool_other"`
	Edits           []byte          `db:"edits"`
	ComputedBy      string          `db:"computed_by"`
	ComputedAt      time.Time       `db:"computed_at"`
	Version         int             `db:"version"`
}

func (r allocationRow) pools() calc.Pools {
	return calc.Pools{Holding: r.Holding, Property: r.Property, City: r.City, Other: r.Other}
}

// allocationRow reads round roundID's allocation header with the round's
// current seq; Present is false when the round has none yet.
func (s *Service) allocationRow(ctx context.Context, q sqlx.QueryerContext, roundID int64) (allocationRow, error) {
	var row allocationRow
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT a.round_id IS NOT NULL AS present, coalesce(a.subscription_seq, 0) AS subscription_seq, r.subscription_seq AS round_seq,
			r.status, r.project_id, coalesce(a.preview, false) AS preview, coalesce(a.peak_capital, 0) AS peak_capital,
			coalesce(a.pool_holding, 0) AS pool_holding, coalesce(a.pool_property, 0) AS pool_property,
			coalesce(a.pool_city, 0) AS pool_city, coalesce(a.pool_other, 0) AS pool_other, coalesce(a.edits, '[]') AS edits,
			coalesce(a.computed_by, '') AS computed_by, coalesce(a.computed_at, now()) AS computed_at, coalesce(a.version, 0) AS version
		FROM rounds r LEFT JOIN allocations a ON a.round_id = r.id WHERE r.id = $1`, roundID)
	if db.IsNoRows(err) {
		return row, errRoundNotFound
	}
	if err != nil {
		return row, fmt.Errorf("allocation of round %d: %w", roundID, err)
	}
	return row, nil
}

// allocation reads round roundID's allocation in q.
func (s *Service) allocation(ctx context.Context, q sqlx.QueryerContext, roundID int64) (Allocation, error) {
	row, err := s.allocationRow(ctx, q, roundID)
	if err != nil {
		return Allocation{}, err
	}
	if !row.Present {
		return Allocation{}, errAllocationMissing
	}
	lines := []AllocationLine{}
	err = sqlx.SelectContext(ctx, q, &lines, `
		SELECT l.partner_id, l.user_id, coalesce(p.name, '') AS name, l.invitation_id, l.tier, l.mandatory, l.min_amount, l.max_amount,
			l.requested, l.calculated, l.allocated, l.edited, l.reason, l.edited_by, l.edited_at
		FROM allocation_lines l LEFT JOIN partners p ON p.id = l.partner_id
		WHERE l.round_id = $1
		ORDER BY array_position(ARRAY['holding', 'property', 'city', 'other'], l.tier), l.mandatory DESC, l.partner_id`, roundID)
	if err != nil {
		return Allocation{}, fmt.Errorf("allocation lines of round %d: %w", roundID, err)
	}
	trace, err := recomputeTrace(row.pools(), lines)
	if err != nil {
		return Allocation{}, fmt.Errorf("trace of round %d: %w", roundID, err)
	}
	var edits calc.Trace
	if err := json.Unmarshal(row.Edits, &edits); err != nil {
		return Allocation{}, fmt.Errorf("edits of round %d: %w", roundID, err)
	}
	var perPersonCap decimal.Decimal
	if terms, err := s.est.Terms(ctx, q, row.ProjectID); err == nil {
		perPersonCap = terms.PerPersonCap()
	}
	return buildAllocation(roundID, row, lines, append(trace, edits...), perPersonCap), nil
}

// recomputeTrace is the trace of the calculation that gave lines: R3 run
// again on the stored pools and each line's request and mandatory flag, in
// partner order as the calculation read them. calc is pure, so this is the
// trace it returned, step for step, without storing a step per line.
func recomputeTrace(pools calc.Pools, lines []AllocationLine) (calc.Trace, error) {
	invs := make([]InvitationLine, len(lines))
	for i, l := range lines {
		invs[i] = InvitationLine{PartnerID: l.PartnerID, Tier: l.Tier, Mandatory: l.Mandatory, Requested: l.Requested.Decimal}
	}
	slices.SortFunc(invs, func(a, b InvitationLine) int { return cmp.Compare(a.PartnerID, b.PartnerID) })
	_, trace, err := allocateTiers(pools, invs)
	return trace, err
}

// buildAllocation puts an allocation's figures together from its header,
// its lines (in display order) and its trace.
func buildAllocation(roundID int64, row allocationRow, lines []AllocationLine, trace calc.Trace, perPersonCap decimal.Decimal) Allocation {
	out := Allocation{
		RoundID: roundID, RoundStatus: row.Status, RoundStatusLabel: row.Status.Label(), SubscriptionSeq: row.SubscriptionSeq, Lines: lines,
		Pools: tierPools(row.pools()), Trace: trace, Stale: row.SubscriptionSeq != row.RoundSeq, Preview: row.Preview,
		PeakCapital: money.AmountOf(row.PeakCapital), PerPersonCap: money.AmountOf(perPersonCap),
		ComputedBy: row.ComputedBy, ComputedAt: row.ComputedAt, Version: row.Version,
	}
	out.PerTier, out.Balanced = summarize(row.pools(), row.PeakCapital, lines)
	total := decimal.Zero
	for _, l := range lines {
		total = total.Add(l.Allocated.Decimal)
	}
	out.Allocated = money.AmountOf(total)
	out.EffectiveRatio = ratio(total, row.PeakCapital)
	out.PlannedRatio = ratio(row.pools().Total(), row.PeakCapital)
	return out
}

// sortLines puts lines in display order: by tier, mandatory first, then partner.
func sortLines(lines []AllocationLine) {
	rank := map[string]int{}
	for i, t := range calc.Tiers {
		rank[t] = i
	}
	slices.SortFunc(lines, func(a, b AllocationLine) int {
		if c := cmp.Compare(rank[a.Tier], rank[b.Tier]); c != 0 {
			return c
		}
		if a.Mandatory != b.Mandatory {
			if a.Mandatory {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.PartnerID, b.PartnerID)
	})
}

// summarize totals lines per tier against the pools.
func summarize(pools calc.Pools, peak decimal.Decimal, lines []AllocationLine) ([]TierSummary, bool) {
	type acc struct {
		requested, allocated decimal.Decimal
		n                    int
	}
	sums := map[string]*acc{}
	for _, t := range calc.Tiers {
		sums[t] = &acc{}
	}
	for _, l := range lines {
		if a, ok := sums[l.Tier]; ok {
			a.requested = a.requested.Add(l.Requested.Decimal)
			a.allocated = a.allocated.Add(l.Allocated.Decimal)
			a.n++
		}
	}
	balanced := true
	out := make([]TierSummary, 0, len(calc.Tiers))
	for _, t := range calc.Tiers {
		a, pool := sums[t], pools.Get(t)
		diff := a.allocated.Sub(pool)
		ts := TierSummary{
			Tier: t, Label: calc.TierLabel(t), Pool: money.AmountOf(pool), Requested: money.AmountOf(a.requested),
			Allocated: money.AmountOf(a.allocated), Excess: money.AmountOf(decimal.Max(diff, decimal.Zero)),
			Shortfall: money.AmountOf(decimal.Max(diff.Neg(), decimal.Zero)), Balanced: !diff.IsPositive(),
			PlannedRatio: ratio(pool, peak), EffectiveRatio: ratio(a.allocated, peak), Partners: a.n,
		}
		balanced = balanced && ts.Balanced
		out = append(out, ts)
	}
	return out, balanced
}

// LineEdit is the accountant's change of one allocation line.
type LineEdit struct {
	Allocated money.Amount `json:"allocated"`
	Reason    string       `json:"reason"`
	// Version is the allocation's version the edit was made on; when given
	// and stale the edit is refused (409).
	Version *int `json:"version,omitempty"`
}

// EditLine changes partnerID's allocated principal in round roundID (R3: an
// edited line is marked, carries a reason, and lies between 0 and the lower
// of the partner's max and the per-person cap). Tiers may be left
// unbalanced; Submit checks the balance. Nobody edits their own line
// (segregation of duties).
func (s *Service) EditLine(ctx context.Context, a audit.Actor, roundID, partnerID int64, in LineEdit) (Allocation, error) {
	reason, err := text.CleanNote(in.Reason, "reason", "调整原因", true, 200)
	if err != nil {
		return Allocation{}, err
	}
	x := in.Allocated.Decimal
	if x.IsNegative() {
		return Allocation{}, apperr.Invalid("allocation_negative", "allocated", "分配金额不能为负数")
	}
	if !money.IsYuan(x) {
		return Allocation{}, apperr.Invalid("allocation_not_whole_yuan", "allocated", "分配金额须为整元：%s", money.Display(x))
	}
	var out Allocation
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		r, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		if r.Status != StatusCalculated {
			return stateError(r, "调整分配")
		}
		row, err := s.allocationRow(ctx, tx, roundID)
		if err != nil {
			return err
		}
		if !row.Present {
			return errAllocationMissing
		}
		if row.Preview {
			return errAllocationPreview
		}
		if row.SubscriptionSeq != row.RoundSeq {
			return errAllocationStale
		}
		if in.Version != nil && *in.Version != row.Version {
			return apperr.ErrStaleVersion
		}
		var before AllocationLine
		err = tx.GetContext(ctx, &before, `
			SELECT l.partner_id, l.user_id, coalesce(p.name, '') AS name, l.invitation_id, l.tier, l.mandatory, l.min_amount, l.max_amount,
				l.requested, l.calculated, l.allocated, l.edited, l.reason, l.edited_by, l.edited_at
			FROM allocation_lines l JOIN partners p ON p.id = l.partner_id
			WHERE l.round_id = $1 AND l.partner_id = $2`, roundID, partnerID)
		if db.IsNoRows(err) {
			return apperr.NotFound("allocation_line_not_found", "该合伙人不在本轮认购明细中")
		}
		if err != nil {
			return fmt.Errorf("allocation line: %w", err)
		}
		if err := partner.RefuseOwnLine(ctx, tx, a, partnerID); err != nil {
			return err
		}
		if x.GreaterThan(before.Max.Decimal) {
			return apperr.Rule("allocation_above_max", "allocated", "分配金额 %s 超过该合伙人的认购上限 %s", money.Display(x), money.Display(before.Max.Decimal))
		}
		terms, err := s.est.Terms(ctx, tx, r.ProjectID)
		if err != nil {
			return err
		}
		if limit := terms.PerPersonCap(); x.GreaterThan(limit) {
			return apperr.Rule("allocation_above_cap", "allocated", "分配金额 %s 超过个人认购上限 %s（资金峰值 × %s）",
				money.Display(x), money.Display(limit), calc.Percent(terms.PerPersonCapRatio))
		}
		by := actorName(a)
		if _, err := tx.ExecContext(ctx, `
			UPDATE allocation_lines SET allocated = $3, edited = true, reason = $4, edited_by = $5, edited_at = now()
			WHERE round_id = $1 AND partner_id = $2`, roundID, partnerID, x, reason, by); err != nil {
			return fmt.Errorf("edit allocation line: %w", err)
		}
		step, err := json.Marshal(calc.Trace{{
			Figure: before.Tier + fmt.Sprintf(".allocated[%d]", partnerID), Formula: "手工调整",
			Inputs: map[string]string{"测算值": before.Calculated.Decimal.String(), "调整前": before.Allocated.Decimal.String(), "调整人": by},
			Value:  x.String(), Note: reason,
		}})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allocations SET edits = edits || $2::jsonb, version = version + 1, updated_at = now() WHERE round_id = $1`,
			roundID, string(step)); err != nil {
			return fmt.Errorf("edit allocation: %w", err)
		}
		if out, err = s.allocation(ctx, tx, roundID); err != nil {
			return err
		}
		after := before
		after.Allocated, after.Edited, after.Reason, after.EditedBy = money.AmountOf(x), true, reason, &by
		return audit.Record(ctx, tx, a, audit.Entry{Action: "allocation.edit", Entity: "allocation_line",
			EntityID: fmt.Sprintf("%d/%d", roundID, partnerID), ProjectID: &r.ProjectID, Before: before, After: after})
	})
	return out, err
}

// Submit sends round roundID's allocation to review (送审): the round must be
// closed and calculated, the allocation fresh (computed on the current
// subscriptions, not a preview) and every tier balanced (Σ allocated ≤ pool).
func (s *Service) Submit(ctx context.Context, a audit.Actor, roundID int64) (Round, error) {
	var out Round
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := writable(ctx, tx, roundID); err != nil {
			return err
		}
		r, err := s.lock(ctx, tx, roundID)
		if err != nil {
			return err
		}
		switch r.Status {
		case StatusDraft, StatusOpen:
			return apperr.Conflict("round_not_closed", "认购尚未截止，不能送审：请先截止认购并测算")
		case StatusClosed, StatusCalculated:
		default:
			return stateError(r, "送审")
		}
		row, err := s.allocationRow(ctx, tx, roundID)
		if err != nil {
			return err
		}
		switch {
		case !row.Present:
			return apperr.Conflict("allocation_not_calculated", "尚未测算认购明细，不能送审")
		case row.SubscriptionSeq != row.RoundSeq:
			return errAllocationStale
		case row.Preview || r.Status != StatusCalculated:
			return errAllocationPreview
		}
		var lines []AllocationLine
		if err := tx.SelectContext(ctx, &lines, `
			SELECT l.partner_id, coalesce(p.name, '') AS name, l.tier, l.requested, l.allocated
			FROM allocation_lines l LEFT JOIN partners p ON p.id = l.partner_id
			WHERE l.round_id = $1 ORDER BY l.partner_id`, roundID); err != nil {
			return fmt.Errorf("allocation lines: %w", err)
		}
		// R1 checks the per-person cap at submit. Edits are bounded by it
		// already; a calculated line can exceed it only when an invitation's
		// max did.
		terms, err := s.est.Terms(ctx, tx, r.ProjectID)
		if err != nil {
			return err
		}
		limit := terms.PerPersonCap()
		for _, l := range lines {
			if l.Allocated.GreaterThan(limit) {
				e := apperr.Rule("allocation_above_cap", "", "%s的分配金额 %s 超过个人认购上限 %s（资金峰值 × %s），请调整后再送审",
					l.Name, money.Display(l.Allocated.Decimal), money.Display(limit), calc.Percent(terms.PerPersonCapRatio))
				e.Details = map[string]any{"partner_id": l.PartnerID, "allocated": l.Allocated, "cap": money.AmountOf(limit)}
				return e
			}
		}
		tiers, balanced := summarize(row.pools(), row.PeakCapital, lines)
		if !balanced {
			for _, t := range tiers {
				if !t.Balanced {
					e := apperr.Rule("allocation_unbalanced", "", "「%s」层级分配合计 %s 超过额度 %s，超出 %s 元，请调整后再送审",
						t.Label, money.Display(t.Allocated.Decimal), money.Display(t.Pool.Decimal), money.Display(t.Excess.Decimal))
					e.Details = map[string]any{"tier": t.Tier, "excess": t.Excess, "pool": t.Pool, "allocated": t.Allocated}
					return e
				}
			}
		}
		if err := s.transition(ctx, tx, roundID, []Status{StatusCalculated}, StatusSubmitted, a, "round.submit"); err != nil {
			return err
		}
		out, err = s.Round(ctx, tx, roundID)
		return err
	})
	return out, err
}

// AllocatedTotals returns Σ allocated per tier of round roundID's allocation
// (zero for a round without one): what an approved round took from the pools.
func (s *Service) AllocatedTotals(ctx context.Context, q sqlx.QueryerContext, roundID int64) (calc.Pools, error) {
	var rows []struct {
		Tier  string          `db:"tier"`
		Total decimal.Decimal `db:"total"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT tier, sum(allocated) AS total FROM allocation_lines WHERE round_id = $1 GROUP BY tier`, roundID); err != nil {
		return calc.Pools{}, fmt.Errorf("allocated totals of round %d: %w", roundID, err)
	}
	var p calc.Pools
	for _, r := range rows {
		p = p.Set(r.Tier, r.Total)
	}
	return p, nil
}
