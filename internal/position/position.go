// Package position is the one read model of money positions (DESIGN §3):
// per project and partner, the principal allocated, the principal in force
// after agreed adjustments, what was paid, is outstanding and was returned,
// the capital interest charged and not yet deducted (RULES R4) and the
// profit allocated and paid.
//
// It alone reads allocation lines, agreed adjustment lines and the ledger's
// principal and profit postings; payments, adjustments, holdings, reports
// and the bot ask it, so that every screen answers "principal in force" with
// the same formula. It answers for one partner or for many projects, each in
// one query, and for one round (the payments page). It only reads: the
// round service writes allocation lines, the adjustment service adjustment
// lines, and the ledger its postings.
package position

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/round"
)

// Predicates: which rows of the owners' tables count as money positions.
// They are written once here, as SQL over the aliases the queries of this
// package use (r: rounds, a: adjustments), instead of status literals
// repeated in each area.
const (
	// RoundApproved: only an approved round's allocation lines commit
	// partners; a round in review or approval commits nobody.
	RoundApproved = "r.status = '" + string(round.StatusApproved) + "'"
	// AdjustmentAgreed: only an agreed establishment adjustment (R5)
	// changes the principal in force. The literal is adjustment.StatusAgreed
	// (adjustment imports this package, so a test checks they agree).
	AdjustmentAgreed = "a.status = '" + adjustmentAgreed + "'"

	adjustmentAgreed = "agreed"
	// DistributionPosted: a distribution batch (b) whose approval is on the
	// ledger; its lines' B (capital interest) is deducted (R6: once). The
	// literals are distribution.StatusApproved and StatusPaid, and its
	// kinds that carry B (distribution imports this package, so a test
	// checks they agree).
	DistributionPosted = "b.status IN ('approved', 'paid') AND b.kind IN ('principal', 'liquidation')"
	// KindAdjustmentRefund is the ledger kind of an adjustment's refund
	// (退款): principal going back because the principal in force fell, as
	// opposed to principal returned by a distribution.
	KindAdjustmentRefund = "adjustment_refund"
	// KindAdjustmentTopUp is the ledger kind of an adjustment's top-up (补缴).
	KindAdjustmentTopUp = "adjustment_top_up"
	// KindExitTakeover is the ledger kind of an agreed exit's transfer of a
	// stake to the platform company (承接, R9): the exited partner's
	// principal account debited, the platform's credited.
	KindExitTakeover = "exit_takeover"
	// ExitAgreed: an exit quote (e) whose approval transferred the stake;
	// its lines' I counts as deducted. The literals are exit.StatusAgreed
	// and StatusPaid (exit imports this package; a test checks they agree).
	ExitAgreed = "e.status IN ('agreed', 'paid')"
)

// Position is one partner's money in one project. Amounts are in yuan to
// the fen; Interest is ≤ 0 like R4's B.
type Position struct {
	ProjectID   int64  `db:"project_id"`
	ProjectName string `db:"project_name"`
	PartnerID   int64  `db:"partner_id"`
	PartnerName string `db:"partner_name"`
	UserID      *int64 `db:"user_id"` // nil for the platform company
	// TierBits are the partner's tiers in the project, from its allocation
	// and adjustment lines, one bit per calc.Tiers entry; see Tiers.
	TierBits int `db:"tiers"`
	// Committed: the partner has an approved allocation line or an agreed
	// adjustment line in the project. A partner with postings only (stakes
	// recorded before allocations existed) is not committed.
	Committed bool `db:"committed"`
	// Allocated is Σ allocated over the project's approved rounds (认购明细).
	Allocated decimal.Decimal `db:"allocated"`
	// Delta is Σ delta over the project's agreed adjustments (R5).
	Delta decimal.Decimal `db:"delta"`
	// Principal is the principal in force (认缴本金): Allocated + Delta.
	Principal decimal.Decimal `db:"-"`
	// Paid is the principal paid in: credits to principal:{project}:{partner}
	// (payments and top-ups). A reversed transaction and its reversal are
	// both left out, so a corrected mistake shows nowhere.
	Paid decimal.Decimal `db:"paid"`
	// Returned is the principal paid back: debits to the same account
	// (adjustment refunds and principal distributions), reversals left out.
	// A stake taken over by the platform company (exit_takeover) is not
	// returned: it is TransferredOut.
	Returned decimal.Decimal `db:"returned"`
	// TransferredOut is the principal an agreed exit (退投, R9) transferred
	// to the platform company (承接): debits of kind exit_takeover. An
	// exited partner's principal in force and outstanding are then 0.
	TransferredOut decimal.Decimal `db:"transferred_out"`
	// TransferredIn is the principal the platform company took over from
	// exited partners (credits of kind exit_takeover); it is part of Paid
	// and of the principal in force.
	TransferredIn decimal.Decimal `db:"transferred_in"`
	// Refunded is the part of Returned that adjustments refunded (退款).
	Refunded decimal.Decimal `db:"refunded"`
	// Outstanding is what the partner still owes: max(0, Principal −
	// (Paid − Refunded)). Principal a distribution returned is not owed again.
	Outstanding decimal.Decimal `db:"-"`
	// Interest is the capital interest charged and not yet deducted (R4, ≤ 0):
	// per round, on that round's payments from the funding date, rounded once
	// per partner; plus, per agreed adjustment, on its top-ups from the date
	// the peak change took effect (R5); plus the interest to date opening
	// balances brought (opening.go); less the B of the partner's lines in
	// posted principal and liquidation batches (R6: B is deducted once).
	// Filled only when asked (Query.Interest).
	Interest decimal.Decimal `db:"-"`
	// ProfitAllocated is profit allocated to the partner: credits to profit:{project}:{partner}.
	ProfitAllocated decimal.Decimal `db:"profit_allocated"`
	// ProfitPaid is profit paid out to the partner: debits to the same account.
	ProfitPaid decimal.Decimal `db:"profit_paid"`
}

