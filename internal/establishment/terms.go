package establishment

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/calc"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/money"
	"hehuo/internal/rate"
	"hehuo/internal/text"
)

// ErrNoTerms is returned when a project has no establishment terms yet
// (no peak capital): nothing can be sized, launched or allocated.
var ErrNoTerms = apperr.Rule("establishment_terms_missing", "peak_capital", "请先填写立项信息（资金峰值及各层级比例）")

// CollectionAccount is the partnership's bank account partners pay into
// (收款账户), shown in payment notices.
type CollectionAccount struct {
	Bank          string `json:"bank"`
	AccountName   string `json:"account_name"`
	AccountNumber string `json:"account_number"`
}

// Terms are a project's establishment terms (立项信息) as other services use
// them.
type Terms struct {
	ProjectID   int64
	PeakCapital decimal.Decimal
	Ratios      calc.Ratios
	FundingDate civil.Date // zero when not entered yet
	// FinancingRate is the rate that applies: the override, else the rate in
	// force on the funding date (frozen when establishment is launched).
	// Nil when neither is known.
	FinancingRate *decimal.Decimal
	// RateInForce is the table's rate on the funding date (nil when none).
	RateInForce       *decimal.Decimal
	RateInForceFrom   civil.Date
	RateOverridden    bool
	GroupCapRatio     decimal.Decimal
	PerPersonCapRatio decimal.Decimal
	CollectionAccount CollectionAccount
	PeakLocked        bool
	PeakLockedAt      *time.Time
	PeakInApproval    bool
	FundingFrozen     bool
	Version           int
}

// Sizing applies R1 to the terms.
func (t Terms) Sizing() calc.Sizing { return calc.Size(t.PeakCapital, t.Ratios) }

// PerPersonCap is the most one partner may be allocated (R1, whole yuan).
func (t Terms) PerPersonCap() decimal.Decimal {
	return calc.PerPersonCap(t.PeakCapital, t.PerPersonCapRatio)
}

// Caps are the terms' R1 caps.
func (t Terms) Caps() calc.Caps {
	return calc.Caps{Group: t.GroupCapRatio, PerPerson: t.PerPersonCapRatio}
}

// TierAmounts are money per tier in JSON.
type TierAmounts struct {
	Holding  money.Amount `json:"holding"`
	Property money.Amount `json:"property"`
	City     money.Amount `json:"city"`
	Other    money.Amount `json:"other"`
}

// TierRatios are ratios per tier in JSON, as fraction strings ("0.0331").
type TierRatios struct {
	Holding  string `json:"holding"`
	Property string `json:"property"`
	City     string `json:"city"`
	Other    string `json:"other"`
}

// TermsInput is the body of PUT /projects/{id}/establishment. Ratios and
// rates are fractions as decimal strings ("0.0331" = 3.31%); money is a
// string with at most two decimals. An empty financing_rate means the rate
// in force on the funding date; empty caps mean the defaults (10%, 1%).
type TermsInput struct {
	PeakCapital       string            `json:"peak_capital"`
	TierRatios        TierRatios        `json:"tier_ratios"`
	FundingDate       civil.Date        `json:"funding_date"`
	FinancingRate     string            `json:"financing_rate"`
	GroupCapRatio     string            `json:"group_cap_ratio"`
	PerPersonCapRatio string            `json:"per_person_cap_ratio"`
	CollectionAccount CollectionAccount `json:"collection_account"`
	Version           int               `json:"version"`
}

