package establishment

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/money"
	"hehuo/internal/rate"
	"hehuo/internal/workflow"
)

var ctx = context.Background()

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func newService(t *testing.T) (*Service, *db.DB, int64) {
	t.Helper()
	d := dbtest.New(t)
	var city, pid int64
	if err := d.Get(&city, `INSERT INTO org_units (name, kind) VALUES ('环沪城市公司', 'city') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := d.Get(&pid, `INSERT INTO projects (code, name, city_company_id, land_acquired_on, is_open) VALUES ('TA01', '泰安-锦艺誉峯', $1, '2019-03-21', true) RETURNING id`, city); err != nil {
		t.Fatal(err)
	}
	return NewService(d, nil), d, pid
}

// r1 is RULES R1's example.
func r1(version int) TermsInput {
	return TermsInput{
		PeakCapital: "220000000.00",
		TierRatios:  TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: day("2024-03-01"),
		CollectionAccount: CollectionAccount{Bank: "招商银行上海分行", AccountName: "泰安锦艺誉峯合伙企业（有限合伙）",
			AccountNumber: "6225 8801 2345 6789"},
		Version: version,
	}
}

func code(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestTermsRoundTripSizesByR1(t *testing.T) {
	s, _, pid := newService(t)
	empty, err := s.GetTerms(ctx, pid)
	if err != nil || empty.Version != 0 || empty.PeakCapital != nil || empty.GroupCapRatio != "0.1" || empty.PerPersonCapRatio != "0.01" {
		t.Fatalf("empty terms = %+v, %v", empty, err)
	}
	if _, err := s.Terms(ctx, s.db, pid); !errors.Is(err, ErrNoTerms) {
		t.Fatalf("Terms before any save = %v, want ErrNoTerms", err)
	}
	v, err := s.PutTerms(ctx, audit.System, pid, r1(0))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{v.Pools.Holding.String(), v.Pools.Property.String(), v.Pools.City.String(), v.Pools.Other.String(),
		v.Total.String(), v.Ratio, v.PeakCapital.String(), v.PerPersonCap.String()}
	want := []string{"0.00", "7282000.00", "1320000.00", "0.00", "8602000.00", "0.0391", "220000000.00", "2200000.00"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sizing = %v, want %v", got, want)
	}
	if v.Version != 1 || v.CollectionAccount.AccountNumber != "6225 8801 2345 6789" {
		t.Errorf("saved = %+v", v)
	}
	terms, err := s.Terms(ctx, s.db, pid)
	if err != nil || !terms.Sizing().Total.Equal(terms.PeakCapital.Mul(terms.Ratios.Sum())) {
		t.Errorf("Terms = %+v, %v", terms, err)
	}
	if _, err := s.PutTerms(ctx, audit.System, pid, r1(0)); !errors.Is(err, apperr.ErrStaleVersion) {
		t.Errorf("stale save = %v", err)
	}
	var n int
	s.db.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'establishment.terms.save' AND after::text NOT LIKE '%2345 6789%'`)
	if n != 1 {
		t.Errorf("audit entries with a masked account number = %d, want 1", n)
	}
}