// Tiers returns the partner's tiers in the project in calc.Tiers order.
func (p Position) Tiers() []string {
	var out []string
	for i, t := range calc.Tiers {
		if p.TierBits&(1<<i) != 0 {
			out = append(out, t)
		}
	}
	return out
}

// PaidIn is the principal the partnership holds from the partner's
// contributions: paid less refunded (what 立项及缴款汇总表 calls 已缴款). A
// stake taken over by the platform company counts as the platform's paid-in
// (TransferredIn is part of its Paid) and no longer as the exited partner's,
// so a project's Σ PaidIn is unchanged by an exit.
func (p Position) PaidIn() decimal.Decimal { return p.Paid.Sub(p.Refunded).Sub(p.TransferredOut) }

// FullyPaid reports whether a partner with principal in force owes nothing.
func (p Position) FullyPaid() bool { return p.Principal.IsPositive() && !p.Outstanding.IsPositive() }

// Held is the principal outstanding in the partnership (在投本金, R9's P):
// paid less returned less transferred to the platform company.
func (p Position) Held() decimal.Decimal { return p.Paid.Sub(p.Returned).Sub(p.TransferredOut) }

// derive fills Principal and Outstanding. An exit transfers the partner's
// whole stake (docs/exits.md): a partner with principal transferred out has
// no principal in force left and owes nothing (a commitment not yet paid
// in is waived with the exit); the taker holds what it took over.
func (p *Position) derive() {
	p.Principal = p.Allocated.Add(p.Delta)
	if p.TransferredOut.IsPositive() {
		p.Principal = decimal.Zero
	}
	p.Principal = p.Principal.Add(p.TransferredIn)
	p.Outstanding = decimal.Max(decimal.Zero, p.Principal.Sub(p.PaidIn()))
}

// Service reads positions.
type Service struct {
	db  *db.DB
	est *establishment.Service
}

// NewService returns the position service; est gives the funding terms
// capital interest needs (nil: no interest is ever charged).
func NewService(d *db.DB, est *establishment.Service) *Service {
	return &Service{db: d, est: est}
}

// Query chooses positions: of the projects ProjectIDs, of the partner
// PartnerID across every project, or of the partner who is user UserID
// (我的跟投: no separate lookup of the partner). Set exactly one. Interest
// asks for the capital interest too (two more queries).
type Query struct {
	ProjectIDs []int64
	PartnerID  int64
	UserID     int64
	Interest   bool
}