// TermsView is the body of GET /projects/{id}/establishment: the terms with
// R1's pools, total and ratio and the trace of every figure.
type TermsView struct {
	ProjectID         int64             `json:"project_id"`
	PeakCapital       *money.Amount     `json:"peak_capital"`
	TierRatios        TierRatios        `json:"tier_ratios"`
	FundingDate       civil.Date        `json:"funding_date"`
	FinancingRate     *string           `json:"financing_rate"`
	RateInForce       *string           `json:"rate_in_force"`
	RateInForceFrom   civil.Date        `json:"rate_in_force_from"`
	RateOverridden    bool              `json:"rate_overridden"`
	GroupCapRatio     string            `json:"group_cap_ratio"`
	PerPersonCapRatio string            `json:"per_person_cap_ratio"`
	PerPersonCap      *money.Amount     `json:"per_person_cap"`
	CollectionAccount CollectionAccount `json:"collection_account"`
	Pools             TierAmounts       `json:"pools"`
	Total             money.Amount      `json:"total"`
	Ratio             string            `json:"ratio"`
	PeakLocked        bool              `json:"peak_locked"`
	PeakLockedAt      *time.Time        `json:"peak_locked_at"`
	PeakInApproval    bool              `json:"peak_in_approval"`
	FundingFrozen     bool              `json:"funding_frozen"`
	Trace             calc.Trace        `json:"trace"`
	Version           int               `json:"version"`
}

type termsRow struct {
	PeakCapital   *decimal.Decimal `db:"peak_capital"`
	Holding       decimal.Decimal  `db:"ratio_holding"`
	Property      decimal.Decimal  `db:"ratio_property"`
	City          decimal.Decimal  `db:"ratio_city"`
	Other         decimal.Decimal  `db:"ratio_other"`
	GroupCap      decimal.Decimal  `db:"group_cap_ratio"`
	PerPersonCap  decimal.Decimal  `db:"per_person_cap_ratio"`
	FundingDate   civil.Date       `db:"funding_date"`
	Override      *decimal.Decimal `db:"financing_rate"`
	FrozenInForce *decimal.Decimal `db:"frozen_rate_in_force"`
	FrozenAt      *time.Time       `db:"funding_frozen_at"`
	Bank          string           `db:"collection_bank"`
	AccountName   string           `db:"collection_account_name"`
	AccountNumber string           `db:"collection_account_number"`
	PeakLockedAt  *time.Time       `db:"peak_locked_at"`
	PeakProcessID *int64           `db:"peak_process_id"`
	Version       int              `db:"terms_version"`
}

const selectTerms = `SELECT peak_capital, ratio_holding, ratio_property, ratio_city, ratio_other, group_cap_ratio,
	per_person_cap_ratio, funding_date, financing_rate, frozen_rate_in_force, funding_frozen_at, collection_bank,
	collection_account_name, collection_account_number, peak_locked_at, peak_process_id, terms_version
	FROM establishments WHERE project_id = $1`

// load reads the terms of a project; a project without a row gets the
// defaults with version 0. The rate in force is read from the table unless
// the terms are frozen.
func load(ctx context.Context, q sqlx.QueryerContext, projectID int64) (Terms, error) {
	var r termsRow
	err := sqlx.GetContext(ctx, q, &r, selectTerms, projectID)
	if db.IsNoRows(err) {
		r = termsRow{GroupCap: calc.DefaultCaps.Group, PerPersonCap: calc.DefaultCaps.PerPerson}
	} else if err != nil {
		return Terms{}, fmt.Errorf("load terms %d: %w", projectID, err)
	}
	t := Terms{
		ProjectID:         projectID,
		Ratios:            calc.Ratios{Holding: r.Holding, Property: r.Property, City: r.City, Other: r.Other},
		FundingDate:       r.FundingDate,
		GroupCapRatio:     r.GroupCap,
		PerPersonCapRatio: r.PerPersonCap,
		CollectionAccount: CollectionAccount{r.Bank, r.AccountName, r.AccountNumber},
		PeakLocked:        r.PeakLockedAt != nil,
		PeakLockedAt:      r.PeakLockedAt,
		PeakInApproval:    r.PeakLockedAt == nil && r.PeakProcessID != nil,
		FundingFrozen:     r.FrozenAt != nil,
		Version:           r.Version,
	}
	if r.PeakCapital != nil {
		t.PeakCapital = *r.PeakCapital
	}
	switch {
	case t.FundingFrozen:
		t.RateInForce = r.FrozenInForce
	case !t.FundingDate.IsZero():
		in, ok, err := rate.RateOn(ctx, q, t.FundingDate)
		if err != nil {
			return t, err
		}
		if ok {
			t.RateInForce, t.RateInForceFrom = &in.Rate, in.EffectiveFrom
		}
	}
	t.RateOverridden = r.Override != nil
	t.FinancingRate = r.Override
	if r.Override == nil {
		t.FinancingRate = t.RateInForce
	}
	return t, nil
}