func TestTermsRefuseBrokenCapsAndChangeNothing(t *testing.T) {
	s, _, pid := newService(t)
	if _, err := s.PutTerms(ctx, audit.System, pid, r1(0)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(*TermsInput)
		kind apperr.Kind
		code string
	}{
		{"above the group cap", func(in *TermsInput) { in.TierRatios.Holding = "0.07" }, apperr.KindRule, "group_cap_exceeded"},
		{"a lower group cap", func(in *TermsInput) { in.GroupCapRatio = "0.03" }, apperr.KindRule, "group_cap_exceeded"},
		{"negative ratio", func(in *TermsInput) { in.TierRatios.Other = "-0.001" }, apperr.KindRule, "tier_ratio_negative"},
		{"zero peak", func(in *TermsInput) { in.PeakCapital = "0" }, apperr.KindRule, "peak_capital_invalid"},
		{"no peak", func(in *TermsInput) { in.PeakCapital = "" }, apperr.KindRule, "peak_capital_required"},
		{"peak with fractions of fen", func(in *TermsInput) { in.PeakCapital = "1.005" }, apperr.KindInvalid, ""},
		{"ratio too precise", func(in *TermsInput) { in.TierRatios.City = "0.0000001" }, apperr.KindInvalid, "ratio_too_precise"},
		{"ratio not a number", func(in *TermsInput) { in.TierRatios.City = "3%" }, apperr.KindInvalid, "ratio_invalid"},
		{"per-person cap zero", func(in *TermsInput) { in.PerPersonCapRatio = "0" }, apperr.KindRule, "per_person_cap_ratio_invalid"},
		{"rate of 435%", func(in *TermsInput) { in.FinancingRate = "4.35" }, apperr.KindInvalid, "ratio_out_of_range"},
		{"account with letters", func(in *TermsInput) { in.CollectionAccount.AccountNumber = "62258x" }, apperr.KindInvalid, "account_number_invalid"},
		{"bank with brackets", func(in *TermsInput) { in.CollectionAccount.Bank = "<script>" }, apperr.KindInvalid, "angle_brackets"},
	}
	for _, c := range cases {
		in := r1(1)
		c.edit(&in)
		_, err := s.PutTerms(ctx, audit.System, pid, in)
		e := apperr.As(err)
		if e == nil || e.Kind != c.kind || (c.code != "" && e.Code != c.code) || e.Message == "" {
			t.Errorf("%s: %v, want kind %d %s", c.name, err, c.kind, c.code)
		}
	}
	v, _ := s.GetTerms(ctx, pid)
	if v.Version != 1 || v.Total.String() != "8602000.00" {
		t.Errorf("after refusals: version %d total %s", v.Version, v.Total)
	}
}

func TestFinancingRateInForceOrOverridden(t *testing.T) {
	s, _, pid := newService(t)
	for _, in := range []rate.Input{{EffectiveFrom: day("2024-01-01"), Rate: "0.0435"}, {EffectiveFrom: day("2024-06-01"), Rate: "0.04"}} {
		if _, err := s.Rates().Create(ctx, audit.System, in); err != nil {
			t.Fatal(err)
		}
	}
	v, err := s.PutTerms(ctx, audit.System, pid, r1(0))
	if err != nil {
		t.Fatal(err)
	}
	if *v.FinancingRate != "0.0435" || *v.RateInForce != "0.0435" || v.RateOverridden || v.RateInForceFrom != day("2024-01-01") {
		t.Fatalf("rate in force: %+v", v)
	}
	// Sending back the rate in force is not an override.
	in := r1(1)
	in.FinancingRate = "0.0435"
	if v, err = s.PutTerms(ctx, audit.System, pid, in); err != nil || v.RateOverridden {
		t.Fatalf("same rate: %+v, %v", v, err)
	}
	in = r1(2)
	in.FinancingRate = "0.05"
	if v, err = s.PutTerms(ctx, audit.System, pid, in); err != nil {
		t.Fatal(err)
	}
	step := v.Trace[len(v.Trace)-1]
	if *v.FinancingRate != "0.05" || *v.RateInForce != "0.0435" || !v.RateOverridden ||
		step.Figure != "financing_rate" || step.Value != "5%" || step.Inputs["rate_in_force"] != "4.35%" || !strings.Contains(step.Note, "手工调整") {
		t.Fatalf("override: %+v; step %+v", v, step)
	}
	// A later funding date picks the later rate; without an override the terms follow the table.
	in = r1(3)
	in.FundingDate = day("2024-07-01")
	if v, err = s.PutTerms(ctx, audit.System, pid, in); err != nil || *v.FinancingRate != "0.04" || v.RateOverridden {
		t.Fatalf("later date: %+v, %v", v, err)
	}
}