// positionsSQL lists, per (project, partner), the allocated principal of
// approved rounds, the deltas of agreed adjustments, and the credits and
// debits of the partner's principal and profit accounts, reversed pairs
// left out; names are joined after the sums, so the grouping stays narrow.
// {{where_r}} and {{where_a}} narrow the lines to the projects or the
// partner ($1); {{ledger}} is the ledger part (ledgerByAccount or
// ledgerByJoin).
const positionsSQL = `
	WITH al AS (
		SELECT r.project_id, l.partner_id, bit_or(` + tierBit + `) AS tiers, sum(l.allocated) AS allocated
		FROM rounds r JOIN allocation_lines l ON l.round_id = r.id
		WHERE ` + RoundApproved + ` AND {{where_r}}
		GROUP BY r.project_id, l.partner_id
	), ad AS (
		SELECT a.project_id, l.partner_id, bit_or(` + tierBit + `) AS tiers, sum(l.delta) AS delta
		FROM adjustments a JOIN adjustment_lines l ON l.adjustment_id = a.id
		WHERE ` + AdjustmentAgreed + ` AND {{where_a}}
		GROUP BY a.project_id, l.partner_id
	), lg AS (
		SELECT project_id, partner_id,
			sum(credits) FILTER (WHERE kind = 'principal') AS paid,
			sum(debits) FILTER (WHERE kind = 'principal') AS returned,
			sum(refunded) FILTER (WHERE kind = 'principal') AS refunded,
			sum(transferred_out) FILTER (WHERE kind = 'principal') AS transferred_out,
			sum(transferred_in) FILTER (WHERE kind = 'principal') AS transferred_in,
			sum(credits) FILTER (WHERE kind = 'profit') AS profit_allocated,
			sum(debits) FILTER (WHERE kind = 'profit') AS profit_paid
		FROM ({{ledger}}) s GROUP BY project_id, partner_id
	)
	SELECT x.project_id, coalesce(pr.name, '') AS project_name, x.partner_id,
		coalesce(pt.name, '') AS partner_name, pt.user_id,
		coalesce(al.tiers, 0) | coalesce(ad.tiers, 0) AS tiers, (al.partner_id IS NOT NULL OR ad.partner_id IS NOT NULL) AS committed,
		coalesce(al.allocated, 0) AS allocated, coalesce(ad.delta, 0) AS delta,
		coalesce(lg.paid, 0) AS paid, coalesce(lg.returned, 0) AS returned, coalesce(lg.refunded, 0) AS refunded,
		coalesce(lg.transferred_out, 0) AS transferred_out, coalesce(lg.transferred_in, 0) AS transferred_in,
		coalesce(lg.profit_allocated, 0) AS profit_allocated, coalesce(lg.profit_paid, 0) AS profit_paid
	FROM (SELECT project_id, partner_id FROM al UNION SELECT project_id, partner_id FROM ad
		UNION SELECT project_id, partner_id FROM lg) x
	LEFT JOIN al ON al.project_id = x.project_id AND al.partner_id = x.partner_id
	LEFT JOIN ad ON ad.project_id = x.project_id AND ad.partner_id = x.partner_id
	LEFT JOIN lg ON lg.project_id = x.project_id AND lg.partner_id = x.partner_id
	LEFT JOIN projects pr ON pr.id = x.project_id LEFT JOIN partners pt ON pt.id = x.partner_id
	ORDER BY x.project_id, x.partner_id`

// tierBit is a line's tier as one bit in calc.Tiers order, so that the
// tiers of a partner aggregate with bit_or in a hash aggregate (a DISTINCT
// string aggregate would sort every group).
const tierBit = `CASE l.tier WHEN 'holding' THEN 1 WHEN 'property' THEN 2 WHEN 'city' THEN 4 WHEN 'other' THEN 8 ELSE 0 END`

// ledgerSums are the sums of a posting set p of transaction t on account la.
// Debits of kind exit_takeover are transferred out, not returned.
const ledgerSums = `coalesce(sum(-p.amount) FILTER (WHERE p.amount < 0), 0) AS credits,
	coalesce(sum(p.amount) FILTER (WHERE p.amount > 0 AND t.kind <> '` + KindExitTakeover + `'), 0) AS debits,
	coalesce(sum(p.amount) FILTER (WHERE p.amount > 0 AND t.kind = '` + KindAdjustmentRefund + `'), 0) AS refunded,
	coalesce(sum(p.amount) FILTER (WHERE p.amount > 0 AND t.kind = '` + KindExitTakeover + `'), 0) AS transferred_out,
	coalesce(sum(-p.amount) FILTER (WHERE p.amount < 0 AND t.kind = '` + KindExitTakeover + `'), 0) AS transferred_in`

// notReversed leaves out a reversal and the transaction it reverses.
const notReversed = `t.reverses_id IS NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions rv WHERE rv.reverses_id = t.id)`