// Terms returns the project's establishment terms; ErrNoTerms when no peak
// capital was entered.
func (s *Service) Terms(ctx context.Context, q sqlx.QueryerContext, projectID int64) (Terms, error) {
	t, err := load(ctx, q, projectID)
	if err != nil {
		return t, err
	}
	if !t.PeakCapital.IsPositive() {
		return t, ErrNoTerms
	}
	return t, nil
}

// GetTerms returns the terms with R1's figures for the 立项信息 tab.
func (s *Service) GetTerms(ctx context.Context, projectID int64) (TermsView, error) {
	if err := mustExist(ctx, s.db, projectID); err != nil {
		return TermsView{}, err
	}
	t, err := load(ctx, s.db, projectID)
	if err != nil {
		return TermsView{}, err
	}
	return view(t), nil
}

func ratioStr(d decimal.Decimal) string { return d.String() }

func optStr(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	v := d.String()
	return &v
}

func view(t Terms) TermsView {
	sz := t.Sizing()
	v := TermsView{
		ProjectID: t.ProjectID,
		TierRatios: TierRatios{ratioStr(t.Ratios.Holding), ratioStr(t.Ratios.Property),
			ratioStr(t.Ratios.City), ratioStr(t.Ratios.Other)},
		FundingDate:       t.FundingDate,
		FinancingRate:     optStr(t.FinancingRate),
		RateInForce:       optStr(t.RateInForce),
		RateInForceFrom:   t.RateInForceFrom,
		RateOverridden:    t.RateOverridden,
		GroupCapRatio:     t.GroupCapRatio.String(),
		PerPersonCapRatio: t.PerPersonCapRatio.String(),
		CollectionAccount: t.CollectionAccount,
		Pools: TierAmounts{money.AmountOf(sz.Pools.Holding), money.AmountOf(sz.Pools.Property),
			money.AmountOf(sz.Pools.City), money.AmountOf(sz.Pools.Other)},
		Total:          money.AmountOf(sz.Total),
		Ratio:          sz.Ratio.String(),
		PeakLocked:     t.PeakLocked,
		PeakLockedAt:   t.PeakLockedAt,
		PeakInApproval: t.PeakInApproval,
		FundingFrozen:  t.FundingFrozen,
		Trace:          sz.Trace,
		Version:        t.Version,
	}
	if t.PeakCapital.IsPositive() {
		p := money.AmountOf(t.PeakCapital)
		c := money.AmountOf(t.PerPersonCap())
		v.PeakCapital, v.PerPersonCap = &p, &c
		v.Trace = append(v.Trace, calc.Step{
			Figure:   "per_person_cap",
			Formula:  "个人认购上限 = 资金峰值 P × 个人上限比例",
			Inputs:   map[string]string{"P": money.Format(t.PeakCapital), "per_person_cap_ratio": calc.Percent(t.PerPersonCapRatio)},
			Rounding: "整元，四舍五入（远离零）",
			Value:    money.Format(t.PerPersonCap()),
		})
	} else {
		v.Trace = nil
	}
	v.Trace = append(v.Trace, rateStep(t))
	return v
}