func TestFreezeFundingFixesDateAndRate(t *testing.T) {
	s, d, pid := newService(t)
	r, err := s.Rates().Create(ctx, audit.System, rate.Input{EffectiveFrom: day("2024-01-01"), Rate: "0.0435"})
	if err != nil {
		t.Fatal(err)
	}
	in := r1(0)
	in.FundingDate = civil.Date{}
	if _, err := s.PutTerms(ctx, audit.System, pid, in); err != nil {
		t.Fatal(err)
	}
	freeze := func() error {
		return d.InTx(ctx, func(tx *sqlx.Tx) error { return s.FreezeFunding(ctx, tx, pid) })
	}
	if err := freeze(); code(err) != "funding_date_missing" {
		t.Fatalf("freeze without funding date = %v", err)
	}
	// A funding date before the first rate in the table: no rate in force.
	early := r1(1)
	early.FundingDate = day("2023-06-30")
	if _, err := s.PutTerms(ctx, audit.System, pid, early); err != nil {
		t.Fatal(err)
	}
	if terms, _ := s.Terms(ctx, d, pid); code(terms.FundingReady()) != "financing_rate_missing" {
		t.Fatalf("FundingReady without a rate = %v", terms.FundingReady())
	}
	if err := freeze(); code(err) != "financing_rate_missing" {
		t.Fatalf("freeze without a rate = %v", err)
	}
	if _, err := s.PutTerms(ctx, audit.System, pid, r1(2)); err != nil {
		t.Fatal(err)
	}
	if terms, _ := s.Terms(ctx, d, pid); terms.FundingReady() != nil {
		t.Fatalf("FundingReady = %v", terms.FundingReady())
	}
	if err := freeze(); err != nil {
		t.Fatal(err)
	}
	if err := freeze(); err != nil {
		t.Fatalf("second freeze = %v", err)
	}
	// The table changes; the frozen terms keep their rate.
	if _, err := s.Rates().Update(ctx, audit.System, r.ID, rate.Input{EffectiveFrom: day("2024-01-01"), Rate: "0.06", Version: 1}); err != nil {
		t.Fatal(err)
	}
	v, _ := s.GetTerms(ctx, pid)
	if !v.FundingFrozen || *v.FinancingRate != "0.0435" {
		t.Fatalf("frozen terms: %+v", v)
	}
	in = r1(3)
	in.FundingDate = day("2024-03-02")
	if _, err := s.PutTerms(ctx, audit.System, pid, in); code(err) != "funding_frozen" {
		t.Errorf("changing the frozen date = %v", err)
	}
	in = r1(3)
	in.FinancingRate = "0.05"
	if _, err := s.PutTerms(ctx, audit.System, pid, in); code(err) != "funding_frozen" {
		t.Errorf("overriding the frozen rate = %v", err)
	}
	in = r1(3)
	in.FinancingRate = "0.0435" // the frozen rate sent back
	in.CollectionAccount.Bank = "工商银行"
	if v, err := s.PutTerms(ctx, audit.System, pid, in); err != nil || v.RateOverridden || v.CollectionAccount.Bank != "工商银行" {
		t.Errorf("other changes after the freeze: %+v, %v", v, err)
	}
}