// ledgerByAccount reads one partner's accounts, each by index, so that its
// time follows the partner's postings, not the size of the ledger.
const ledgerByAccount = `SELECT la.project_id, la.partner_id, la.kind, s.* FROM ledger_accounts la
	CROSS JOIN LATERAL (SELECT ` + ledgerSums + `
		FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
		WHERE p.account_id = la.id AND ` + notReversed + `) s
	WHERE la.kind IN ('principal', 'profit') AND la.partner_id = $1`

// ledgerByJoin reads many projects' accounts in one set-based join.
const ledgerByJoin = `SELECT la.project_id, la.partner_id, la.kind, ` + ledgerSums + `
	FROM ledger_accounts la JOIN ledger_postings p ON p.account_id = la.id JOIN ledger_transactions t ON t.id = p.transaction_id
	WHERE la.kind IN ('principal', 'profit') AND la.project_id = ANY($1) AND ` + notReversed + `
	GROUP BY la.project_id, la.partner_id, la.kind`

var (
	byProjects = strings.NewReplacer("{{where_r}}", "r.project_id = ANY($1)", "{{where_a}}", "a.project_id = ANY($1)",
		"{{ledger}}", ledgerByJoin).Replace(positionsSQL)
	byPartner = strings.NewReplacer("{{where_r}}", "l.partner_id = $1", "{{where_a}}", "l.partner_id = $1",
		"{{ledger}}", ledgerByAccount).Replace(positionsSQL)
	// byUser is byPartner for the partner who is user $1.
	byUser = strings.NewReplacer("$1", "(SELECT id FROM partners WHERE user_id = $1)").Replace(byPartner)
)

// Positions returns the positions q chooses, by project then partner id, on
// q's connection (a transaction's, to read what it wrote).
func (s *Service) Positions(ctx context.Context, conn sqlx.QueryerContext, q Query) ([]Position, error) {
	if conn == nil {
		conn = s.db
	}
	var out []Position
	var err error
	switch {
	case q.UserID != 0:
		out, err = scanPositions(ctx, conn, byUser, q.UserID)
	case q.PartnerID != 0:
		out, err = scanPositions(ctx, conn, byPartner, q.PartnerID)
	default:
		out, err = scanPositions(ctx, conn, byProjects, pq.Int64Array(q.ProjectIDs))
	}
	if err != nil {
		return nil, fmt.Errorf("positions: %w", err)
	}
	if !q.Interest || len(out) == 0 {
		return out, nil
	}
	if q.UserID != 0 {
		q.PartnerID = out[0].PartnerID
	}
	interest, err := s.interest(ctx, conn, q)
	if err != nil {
		return nil, err
	}
	if err := s.openingInterest(ctx, conn, q, interest); err != nil {
		return nil, err
	}
	if err := s.deductInterest(ctx, conn, q, interest); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Interest = interest[key{out[i].ProjectID, out[i].PartnerID}]
	}
	return out, nil
}