// rateStep explains the financing rate: the rate in force on the funding
// date, or the override beside it.
func rateStep(t Terms) calc.Step {
	st := calc.Step{Figure: "financing_rate", Inputs: map[string]string{}}
	if !t.FundingDate.IsZero() {
		st.Inputs["funding_date"] = t.FundingDate.String()
	}
	inForce := "无"
	if t.RateInForce != nil {
		inForce = calc.Percent(*t.RateInForce)
		st.Inputs["rate_in_force"] = inForce
		if !t.RateInForceFrom.IsZero() {
			st.Inputs["rate_in_force_from"] = t.RateInForceFrom.String()
		}
	}
	switch {
	case t.RateOverridden:
		st.Formula = "融资利率 = 手工调整"
		st.Value = calc.Percent(*t.FinancingRate)
		st.Note = fmt.Sprintf("手工调整：资金投入日在用利率 %s，调整为 %s", inForce, st.Value)
	case t.FinancingRate != nil:
		st.Formula = "融资利率 = 资金投入日在用的集团资金成本利率"
		st.Value = calc.Percent(*t.FinancingRate)
	default:
		st.Formula = "融资利率 = 资金投入日在用的集团资金成本利率"
		st.Value = ""
		st.Note = "尚无可用利率：请填写资金投入日，或在后台管理维护资金成本利率，或手工填写"
	}
	if t.FundingFrozen {
		st.Note += "（事业合伙立项已发起，资金投入日与利率已锁定）"
	}
	return st
}

// checkedTerms is a TermsInput after its checks.
type checkedTerms struct {
	peak      decimal.Decimal
	ratios    calc.Ratios
	override  *decimal.Decimal
	groupCap  decimal.Decimal
	personCap decimal.Decimal
	account   CollectionAccount
}

func checkTerms(in TermsInput) (checkedTerms, error) {
	var c checkedTerms
	if in.PeakCapital == "" {
		return c, apperr.Rule("peak_capital_required", "peak_capital", "请填写资金峰值")
	}
	peak, err := money.Parse(in.PeakCapital)
	if err != nil {
		if e := apperr.As(err); e != nil {
			return c, e.WithField("peak_capital")
		}
		return c, err
	}
	c.peak = peak
	one := decimal.NewFromInt(1)
	ratio := func(s, tier string) (decimal.Decimal, error) {
		if s == "" {
			return decimal.Zero, nil
		}
		v, err := money.ParseNumber(s)
		if err != nil {
			return v, apperr.Invalid("ratio_invalid", "tier_ratios."+tier, "%s比例须为小数形式的比例，例如 0.0331 表示 3.31%%", calc.TierLabel(tier))
		}
		if !v.Equal(v.Truncate(6)) {
			return v, apperr.Invalid("ratio_too_precise", "tier_ratios."+tier, "%s比例最多保留6位小数（即百分比4位小数）", calc.TierLabel(tier))
		}
		return v, nil
	}
	for _, t := range []struct {
		s   string
		dst *decimal.Decimal
		t   string
	}{{in.TierRatios.Holding, &c.ratios.Holding, calc.TierHolding}, {in.TierRatios.Property, &c.ratios.Property, calc.TierProperty},
		{in.TierRatios.City, &c.ratios.City, calc.TierCity}, {in.TierRatios.Other, &c.ratios.Other, calc.TierOther}} {
		if *t.dst, err = ratio(t.s, t.t); err != nil {
			return c, err
		}
	}
	if c.override, err = parseFraction(in.FinancingRate, "financing_rate", "融资利率", one); err != nil {
		return c, err
	}
	if c.override != nil {
		if _, err := rate.ParseRate(in.FinancingRate, "financing_rate", "融资利率"); err != nil {
			return c, err
		}
	}
	c.groupCap, c.personCap = calc.DefaultCaps.Group, calc.DefaultCaps.PerPerson
	if g, err := parseFraction(in.GroupCapRatio, "group_cap_ratio", "集团合伙上限", decimal.NewFromInt(100)); err != nil {
		return c, err
	} else if g != nil {
		c.groupCap = *g
	}
	if p, err := parseFraction(in.PerPersonCapRatio, "per_person_cap_ratio", "个人认购上限", decimal.NewFromInt(100)); err != nil {
		return c, err
	} else if p != nil {
		c.personCap = *p
	}
	// R1's caps are errors, not warnings: the first one refuses the save and
	// every one is listed in the details.
	if vs := calc.CheckCaps(c.peak, c.ratios, calc.Caps{Group: c.groupCap, PerPerson: c.personCap}); len(vs) > 0 {
		e := apperr.Rule(vs[0].Code, vs[0].Field, "%s", vs[0].Message)
		e.Details = vs
		return c, e
	}
	a := in.CollectionAccount
	if c.account.Bank, err = text.Clean(a.Bank, "collection_account.bank", "开户银行", false, 60); err != nil {
		return c, err
	}
	if c.account.AccountName, err = text.Clean(a.AccountName, "collection_account.account_name", "账户名称", false, 60); err != nil {
		return c, err
	}
	if c.account.AccountNumber, err = text.Clean(a.AccountNumber, "collection_account.account_number", "银行账号", false, 40); err != nil {
		return c, err
	}
	for _, r := range c.account.AccountNumber {
		if (r < '0' || r > '9') && r != ' ' && r != '-' {
			return c, apperr.Invalid("account_number_invalid", "collection_account.account_number", "银行账号只能包含数字、空格和短横线")
		}
	}
	return c, nil
}