func TestPeakCapitalEffectLocksPeakAndRatios(t *testing.T) {
	s, d, pid := newService(t)
	e := s.peakCapitalEffect()
	launch := workflow.Launch{ProjectID: pid, Kind: workflow.KindPeakCapital, Actor: audit.System}
	prepare := func() (workflow.Form, error) {
		var f workflow.Form
		err := d.InTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			f, err = e.Prepare(ctx, tx, launch)
			return err
		})
		return f, err
	}
	if _, err := prepare(); code(err) != "establishment_terms_missing" {
		t.Fatalf("prepare without terms = %v", err)
	}
	if _, err := s.PutTerms(ctx, audit.System, pid, r1(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutShareholding(ctx, audit.System, pid, ShareholdingInput{EffectiveOn: day("2019-03-21"), Shareholders: []ShareholderInput{
		{Name: "锦艺置业", Kind: KindGroup, Stake: "0.9"}, {Name: "泰安誉峯合伙企业", Kind: KindPartnership, Stake: "0.1"}}}); err != nil {
		t.Fatal(err)
	}
	f, err := prepare()
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, x := range f.Fields {
		fields[x.Name] = x.Value
	}
	if fields["资金峰值"] != "220000000.00" || fields["跟投总额"] != "8602000.00" || fields["合伙投资占比"] != "3.91%" ||
		fields["置业集团额度"] != "7282000.00" || fields["城市公司比例"] != "0.6%" || !strings.Contains(fields["股东及持股比例"], "锦艺置业（锦艺方）90%") {
		t.Fatalf("form = %v", fields)
	}
	inst := workflow.Instance{ID: 7, ProjectID: pid, Kind: workflow.KindPeakCapital}
	run := func(f func(context.Context, *sqlx.Tx, workflow.Instance) error) {
		t.Helper()
		if err := d.InTx(ctx, func(tx *sqlx.Tx) error { return f(ctx, tx, inst) }); err != nil {
			t.Fatal(err)
		}
	}
	run(e.Launched)
	in := r1(1)
	in.PeakCapital = "200000000.00"
	if _, err := s.PutTerms(ctx, audit.System, pid, in); code(err) != "peak_in_approval" {
		t.Fatalf("peak change in approval = %v", err)
	}
	run(e.Ended) // refused: editable again
	v, err := s.PutTerms(ctx, audit.System, pid, in)
	if err != nil || v.PeakInApproval {
		t.Fatalf("after refusal: %+v, %v", v, err)
	}
	if _, err := s.PutTerms(ctx, audit.System, pid, r1(2)); err != nil {
		t.Fatal(err)
	}
	inst.ID = 8
	run(e.Launched)
	run(e.Agreed)
	v, _ = s.GetTerms(ctx, pid)
	if !v.PeakLocked || v.PeakLockedAt == nil {
		t.Fatalf("agreed: %+v", v)
	}
	in = r1(3)
	in.TierRatios.City = "0.007"
	if _, err := s.PutTerms(ctx, audit.System, pid, in); code(err) != "peak_locked" || apperr.KindOf(err) != apperr.KindConflict {
		t.Fatalf("ratio change after approval = %v", err)
	}
	// The funding date stays editable until establishment is launched.
	in = r1(3)
	in.FundingDate = day("2024-04-01")
	if _, err := s.PutTerms(ctx, audit.System, pid, in); err != nil {
		t.Fatalf("funding date after approval = %v", err)
	}
	if _, err := prepare(); code(err) != "peak_locked" {
		t.Fatalf("prepare after approval = %v", err)
	}
	name, sheet, err := e.Sheet(ctx, d, inst)
	if err != nil || !strings.HasSuffix(name, ".xlsx") {
		t.Fatalf("sheet %s: %v", name, err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(sheet))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := x.GetCellValue("资金峰值测算", "C6"); v != "7282000" {
		t.Errorf("sheet property pool = %q", v)
	}
}

func TestShareholdingIsVersioned(t *testing.T) {
	s, _, pid := newService(t)
	cur, err := s.Shareholding(ctx, s.db, pid)
	if err != nil || cur.Version != 0 || len(cur.Shareholders) != 0 || cur.CreatedBy != nil {
		t.Fatalf("empty = %+v, %v", cur, err)
	}
	bad := []struct {
		holders []ShareholderInput
		code    string
	}{
		{[]ShareholderInput{{"锦艺置业", KindGroup, "0.6", nil}, {"合作方甲", KindCooperator, "0.3", nil}}, "stakes_not_whole"},
		{[]ShareholderInput{{"锦艺置业", KindGroup, "0.6", nil}, {"合作方甲", KindCooperator, "0.5", nil}}, "stakes_not_whole"},
		{[]ShareholderInput{{"锦艺置业", "bank", "1", nil}}, "shareholder_kind_invalid"},
		{[]ShareholderInput{{"锦艺置业", KindGroup, "0.5", nil}, {"锦艺置业", KindGroup, "0.5", nil}}, "shareholder_duplicate"},
		{[]ShareholderInput{{"锦艺置业", KindGroup, "1", nil}, {"合作方甲", KindCooperator, "0", nil}}, "stake_invalid"},
		{[]ShareholderInput{{"", KindGroup, "1", nil}}, "required"},
		{nil, "shareholders_required"},
	}
	for _, b := range bad {
		_, err := s.PutShareholding(ctx, audit.System, pid, ShareholdingInput{EffectiveOn: day("2019-03-21"), Shareholders: b.holders})
		if code(err) != b.code {
			t.Errorf("%v: %v, want %s", b.holders, err, b.code)
		}
	}
	uid := int64(0)
	s.db.Get(&uid, `INSERT INTO users (name) VALUES ('城市会计') RETURNING id`)
	actor := audit.Actor{ID: &uid, Name: "城市会计"}
	v1, err := s.PutShareholding(ctx, actor, pid, ShareholdingInput{EffectiveOn: day("2019-03-21"), Shareholders: []ShareholderInput{
		{"锦艺置业", KindGroup, "0.51", nil}, {"合作方甲", KindCooperator, "0.39", nil}, {"泰安誉峯合伙企业", KindPartnership, "0.1", nil}}})
	if err != nil || v1.Version != 1 || len(v1.Shareholders) != 3 || v1.CreatedByName != "城市会计" || v1.Shareholders[1].KindLabel != "合作方" {
		t.Fatalf("v1 = %+v, %v", v1, err)
	}
	if _, err := s.PutShareholding(ctx, actor, pid, ShareholdingInput{EffectiveOn: day("2020-05-27"),
		Shareholders: []ShareholderInput{{"锦艺置业", KindGroup, "1", nil}}}); !errors.Is(err, apperr.ErrStaleVersion) {
		t.Fatalf("stale = %v", err)
	}
	if _, err := s.PutShareholding(ctx, actor, pid, ShareholdingInput{EffectiveOn: day("2019-01-01"), Version: 1,
		Shareholders: []ShareholderInput{{"锦艺置业", KindGroup, "1", nil}}}); code(err) != "effective_on_before_previous" {
		t.Fatalf("earlier effective date = %v", err)
	}
	v2, err := s.PutShareholding(ctx, actor, pid, ShareholdingInput{EffectiveOn: day("2020-05-27"), Reason: "峰值变更", Version: 1,
		Shareholders: []ShareholderInput{{"锦艺置业", KindGroup, "0.55", nil}, {"合作方甲", KindCooperator, "0.45", nil}}})
	if err != nil || v2.Version != 2 {
		t.Fatalf("v2 = %+v, %v", v2, err)
	}
	vs, err := s.ShareholdingVersions(ctx, pid)
	if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || len(vs[1].Shareholders) != 3 ||
		vs[1].Shareholders[0].Stake.String() != "0.51" {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
}

func TestMilestonesAndIndicators(t *testing.T) {
	s, _, pid := newService(t)
	s.SetClock(func() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 0, civil.Shanghai) })
	ms, err := s.Milestones(ctx, pid)
	if err != nil || len(ms.Milestones) != len(Nodes) || ms.Version != 0 || ms.Milestones[1].Label != "开工" {
		t.Fatalf("empty milestones = %+v, %v", ms, err)
	}
	ms, err = s.PutMilestones(ctx, audit.System, pid, MilestonesInput{Milestones: []Milestone{
		{Node: "construction_start", PlannedOn: day("2019-06-01"), ActualOn: day("2019-06-15")},
		{Node: "sales_launch", PlannedOn: day("2019-10-01")},
	}})
	if err != nil || ms.Version != 1 || ms.Milestones[1].ActualOn != day("2019-06-15") || ms.Milestones[2].PlannedOn != day("2019-10-01") {
		t.Fatalf("saved = %+v, %v", ms, err)
	}
	for _, b := range []struct {
		in   MilestonesInput
		code string
	}{
		{MilestonesInput{Version: 1, Milestones: []Milestone{{Node: "topping_out"}}}, "milestone_node_invalid"},
		{MilestonesInput{Version: 1, Milestones: []Milestone{{Node: "delivery", ActualOn: day("2024-06-02")}}}, "milestone_actual_in_future"},
		{MilestonesInput{Version: 1, Milestones: []Milestone{{Node: "delivery"}, {Node: "delivery"}}}, "milestone_duplicate"},
		{MilestonesInput{Version: 0, Milestones: []Milestone{{Node: "delivery"}}}, "stale_version"},
	} {
		if _, err := s.PutMilestones(ctx, audit.System, pid, b.in); code(err) != b.code {
			t.Errorf("%+v: %v, want %s", b.in, err, b.code)
		}
	}
	// Nothing entered reads as nothing, not as zeros.
	if ind, err := s.Indicators(ctx, pid); err != nil || ind.SalesRevenue != nil || ind.IRR != nil || ind.PaybackMonths != nil {
		t.Fatalf("empty indicators = %+v, %v", ind, err)
	}
	if b, err := s.BasicInfo(ctx, pid); err != nil || b.LandArea != nil || b.GroupEquityRatio != nil {
		t.Fatalf("empty basic info = %+v, %v", b, err)
	}
	rev, profit := "1500000000.00", "-12.50"
	in := Indicators{SalesRevenue: amount(rev), NetProfit: amount("150000000.00"), GroupNetProfit: amount("135000000.00"),
		NetMargin: strp("0.1"), IRR: strp("0.1825"), PaybackMonths: intp(30)}
	ind, err := s.PutIndicators(ctx, audit.System, pid, in)
	if err != nil || ind.Version != 1 || ind.SalesRevenue.String() != rev || *ind.IRR != "0.1825" || *ind.PaybackMonths != 30 || ind.TotalInvestment != nil {
		t.Fatalf("indicators = %+v, %v", ind, err)
	}
	in.Version = 1
	in.NetProfit = amount(profit) // a loss is allowed
	in.NetMargin = strp("-0.01")
	if ind, err = s.PutIndicators(ctx, audit.System, pid, in); err != nil || ind.NetProfit.String() != profit {
		t.Fatalf("loss = %+v, %v", ind, err)
	}
	in.Version = 2
	in.SalesRevenue = amount("-1.00")
	if _, err := s.PutIndicators(ctx, audit.System, pid, in); code(err) != "amount_negative" {
		t.Errorf("negative revenue = %v", err)
	}
	b, err := s.PutBasicInfo(ctx, audit.System, pid, BasicInfo{Address: "泰安市泰山区", LandArea: strp("52000.5"), SaleableValue: strp("1500000000"),
		GroupEquityRatio: strp("0.51")})
	if err != nil || b.Version != 1 || *b.LandArea != "52000.50" || *b.GroupEquityRatio != "0.51" || b.BuildingArea != nil {
		t.Fatalf("basic = %+v, %v", b, err)
	}
	if _, err := s.PutBasicInfo(ctx, audit.System, pid, BasicInfo{LandArea: strp("1.234"), Version: 1}); code(err) != "number_too_precise" {
		t.Errorf("area with three decimals = %v", err)
	}
}

func TestKPIExportListsProjectsInScope(t *testing.T) {
	s, d, pid := newService(t)
	var other int64
	d.Get(&other, `INSERT INTO projects (name, city_company_id, is_open) SELECT '靖江项目', city_company_id, true FROM projects WHERE id = $1 RETURNING id`, pid)
	if _, err := s.PutTerms(ctx, audit.System, pid, r1(0)); err != nil {
		t.Fatal(err)
	}
	s.SetClock(func() time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, civil.Shanghai) })
	if _, err := s.PutIndicators(ctx, audit.System, pid, Indicators{NetProfit: amount("150000000.00"), IRR: strp("0.1825")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutMilestones(ctx, audit.System, pid, MilestonesInput{Milestones: []Milestone{{Node: "sales_launch", PlannedOn: day("2019-10-01"), ActualOn: day("2019-11-11")}}}); err != nil {
		t.Fatal(err)
	}
	read := func(all bool, ids []int64) [][]string {
		t.Helper()
		b, err := s.KPIExport(ctx, all, ids)
		if err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(KPISheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	rows := read(true, nil)
	if len(rows) != 3 || rows[0][3] != "项目名称" || rows[1][3] != "泰安-锦艺誉峯" || rows[2][3] != "靖江项目" {
		t.Fatalf("rows = %v", rows)
	}
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, rows[0])
		return -1
	}
	r := rows[1]
	if r[col("资金峰值")] != "220000000" || r[col("跟投总额")] != "8602000" || r[col("合伙投资占比")] != "0.0391" ||
		r[col("净利润")] != "150000000" || r[col("全投资IRR")] != "0.1825" || r[col("开盘（实际）")] != "2019-11-11" {
		t.Errorf("row = %v", r)
	}
	if rows := read(false, []int64{other}); len(rows) != 2 || rows[1][3] != "靖江项目" {
		t.Errorf("scoped rows = %v", rows)
	}
}

func amount(s string) *money.Amount {
	var a money.Amount
	if err := a.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return &a
}

func strp(s string) *string { return &s }
func intp(i int) *int       { return &i }

// Twenty accountants save the first terms at once: exactly one wins, the
// others get 409 and the version is 1.
func TestConcurrentFirstSavesOneWins(t *testing.T) {
	s, _, pid := newService(t)
	const n = 20
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := s.PutTerms(ctx, audit.System, pid, r1(0))
			errs <- err
		}()
	}
	won, stale := 0, 0
	for i := 0; i < n; i++ {
		switch err := <-errs; {
		case err == nil:
			won++
		case errors.Is(err, apperr.ErrStaleVersion):
			stale++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	v, _ := s.GetTerms(ctx, pid)
	if won != 1 || stale != n-1 || v.Version != 1 {
		t.Fatalf("won %d, stale %d, version %d", won, stale, v.Version)
	}
}