// scanPositions runs one of the positions queries and scans its rows by
// hand, in positionsSQL's column order, each derived: a project of ten
// thousand partners is read on every step of a distribution batch, and
// sqlx's reflection per row was most of the Go time of a read.
func scanPositions(ctx context.Context, conn sqlx.QueryerContext, query string, arg any) ([]Position, error) {
	rows, err := conn.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Position
	for rows.Next() {
		var p Position
		if err := rows.Scan(&p.ProjectID, &p.ProjectName, &p.PartnerID, &p.PartnerName, &p.UserID, &p.TierBits, &p.Committed,
			&p.Allocated, &p.Delta, &p.Paid, &p.Returned, &p.Refunded, &p.TransferredOut, &p.TransferredIn, &p.ProfitAllocated, &p.ProfitPaid); err != nil {
			return nil, err
		}
		p.derive()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Of returns partnerID's position in projectID (zero figures when none).
func (s *Service) Of(ctx context.Context, conn sqlx.QueryerContext, projectID, partnerID int64, withInterest bool) (Position, error) {
	ps, err := s.Positions(ctx, conn, Query{ProjectIDs: []int64{projectID}, Interest: withInterest})
	if err != nil {
		return Position{}, err
	}
	for _, p := range ps {
		if p.PartnerID == partnerID {
			return p, nil
		}
	}
	return Position{ProjectID: projectID, PartnerID: partnerID}, nil
}

// Adjusted reports whether an agreed adjustment has a line for the partner
// in the project: its principal in force is then the adjustment's, and
// what it still owes is settled as 变更缴款确认, not as a round payment.
func (s *Service) Adjusted(ctx context.Context, conn sqlx.QueryerContext, projectID, partnerID int64) (bool, error) {
	var ok bool
	if err := sqlx.GetContext(ctx, conn, &ok, `SELECT EXISTS (SELECT 1 FROM adjustment_lines l JOIN adjustments a ON a.id = l.adjustment_id
		WHERE a.project_id = $1 AND l.partner_id = $2 AND `+AdjustmentAgreed+`)`, projectID, partnerID); err != nil {
		return false, fmt.Errorf("position: adjusted %d/%d: %w", projectID, partnerID, err)
	}
	return ok, nil
}

// TierPrincipal is a partner's principal in force in one tier of a project.
type TierPrincipal struct {
	PartnerID int64           `db:"partner_id"`
	UserID    *int64          `db:"user_id"`
	Tier      string          `db:"tier"`
	Principal decimal.Decimal `db:"principal"`
}

// Tiers returns the principal in force of every partner of the project per
// tier, by partner then tier: what an establishment adjustment (R5) re-splits
// and a distribution's tier table (本次分配信息) sums. The tiers of a partner
// whose exit was agreed are the platform company's, which took the stake over.
func (s *Service) Tiers(ctx context.Context, conn sqlx.QueryerContext, projectID int64) ([]TierPrincipal, error) {
	var out []TierPrincipal
	if err := sqlx.SelectContext(ctx, conn, &out, `WITH exited AS (
			SELECT DISTINCT x.partner_id FROM exit_lines x JOIN exits e ON e.id = x.exit_id
			WHERE x.project_id = $1 AND `+ExitAgreed+`
		), lines AS (
			SELECT l.partner_id, l.user_id, l.tier, l.allocated AS x FROM allocation_lines l JOIN rounds r ON r.id = l.round_id
			WHERE r.project_id = $1 AND `+RoundApproved+`
			UNION ALL
			SELECT l.partner_id, l.user_id, l.tier, l.delta FROM adjustment_lines l JOIN adjustments a ON a.id = l.adjustment_id
			WHERE a.project_id = $1 AND `+AdjustmentAgreed+`
		), held AS (
			-- An exited partner's principal went to the platform company
			-- (承接): its tiers are the platform's from then on.
			SELECT CASE WHEN ex.partner_id IS NULL THEN l.partner_id ELSE (SELECT id FROM partners WHERE kind = 'platform') END AS partner_id,
				CASE WHEN ex.partner_id IS NULL THEN l.user_id END AS user_id, l.tier, l.x
			FROM lines l LEFT JOIN exited ex ON ex.partner_id = l.partner_id
		)
		SELECT partner_id, COALESCE(max(user_id), (SELECT p.user_id FROM partners p WHERE p.id = held.partner_id)) AS user_id,
			tier, sum(x) AS principal FROM held
		GROUP BY partner_id, tier ORDER BY partner_id, tier`, projectID); err != nil {
		return nil, fmt.Errorf("position: tiers of project %d: %w", projectID, err)
	}
	return out, nil
}

type key struct{ project, partner int64 }

// receipt is one payment or top-up as capital interest sees it: its net
// amount on the ledger (the credit to the principal account, less its
// reversal), the day it was paid, and what it belongs to (a round or an
// adjustment).
type receipt struct {
	ProjectID int64           `db:"project_id"`
	Group     int64           `db:"grp"`
	PartnerID int64           `db:"partner_id"`
	PaidOn    civil.Date      `db:"paid_on"`
	From      *civil.Date     `db:"from_date"` // a top-up's interest start; nil for a round payment
	Net       decimal.Decimal `db:"net"`
}

// receiptsSQL: round payments (group = round id, counted from the funding
// date) and adjustment top-ups (group = −adjustment id, counted from the
// peak change's effective date), with their net on the ledger: a payment's
// credit to the partner's principal account plus its reversal's debit, in
// one set-based join.
const receiptsSQL = `
	WITH pm AS (
		SELECT id, project_id, round_id, partner_id, paid_on, ledger_transaction_id, reversal_transaction_id
		FROM payments WHERE {{where_p}}
	), net AS (
		SELECT x.id, -sum(lp.amount) AS net FROM (
			SELECT id, partner_id, ledger_transaction_id AS tx FROM pm
			UNION ALL
			SELECT id, partner_id, reversal_transaction_id FROM pm WHERE reversal_transaction_id IS NOT NULL
		) x JOIN ledger_postings lp ON lp.transaction_id = x.tx
		JOIN ledger_accounts la ON la.id = lp.account_id AND la.kind = 'principal' AND la.partner_id = x.partner_id
		GROUP BY x.id
	)
	SELECT pm.project_id, pm.round_id AS grp, pm.partner_id, pm.paid_on, NULL::date AS from_date, coalesce(net.net, 0) AS net
	FROM pm LEFT JOIN net ON net.id = pm.id
	UNION ALL
	SELECT a.project_id, -a.id, st.partner_id, st.settled_on, pc.effective_on,
		CASE WHEN EXISTS (SELECT 1 FROM ledger_transactions rv WHERE rv.reverses_id = st.ledger_tx_id) THEN 0 ELSE st.amount END
	FROM adjustment_settlements st JOIN adjustments a ON a.id = st.adjustment_id JOIN peak_changes pc ON pc.id = a.peak_change_id
	WHERE st.direction = 'top_up' AND {{where_s}}
	ORDER BY 1, 2, 3, 4`

// deductedSQL sums, per (project, partner), the B already deducted by
// posted principal and liquidation batches, in one set-based query.
// The I of agreed exit lines (R9) counts as deducted too: the exit price
// settled it.
const deductedSQL = `SELECT project_id, partner_id, sum(b) AS b FROM (
	SELECT b.project_id, l.partner_id, l.b
	FROM distribution_lines l JOIN distribution_batches b ON b.id = l.batch_id
	WHERE ` + DistributionPosted + ` AND l.b <> 0 AND {{where}}
	UNION ALL
	SELECT x.project_id, x.partner_id, x.i
	FROM exit_lines x JOIN exits e ON e.id = x.exit_id
	WHERE ` + ExitAgreed + ` AND x.i <> 0 AND {{where_x}}) d
	GROUP BY project_id, partner_id`

var (
	deductedByProjects = strings.NewReplacer("{{where}}", "b.project_id = ANY($1)", "{{where_x}}", "x.project_id = ANY($1)").Replace(deductedSQL)
	deductedByPartner  = strings.NewReplacer("{{where}}", "l.partner_id = $1", "{{where_x}}", "x.partner_id = $1").Replace(deductedSQL)
)

var (
	receiptsByProjects = strings.NewReplacer("{{where_p}}", "project_id = ANY($1)", "{{where_s}}", "a.project_id = ANY($1)").Replace(receiptsSQL)
	receiptsByPartner  = strings.NewReplacer("{{where_p}}", "partner_id = $1", "{{where_s}}", "st.partner_id = $1").Replace(receiptsSQL)
)

// interest computes Interest per (project, partner) for q.
func (s *Service) interest(ctx context.Context, conn sqlx.QueryerContext, q Query) (map[key]decimal.Decimal, error) {
	var rs []receipt
	var err error
	if q.PartnerID != 0 {
		err = sqlx.SelectContext(ctx, conn, &rs, receiptsByPartner, q.PartnerID)
	} else {
		err = sqlx.SelectContext(ctx, conn, &rs, receiptsByProjects, pq.Int64Array(q.ProjectIDs))
	}
	if err != nil {
		return nil, fmt.Errorf("position: receipts: %w", err)
	}
	out := map[key]decimal.Decimal{}
	if len(rs) == 0 || s.est == nil {
		return out, nil
	}
	projects := map[int64]bool{}
	var ids []int64
	for _, r := range rs {
		if !projects[r.ProjectID] {
			projects[r.ProjectID] = true
			ids = append(ids, r.ProjectID)
		}
	}
	terms, err := s.est.FundingTerms(ctx, conn, ids)
	if err != nil {
		return nil, err
	}
	// Receipts come ordered by project, group, partner: one R4 sum per run.
	for i := 0; i < len(rs); {
		j := i
		var ps []calc.InterestPayment
		for ; j < len(rs) && rs[j].ProjectID == rs[i].ProjectID && rs[j].Group == rs[i].Group && rs[j].PartnerID == rs[i].PartnerID; j++ {
			if !rs[j].Net.IsZero() {
				ps = append(ps, calc.InterestPayment{Amount: rs[j].Net, PaidOn: rs[j].PaidOn})
			}
		}
		r := rs[i]
		i = j
		f, ok := terms[r.ProjectID]
		from := f.Date
		if r.Group < 0 { // a top-up: from the peak change's effective date
			if r.From == nil {
				continue
			}
			from = *r.From
		}
		if !ok || f.Rate == nil || from.IsZero() || len(ps) == 0 {
			continue
		}
		b := calc.CapitalInterestAmount(from, *f.Rate, ps)
		k := key{r.ProjectID, r.PartnerID}
		out[k] = out[k].Add(b)
	}
	return out, nil
}

// deductInterest subtracts from out, per (project, partner), the B that
// posted principal and liquidation batches already deducted (R6: once),
// after the R4 interest and the opening balances' interest are in.
func (s *Service) deductInterest(ctx context.Context, conn sqlx.QueryerContext, q Query, out map[key]decimal.Decimal) error {
	if len(out) == 0 {
		return nil
	}
	var err error
	var deducted []struct {
		ProjectID int64           `db:"project_id"`
		PartnerID int64           `db:"partner_id"`
		B         decimal.Decimal `db:"b"`
	}
	if q.PartnerID != 0 {
		err = sqlx.SelectContext(ctx, conn, &deducted, deductedByPartner, q.PartnerID)
	} else {
		err = sqlx.SelectContext(ctx, conn, &deducted, deductedByProjects, pq.Int64Array(q.ProjectIDs))
	}
	if err != nil {
		return fmt.Errorf("position: interest deducted: %w", err)
	}
	for _, d := range deducted {
		k := key{d.ProjectID, d.PartnerID}
		if b, ok := out[k]; ok {
			// A batch that deducted more than was charged (a figure entered
			// by hand) leaves nothing to deduct, never a credit.
			out[k] = decimal.Min(decimal.Zero, b.Sub(d.B))
		}
	}
	return nil
}

// Receipt is one payment of a round with its net on the ledger (0 once reversed).
type Receipt struct {
	PaymentID int64           `db:"id"`
	PartnerID int64           `db:"partner_id"`
	PaidOn    civil.Date      `db:"paid_on"`
	Net       decimal.Decimal `db:"net"`
}

// RoundLine is one allocated partner of a round with what they paid on it.
type RoundLine struct {
	PartnerID int64           `db:"partner_id"`
	UserID    *int64          `db:"user_id"`
	Name      string          `db:"name"`
	Tier      string          `db:"tier"`
	Allocated decimal.Decimal `db:"allocated"`
	// Paid is Σ net of the partner's payments on this round.
	Paid decimal.Decimal `db:"-"`
	// Outstanding is Allocated − Paid (a round payment never exceeds the allocation).
	Outstanding decimal.Decimal `db:"-"`
	// Interest is R4's B on this round's payments (0 without funding date or
	// rate), with its trace.
	Interest decimal.Decimal `db:"-"`
	Trace    calc.Trace      `db:"-"`
	Receipts []Receipt       `db:"-"`
}

// RoundPositions is a round's partners with their payments (缴款确认).
type RoundPositions struct {
	RoundID   int64
	ProjectID int64
	Funding   establishment.Funding
	Lines     []RoundLine
}

// Round returns the allocated partners (allocated > 0) of round roundID,
// by tier, name and partner id, with their payments on the ledger and the
// round's capital interest. A round not approved has lines but no
// payments.
func (s *Service) Round(ctx context.Context, conn sqlx.QueryerContext, roundID, projectID int64) (RoundPositions, error) {
	if conn == nil {
		conn = s.db
	}
	out := RoundPositions{RoundID: roundID, ProjectID: projectID, Lines: []RoundLine{}}
	if err := sqlx.SelectContext(ctx, conn, &out.Lines, `
		SELECT l.partner_id, p.user_id, p.name, l.tier, l.allocated FROM allocation_lines l JOIN partners p ON p.id = l.partner_id
		WHERE l.round_id = $1 AND l.allocated > 0 ORDER BY l.tier, p.name, l.partner_id`, roundID); err != nil {
		return out, fmt.Errorf("position: lines of round %d: %w", roundID, err)
	}
	var rs []Receipt
	if err := sqlx.SelectContext(ctx, conn, &rs, `
		SELECT pm.id, pm.partner_id, pm.paid_on, `+paymentNet+` AS net
		FROM payments pm WHERE pm.round_id = $1 ORDER BY pm.paid_on, pm.id`, roundID); err != nil {
		return out, fmt.Errorf("position: payments of round %d: %w", roundID, err)
	}
	if s.est != nil {
		terms, err := s.est.FundingTerms(ctx, conn, []int64{projectID})
		if err != nil {
			return out, err
		}
		out.Funding = terms[projectID]
	}
	byPartner := map[int64][]Receipt{}
	for _, r := range rs {
		byPartner[r.PartnerID] = append(byPartner[r.PartnerID], r)
	}
	for i := range out.Lines {
		l := &out.Lines[i]
		l.Receipts = byPartner[l.PartnerID]
		var ps []calc.InterestPayment
		for _, r := range l.Receipts {
			l.Paid = l.Paid.Add(r.Net)
			if !r.Net.IsZero() {
				ps = append(ps, calc.InterestPayment{Amount: r.Net, PaidOn: r.PaidOn})
			}
		}
		l.Outstanding = l.Allocated.Sub(l.Paid)
		l.Trace = calc.Trace{}
		if !out.Funding.Date.IsZero() && out.Funding.Rate != nil {
			l.Interest, l.Trace = calc.CapitalInterest(fmt.Sprintf("capital_interest[%d]", l.PartnerID), out.Funding.Date, *out.Funding.Rate, ps)
		}
	}
	return out, nil
}

// Line returns one partner's line of Round (ok false when the partner has
// no allocation in the round).
func (rp RoundPositions) Line(partnerID int64) (RoundLine, bool) {
	for _, l := range rp.Lines {
		if l.PartnerID == partnerID {
			return l, true
		}
	}
	return RoundLine{}, false
}

// Totals returns Σ allocated and Σ paid over the round's lines.
func (rp RoundPositions) Totals() (allocated, paid decimal.Decimal) {
	for _, l := range rp.Lines {
		allocated, paid = allocated.Add(l.Allocated), paid.Add(l.Paid)
	}
	return allocated, paid
}

// paymentNet is the net on the ledger of a payments row pm: the credit to
// the partner's principal account, less its reversal.
const paymentNet = `coalesce(-(SELECT sum(lp.amount) FROM ledger_postings lp JOIN ledger_accounts la ON la.id = lp.account_id
	WHERE lp.transaction_id IN (pm.ledger_transaction_id, pm.reversal_transaction_id)
	  AND la.kind = 'principal' AND la.partner_id = pm.partner_id), 0)`

// RoundPaid returns Σ net of partnerID's payments on round roundID.
func (s *Service) RoundPaid(ctx context.Context, conn sqlx.QueryerContext, roundID, partnerID int64) (decimal.Decimal, error) {
	var paid decimal.Decimal
	if err := sqlx.GetContext(ctx, conn, &paid, `SELECT coalesce(sum(`+paymentNet+`), 0) FROM payments pm
		WHERE pm.round_id = $1 AND pm.partner_id = $2`, roundID, partnerID); err != nil {
		return decimal.Zero, fmt.Errorf("position: paid of %d/%d: %w", roundID, partnerID, err)
	}
	return paid, nil
}

// PartnerRound is a partner's allocation in one approved round with what
// they paid on it.
type PartnerRound struct {
	ProjectID   int64           `db:"project_id"`
	ProjectName string          `db:"project_name"`
	RoundID     int64           `db:"round_id"`
	RoundKind   string          `db:"kind"`
	RoundSeq    int             `db:"seq"`
	PartnerID   int64           `db:"partner_id"`
	Allocated   decimal.Decimal `db:"allocated"`
	Paid        decimal.Decimal `db:"paid"`
}

// PartnerRounds returns partnerID's allocations (> 0) in approved rounds,
// newest round first, with Σ net of their payments on each (我的缴款).
func (s *Service) PartnerRounds(ctx context.Context, conn sqlx.QueryerContext, partnerID int64) ([]PartnerRound, error) {
	if conn == nil {
		conn = s.db
	}
	out := []PartnerRound{}
	if err := sqlx.SelectContext(ctx, conn, &out, `
		SELECT r.project_id, pr.name AS project_name, r.id AS round_id, r.kind, r.seq, l.partner_id, l.allocated,
			coalesce((SELECT sum(`+paymentNet+`) FROM payments pm WHERE pm.round_id = r.id AND pm.partner_id = l.partner_id), 0) AS paid
		FROM allocation_lines l JOIN rounds r ON r.id = l.round_id JOIN projects pr ON pr.id = r.project_id
		WHERE l.partner_id = $1 AND l.allocated > 0 AND `+RoundApproved+` ORDER BY r.id DESC`, partnerID); err != nil {
		return nil, fmt.Errorf("position: rounds of partner %d: %w", partnerID, err)
	}
	return out, nil
}

// PartnerSQL is the query Positions runs for one partner ($1 = partners.id),
// for the benchmark that sets GET /api/v1/me/holdings beside a bare handler
// running the same indexed query.
func PartnerSQL() string { return byPartner }