// PutTerms saves the terms (立项信息). A stale version is 409; a change of
// peak capital or ratios after the peak_capital process was agreed (or while
// it is in approval) is 409 peak_locked; a change of the funding date or the
// rate after establishment was launched is 409 funding_frozen.
func (s *Service) PutTerms(ctx context.Context, a audit.Actor, projectID int64, in TermsInput) (TermsView, error) {
	c, err := checkTerms(in)
	if err != nil {
		return TermsView{}, err
	}
	var out TermsView
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := ensureWritable(ctx, tx, projectID); err != nil {
			return err
		}
		before, err := load(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if err := checkVersion(in.Version, before.Version); err != nil {
			return err
		}
		peakChanged := !c.peak.Equal(before.PeakCapital) || !c.ratios.Holding.Equal(before.Ratios.Holding) ||
			!c.ratios.Property.Equal(before.Ratios.Property) || !c.ratios.City.Equal(before.Ratios.City) ||
			!c.ratios.Other.Equal(before.Ratios.Other)
		if peakChanged && before.PeakLocked {
			return apperr.Conflict("peak_locked", "项目资金峰值已审批通过，资金峰值和各层级比例已锁定；如需调整请发起资金峰值调整").WithField("peak_capital")
		}
		if peakChanged && before.PeakInApproval {
			return apperr.Conflict("peak_in_approval", "项目资金峰值审批中，资金峰值和各层级比例暂不能修改").WithField("peak_capital")
		}
		// A rate equal to the one in force is no override: the terms keep
		// following the table until establishment is launched.
		if c.override != nil && !before.FundingFrozen && !in.FundingDate.IsZero() {
			in, ok, err := rate.RateOn(ctx, tx, in.FundingDate)
			if err != nil {
				return err
			}
			if ok && in.Rate.Equal(*c.override) {
				c.override = nil
			}
		}
		if before.FundingFrozen {
			// Sending back the frozen rate is no change.
			if c.override != nil && before.FinancingRate != nil && c.override.Equal(*before.FinancingRate) {
				c.override = nil
				if before.RateOverridden {
					c.override = before.FinancingRate
				}
			}
			sameRate := (c.override == nil && !before.RateOverridden) ||
				(c.override != nil && before.RateOverridden && c.override.Equal(*before.FinancingRate))
			if in.FundingDate != before.FundingDate || !sameRate {
				return apperr.Conflict("funding_frozen", "事业合伙立项已发起，资金投入日和融资利率已锁定").WithField("funding_date")
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE establishments SET peak_capital = $1, ratio_holding = $2, ratio_property = $3,
			ratio_city = $4, ratio_other = $5, group_cap_ratio = $6, per_person_cap_ratio = $7, funding_date = $8,
			financing_rate = $9, collection_bank = $10, collection_account_name = $11, collection_account_number = $12,
			terms_version = terms_version + 1, updated_at = now() WHERE project_id = $13`,
			c.peak, c.ratios.Holding, c.ratios.Property, c.ratios.City, c.ratios.Other, c.groupCap, c.personCap,
			in.FundingDate, c.override, c.account.Bank, c.account.AccountName, c.account.AccountNumber, projectID)
		if err != nil {
			return fmt.Errorf("save terms %d: %w", projectID, err)
		}
		after, err := load(ctx, tx, projectID)
		if err != nil {
			return err
		}
		out = view(after)
		return audit.Record(ctx, tx, a, audit.Entry{Action: "establishment.terms.save", Entity: "establishment_terms",
			EntityID: projectID, ProjectID: &projectID, Before: auditTerms(before), After: auditTerms(after)})
	})
	return out, err
}

// auditTerms is what the audit log keeps of the terms: the stored values,
// the account number masked (logs never hold bank account numbers in full).
func auditTerms(t Terms) map[string]any {
	acct := t.CollectionAccount
	acct.AccountNumber = mask(acct.AccountNumber)
	return map[string]any{
		"peak_capital": money.Format(t.PeakCapital), "ratios": t.Ratios, "funding_date": t.FundingDate,
		"financing_rate": optStr(t.FinancingRate), "rate_overridden": t.RateOverridden,
		"group_cap_ratio": t.GroupCapRatio.String(), "per_person_cap_ratio": t.PerPersonCapRatio.String(),
		"collection_account": acct, "version": t.Version,
	}
}

func mask(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return s
	}
	return "****" + string(r[len(r)-4:])
}

// FundingReady refuses terms whose funding date or financing rate is
// missing: FreezeFunding would refuse them. A process that freezes funding
// when launched calls it in Prepare, before DingTalk is asked.
func (t Terms) FundingReady() error {
	if !t.PeakCapital.IsPositive() {
		return ErrNoTerms
	}
	if t.FundingDate.IsZero() {
		return apperr.Rule("funding_date_missing", "funding_date", "请先在立项信息中填写资金投入日")
	}
	if t.FinancingRate == nil {
		return apperr.Rule("financing_rate_missing", "financing_rate", "资金投入日（%s）没有在用的资金成本利率，请维护利率表或手工填写融资利率", t.FundingDate)
	}
	return nil
}

// FreezeFunding fixes the funding date and the financing rate when the
// establishment process is launched (R1: they stay editable until then).
// The rate in force is copied from the table; running it again changes
// nothing.
func (s *Service) FreezeFunding(ctx context.Context, tx *sqlx.Tx, projectID int64) error {
	if err := ensure(ctx, tx, projectID); err != nil {
		return err
	}
	t, err := load(ctx, tx, projectID)
	if err != nil {
		return err
	}
	if t.FundingFrozen {
		return nil
	}
	if err := t.FundingReady(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE establishments SET frozen_rate_in_force = $1, funding_frozen_at = now(),
		updated_at = now() WHERE project_id = $2`, t.RateInForce, projectID); err != nil {
		return fmt.Errorf("freeze funding %d: %w", projectID, err)
	}
	after, err := load(ctx, tx, projectID)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.System, audit.Entry{Action: "establishment.funding.freeze", Entity: "establishment_terms",
		EntityID: projectID, ProjectID: &projectID, Before: auditTerms(t), After: auditTerms(after)})
}
