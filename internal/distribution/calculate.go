package distribution

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/db"
	"hehuo/internal/establishment"
	"hehuo/internal/money"
)

// Blank is one input a calculation still needs (inputs_incomplete's details).
type Blank struct {
	Field string `json:"field"` // distribution_date, return_ratio, actual_peak, lines[3].c_reason …
	Label string `json:"label"` // in Chinese, as the message names it
}

// computed is a batch's calculation: what calculate writes and what save
// and submit recompute to compare (hash).
type computed struct {
	x                *decimal.Decimal // X of a profit or liquidation batch
	partnershipRatio *decimal.Decimal
	actualPeakID     *int64
	lines            []computedLine
	hash             string
}

type computedLine struct {
	PartnerID  int64
	UserID     *int64
	PayeeID    int64
	Seq        int
	Name       string
	New        bool // a partner who came to hold a stake since the batch was opened
	A, B, C    decimal.Decimal
	CReason    string
	D, E, F    decimal.Decimal
	CalcD      *decimal.Decimal
	CalcE      *decimal.Decimal
	CalcF      *decimal.Decimal
	Manual     bool
	Trace      calc.Trace
	stake      decimal.Decimal
	hasHolding bool
}

// agreedActualPeak is the latest agreed actual peak of the project (nil: none).
func agreedActualPeak(ctx context.Context, q sqlx.QueryerContext, projectID int64) (*int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM actual_peaks WHERE project_id = $1 AND status = 'agreed' ORDER BY id DESC LIMIT 1`, projectID)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agreed actual peak: %w", err)
	}
	return &id, nil
}

func amountPtr(d *decimal.Decimal) *money.Amount {
	if d == nil {
		return nil
	}
	a := money.AmountOf(*d)
	return &a
}

// compute calculates batch b as it stands (its inputs, its lines' C and
// manual amounts) against the positions now, without writing: blank inputs
// are 422 inputs_incomplete naming each, a negative E 422 line_negative.
func (s *Service) compute(ctx context.Context, tx *sqlx.Tx, b Batch) (computed, error) {
	var blanks []Blank
	blank := func(field, label string) { blanks = append(blanks, Blank{field, label}) }
	if b.DistributionDate == nil {
		blank("distribution_date", "分配日期")
	}
	if b.RecordDate == nil {
		blank("record_date", "股权登记日")
	}
	principal := b.Kind == KindPrincipal || b.Kind == KindLiquidation
	profit := b.Kind == KindProfit || b.Kind == KindLiquidation
	ratio := decimal.NewFromInt(1) // a liquidation returns all the principal left
	if b.Kind == KindPrincipal {
		if b.ReturnRatio == nil {
			blank("return_ratio", "本次返还比例")
		} else {
			ratio = *b.ReturnRatio
		}
	}
	var c computed
	if principal {
		id, err := agreedActualPeak(ctx, tx, b.ProjectID)
		if err != nil {
			return c, err
		}
		if id == nil {
			blank("actual_peak", "已审批通过的实际资金峰值确认")
		}
		c.actualPeakID = id
	}
	anyManual := false
	for _, l := range b.Lines {
		anyManual = anyManual || l.Manual
	}
	// X: entered, or computed from the net profit (R7), or — unlocked with
	// amounts typed by hand and nothing else to go by — the sum of the F typed.
	manualX := false
	if profit {
		switch {
		case b.AmountEntered && b.Amount != nil:
		case b.NetProfit != nil && b.ProfitRatio != nil:
		case b.Unlocked && anyManual:
			manualX = true
		default:
			if b.NetProfit == nil {
				blank("net_profit", "锦艺方预计净利润（或直接填写本次分配金额）")
			}
			if b.ProfitRatio == nil {
				blank("profit_ratio", "本次分配比例（或直接填写本次分配金额）")
			}
		}
	}
	for _, l := range b.Lines {
		if !l.C.IsZero() && strings.TrimSpace(l.CReason) == "" {
			blank(fmt.Sprintf("lines[%d].c_reason", l.Seq), fmt.Sprintf("第%d行（%s）其它的说明", l.Seq, l.Name))
		}
	}
	if len(blanks) > 0 {
		labels := make([]string, len(blanks))
		for i, x := range blanks {
			labels[i] = x.Label
		}
		e := apperr.Rule("inputs_incomplete", blanks[0].Field, "测算前请填写：%s", strings.Join(labels, "、"))
		e.Details = blanks
		return c, e
	}

	hs, err := s.holders(ctx, tx, b.ProjectID, b.Kind)
	if err != nil {
		return c, err
	}
	byPartner := make(map[int64]holder, len(hs))
	for _, h := range hs {
		byPartner[h.PartnerID] = h
	}
	seen := map[int64]bool{}
	maxSeq := 0
	for _, l := range b.Lines {
		h, ok := byPartner[l.PartnerID]
		cl := computedLine{PartnerID: l.PartnerID, UserID: l.UserID, PayeeID: l.PayeeID, Seq: l.Seq, Name: l.Name,
			C: l.C.Decimal, CReason: l.CReason, D: l.D.Decimal, E: l.E.Decimal, F: l.F.Decimal, Manual: l.Manual,
			stake: h.Stake, hasHolding: ok}
		if principal {
			cl.A, cl.B = h.Held, h.Interest
		}
		c.lines = append(c.lines, cl)
		seen[l.PartnerID] = true
		maxSeq = max(maxSeq, l.Seq)
	}
	for _, h := range hs {
		if seen[h.PartnerID] {
			continue
		}
		maxSeq++
		cl := computedLine{PartnerID: h.PartnerID, UserID: h.UserID, PayeeID: h.PartnerID, Seq: maxSeq, New: true, stake: h.Stake, hasHolding: true}
		if principal {
			cl.A, cl.B = h.Held, h.Interest
		}
		c.lines = append(c.lines, cl)
	}

	for i := range c.lines {
		l := &c.lines[i]
		id := fmt.Sprint(l.PartnerID)
		if principal {
			l.Trace = append(l.Trace,
				calc.Step{Figure: "a[" + id + "]", Formula: "A = 已缴本金 − 已返还本金（事业合伙本金）", Value: money.Format(l.A)},
				calc.Step{Figure: "b[" + id + "]", Formula: "B = 尚未扣减的资金利息（R4，只扣一次）", Value: money.Format(l.B)})
			pl := calc.Principal(l.PartnerID, l.A, l.B, l.C, ratio)
			l.Trace = append(l.Trace, pl.Trace...)
			d, e := pl.D, pl.E
			l.CalcD, l.CalcE = &d, &e
			if !l.Manual {
				l.D, l.E = d, e
			}
		}
	}
	if profit {
		var x decimal.Decimal
		var xStep calc.Step
		switch {
		case manualX:
			for _, l := range c.lines {
				if l.Manual {
					x = x.Add(l.F)
				}
			}
			xStep = calc.Step{Figure: "x", Formula: "X = Σ 手工录入的利润分配", Value: money.Format(x)}
		case b.AmountEntered && b.Amount != nil:
			x = b.Amount.Decimal
			xStep = calc.Step{Figure: "x", Formula: "X = 直接填写的本次分配金额", Value: money.Format(x)}
		default:
			t, err := s.est.Terms(ctx, tx, b.ProjectID)
			if errors.Is(err, establishment.ErrNoTerms) {
				e := apperr.Rule("inputs_incomplete", "peak_capital", "测算前请填写：资金峰值（立项信息）")
				e.Details = []Blank{{"peak_capital", "资金峰值（立项信息）"}}
				return c, e
			}
			if err != nil {
				return c, err
			}
			sum := decimal.Zero
			for _, l := range c.lines {
				sum = sum.Add(l.stake)
			}
			if x, xStep, err = calc.ProfitAmount(b.NetProfit.Decimal, sum, t.PeakCapital, *b.ProfitRatio); err != nil {
				return c, err
			}
			pr := calc.PartnershipRatio(sum, t.PeakCapital, 8)
			c.partnershipRatio = &pr
		}
		c.x = &x
		if manualX {
			for i := range c.lines {
				l := &c.lines[i]
				if !l.Manual {
					l.F = decimal.Zero
				}
				l.Trace = append(l.Trace, xStep)
			}
		} else {
			stakes := make([]calc.Stake, len(c.lines))
			for i, l := range c.lines {
				stakes[i] = calc.Stake{PartnerID: l.PartnerID, Principal: l.stake}
			}
			split, err := calc.SplitProfit(x, stakes)
			if err != nil {
				return c, err
			}
			for i := range c.lines {
				l := &c.lines[i]
				f := split[i].F
				l.CalcF = &f
				if !l.Manual {
					l.F = f
				}
				l.Trace = append(l.Trace, xStep)
				l.Trace = append(l.Trace, split[i].Trace...)
			}
		}
	}
	for i := range c.lines {
		l := &c.lines[i]
		if l.Manual {
			l.Trace = append(l.Trace, calc.Step{Figure: fmt.Sprintf("manual[%d]", l.PartnerID), Formula: "手工录入（解锁编辑）",
				Inputs: manualInputs(*l, principal, profit), Value: money.Format(l.E.Add(l.F)),
				Note: "手工录入的金额保留，测算值仅供比对"})
		}
		if l.E.IsNegative() {
			return c, apperr.Rule("line_negative", fmt.Sprintf("lines[%d].e", l.Seq),
				"第%d行（%s）本金分配（含其它）为负数（%s），请核对资金利息和其它", l.Seq, l.Name, money.Display(l.E))
		}
		if l.F.IsNegative() {
			return c, apperr.Rule("line_negative", fmt.Sprintf("lines[%d].f", l.Seq), "第%d行（%s）利润分配为负数", l.Seq, l.Name)
		}
	}
	c.hash = c.fingerprint(b)
	return c, nil
}

func manualInputs(l computedLine, principal, profit bool) map[string]string {
	m := map[string]string{}
	if principal {
		m["D（手工）"], m["E（手工）"] = money.Format(l.D), money.Format(l.E)
		if l.CalcD != nil {
			m["D（测算）"], m["E（测算）"] = money.Format(*l.CalcD), money.Format(*l.CalcE)
		}
	}
	if profit {
		m["F（手工）"] = money.Format(l.F)
		if l.CalcF != nil {
			m["F（测算）"] = money.Format(*l.CalcF)
		}
	}
	return m
}

// fingerprint is the SHA-256 of the calculation's inputs and results in a
// fixed order: a payment, a new partner, an edited C or date since the
// calculation gives another fingerprint.
func (c computed) fingerprint(b Batch) string {
	var sb strings.Builder
	opt := func(v fmt.Stringer, isNil bool) string {
		if isNil {
			return "-"
		}
		return v.String()
	}
	fmt.Fprintf(&sb, "batch %d %s %d|%s|%s|%s|%v|%s|%s|%s|%s|%v\n", b.ID, b.Kind, b.Seq,
		opt(b.DistributionDate, b.DistributionDate == nil), opt(b.RecordDate, b.RecordDate == nil),
		decOpt(b.ReturnRatio), b.AmountEntered, decOpt(c.x), amountOpt(b.NetProfit), decOpt(b.ProfitRatio),
		decOpt(c.partnershipRatio), ptrOpt(c.actualPeakID))
	for _, l := range c.lines {
		fmt.Fprintf(&sb, "line %d %d %s %d|%s|%s|%s|%q|%s|%s|%s|%s|%s|%s|%v\n", l.PartnerID, l.PayeeID, ptrOpt(l.UserID), l.Seq,
			money.Format(l.A), money.Format(l.B), money.Format(l.C), l.CReason, money.Format(l.D), money.Format(l.E), money.Format(l.F),
			decOpt(l.CalcD), decOpt(l.CalcE), decOpt(l.CalcF), l.Manual)
	}
	sum := sha256.Sum256([]byte(sb.String()))
	return hex.EncodeToString(sum[:])
}

func decOpt(d *decimal.Decimal) string {
	if d == nil {
		return "-"
	}
	return d.String()
}

func amountOpt(a *money.Amount) string {
	if a == nil {
		return "-"
	}
	return a.Decimal.String()
}

func ptrOpt(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// CalculateInput is the body of POST /distributions/{id}/calculate (the
// version is checked when given).
type CalculateInput struct {
	Version int `json:"version"`
}

// Calculate (分配测算) computes the batch by R6/R7 and stores the lines with
// a trace per figure: status calculated, the calculation's fingerprint kept
// for save and submit. Blank inputs are 422 inputs_incomplete naming each.
func (s *Service) Calculate(ctx context.Context, a audit.Actor, id int64, in CalculateInput) (Batch, error) {
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := beginFigures(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		if !editable[b.Status] {
			return errLocked
		}
		c, err := s.compute(ctx, tx, b)
		if err != nil {
			return err
		}
		if err := storeLines(ctx, tx, id, c.lines); err != nil {
			return err
		}
		set := `, status = 'calculated', calc_hash = $2, saved_hash = '', calculated_by = $3, calculated_at = now(),
			actual_peak_id = $4, partnership_ratio = $5`
		args := []any{c.hash, a.ID, c.actualPeakID, c.partnershipRatio}
		if c.x != nil && !b.AmountEntered {
			set += `, amount = $6`
			args = append(args, *c.x)
		}
		out, err = finishLines(ctx, tx, a, b, "distribution.calculate", set, args...)
		return err
	})
	return out, err
}

// storeLines writes a calculation's lines of batch id: the partners who
// came to hold a stake since the batch was opened are inserted, and every
// line's figures and trace set — each in one statement over arrays, so a
// batch of ten thousand partners costs two round trips, not twenty thousand.
func storeLines(ctx context.Context, tx *sqlx.Tx, id int64, lines []computedLine) error {
	var newPartners, newPayees, newSeqs []int64
	var newUsers []sql.NullInt64
	n := len(lines)
	partners := make([]int64, n)
	a, b, d, e, f := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	calcD, calcE, calcF, traces := make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]string, n)
	nullable := func(x *decimal.Decimal) sql.NullString {
		if x == nil {
			return sql.NullString{}
		}
		return sql.NullString{String: x.String(), Valid: true}
	}
	for i, l := range lines {
		if l.New {
			user := sql.NullInt64{}
			if l.UserID != nil {
				user = sql.NullInt64{Int64: *l.UserID, Valid: true}
			}
			newPartners, newUsers = append(newPartners, l.PartnerID), append(newUsers, user)
			newPayees, newSeqs = append(newPayees, l.PayeeID), append(newSeqs, int64(l.Seq))
		}
		trace, err := json.Marshal(l.Trace)
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		partners[i], traces[i] = l.PartnerID, string(trace)
		a[i], b[i], d[i], e[i], f[i] = l.A.String(), l.B.String(), l.D.String(), l.E.String(), l.F.String()
		calcD[i], calcE[i], calcF[i] = nullable(l.CalcD), nullable(l.CalcE), nullable(l.CalcF)
	}
	if len(newPartners) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq)
			SELECT $1, x.p, x.u, x.py, x.s FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::int[]) AS x (p, u, py, s)`,
			id, pq.Array(newPartners), pq.Array(newUsers), pq.Array(newPayees), pq.Array(newSeqs)); err != nil {
			return fmt.Errorf("insert distribution lines: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE distribution_lines l SET a = x.a, b = x.b, d = x.d, e = x.e, f = x.f,
		calc_d = x.cd, calc_e = x.ce, calc_f = x.cf, trace = x.tr::jsonb
		FROM unnest($2::bigint[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[],
			$8::numeric[], $9::numeric[], $10::numeric[], $11::text[]) AS x (p, a, b, d, e, f, cd, ce, cf, tr)
		WHERE l.batch_id = $1 AND l.partner_id = x.p`,
		id, pq.Array(partners), pq.Array(a), pq.Array(b), pq.Array(d), pq.Array(e), pq.Array(f),
		pq.Array(calcD), pq.Array(calcE), pq.Array(calcF), pq.Array(traces)); err != nil {
		return fmt.Errorf("update distribution lines: %w", err)
	}
	return nil
}

// hashes are the batch's stored fingerprints and submitter.
type hashes struct {
	Calc        string `db:"calc_hash"`
	Saved       string `db:"saved_hash"`
	SubmittedBy *int64 `db:"submitted_by"`
}

func readHashes(ctx context.Context, tx *sqlx.Tx, id int64) (hashes, error) {
	var h hashes
	if err := tx.GetContext(ctx, &h, `SELECT calc_hash, saved_hash, submitted_by FROM distribution_batches WHERE id = $1`, id); err != nil {
		return h, fmt.Errorf("distribution %d hashes: %w", id, err)
	}
	return h, nil
}

var errStale = apperr.Conflict("calculation_stale", "测算后数据已有变化（如新的缴款），请重新测算")

// recheck recomputes batch b's calculation now and refuses it as stale
// when it differs from the last calculation (save) or from the saved one
// (submit, saved true): what moves on is exactly what the accountant saw.
func (s *Service) recheck(ctx context.Context, tx *sqlx.Tx, b Batch, saved bool) error {
	h, err := readHashes(ctx, tx, b.ID)
	if err != nil {
		return err
	}
	c, err := s.compute(ctx, tx, b)
	if err != nil {
		return err
	}
	want := h.Calc
	if saved {
		want = h.Saved
	}
	if c.hash != want {
		return errStale
	}
	return nil
}

// Save (保存) keeps exactly the last calculation: only a calculated batch,
// and only when recomputing it now gives the same figures (409
// calculation_stale otherwise).
func (s *Service) Save(ctx context.Context, a audit.Actor, id int64, in VersionInput) (Batch, error) {
	if in.Version <= 0 {
		return Batch{}, apperr.Invalid("version_required", "version", "缺少版本号")
	}
	var out Batch
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		b, err := begin(ctx, tx, a, id, in.Version)
		if err != nil {
			return err
		}
		switch {
		case b.Status == StatusDraft || b.Status == StatusRejected:
			return apperr.Rule("calculation_missing", "", "请先进行分配测算，再保存")
		case b.Status != StatusCalculated:
			return apperr.Rule("distribution_status", "", "分配批次当前状态（%s）不能保存", b.Status.Label())
		}
		if err := s.recheck(ctx, tx, b, false); err != nil {
			return err
		}
		out, err = finish(ctx, tx, a, b, "distribution.save", `, status = 'saved', saved_hash = calc_hash, saved_by = $2, saved_at = now()`, a.ID)
		return err
	})
	return out, err
}
