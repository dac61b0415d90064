package distribution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/org"
	"hehuo/internal/payment"
)

func codeOf(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return ""
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func str(s string) *string { return &s }

// world is R1–R4's project on real Postgres: peak 220,000,000, funding date
// 2024-03-01 at 4.35%, R3's city tier allocated in an approved round and
// paid as R4's example (so B = 0 / −679.32 / −1,593.58 / −796.79), and two
// staff: an accountant and a business admin, neither of them a partner.
type world struct {
	d        *db.DB
	s        *Service
	project  int64
	users    []int64
	parts    []int64
	acct     audit.Actor
	acct2    audit.Actor
	bizadmin audit.Actor
}

func actor(t *testing.T, d *db.DB, name string) audit.Actor {
	t.Helper()
	u, err := org.NewService(d).CreateUser(context.Background(), audit.System, org.UserInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return audit.Actor{ID: &u.ID, Name: name}
}

func newWorld(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	est := establishment.NewService(d, nil)
	w := world{d: d, s: NewService(d, est, nil)}
	w.project = holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "泰安城市公司"), "泰安-锦艺誉峯")
	if _, err := est.PutTerms(ctx, audit.System, w.project, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatal(err)
	}
	alloc := map[int64]string{}
	amounts := []string{"500000", "300000", "297143", "222857"}
	for i, name := range []string{"甲", "乙", "丙", "丁"} {
		u, err := org.NewService(d).CreateUser(ctx, audit.System, org.UserInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		w.users = append(w.users, u.ID)
		w.parts = append(w.parts, holdingtest.Partner(t, d, u.ID))
		alloc[w.parts[i]] = amounts[i]
	}
	round := holdingtest.Round(t, d, w.project, "approved", alloc)
	pay := payment.NewService(d, est)
	for i, on := range []civil.Date{{Year: 2024, Month: 3, Day: 1}, {Year: 2024, Month: 3, Day: 20}, {Year: 2024, Month: 4, Day: 15}, {Year: 2024, Month: 3, Day: 31}} {
		if _, err := pay.Confirm(ctx, audit.System, round, fmt.Sprintf("pay-%d", i), payment.Input{UserID: w.users[i], Amount: amounts[i], PaidOn: on}); err != nil {
			t.Fatal(err)
		}
	}
	w.acct, w.acct2, w.bizadmin = actor(t, d, "会计"), actor(t, d, "会计二"), actor(t, d, "业务管理员")
	return w
}

// agreePeak records an agreed actual peak (core-b's process makes them).
func (w world) agreePeak(t *testing.T) {
	t.Helper()
	w.d.MustExec(`INSERT INTO actual_peaks (project_id, actual_peak_capital, status, agreed_at, created_by_name)
		VALUES ($1, 210000000, 'agreed', now(), '测试')`, w.project)
}

// confirmAccounts gives users confirmed payout accounts, as the partner's
// confirmation after the notice leaves them (payout.Confirm).
func (w world) confirmAccounts(t *testing.T, users ...int64) {
	t.Helper()
	for _, u := range users {
		w.d.MustExec(`INSERT INTO payout_accounts (user_id, bank, branch, holder, number_enc, number_last4, status, confirmed_at)
			VALUES ($1, '招商银行', '泰安分行', '合伙人', 'v1:sealed', '0123', 'confirmed', now())`, u)
	}
}

// fingerprint is the distribution tables and the audit log as text: a
// refused request leaves it unchanged.
func (w world) fingerprint(t *testing.T) string {
	t.Helper()
	var s string
	if err := w.d.Get(&s, `SELECT coalesce((SELECT string_agg(b::text, '|' ORDER BY id) FROM distribution_batches b), '') ||
		coalesce((SELECT string_agg(l::text, '|' ORDER BY batch_id, partner_id) FROM distribution_lines l), '') ||
		(SELECT count(*) FROM audit_log)::text || (SELECT count(*) FROM ledger_transactions)::text`); err != nil {
		t.Fatal(err)
	}
	return s
}

func (w world) refused(t *testing.T, code string, err error, before string) {
	t.Helper()
	if codeOf(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	if w.fingerprint(t) != before {
		t.Fatalf("%s changed the tables", code)
	}
}

func (w world) principalBatch(t *testing.T, ratio string) Batch {
	t.Helper()
	b, err := w.s.CreateBatch(context.Background(), w.acct, w.project, CreateInput{Kind: "principal", BatchFields: BatchFields{
		DistributionDate: str("2026-06-30"), RecordDate: str("2026-06-20"), ReturnRatio: str(ratio)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantColumn(t *testing.T, b Batch, col string, want ...string) {
	t.Helper()
	if len(b.Lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(b.Lines), len(want))
	}
	for i, l := range b.Lines {
		v := map[string]decimal.Decimal{"a": l.A.Decimal, "b": l.B.Decimal, "c": l.C.Decimal, "d": l.D.Decimal, "e": l.E.Decimal,
			"f": l.F.Decimal, "total": l.Total.Decimal}[col]
		if !v.Equal(dec(want[i])) {
			t.Errorf("line %d (%s) %s = %s, want %s", l.Seq, l.Name, col, v, want[i])
		}
	}
}

// Must show: R6's example through the service, to the fen — a principal
// batch at 100% with C empty: blank inputs named first, then D = E =
// 500,000.00 / 299,320.68 / 295,549.42 / 222,060.21 with a trace per
// figure; saved, submitted once every payee's account is confirmed, and
// reviewed by someone other than the submitter.
func TestPrincipalR6ThroughTheService(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	b, err := w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "principal"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Seq != 1 || b.Status != StatusDraft || b.Title != "本金分配" || b.StatusLabel != "待测算" {
		t.Fatalf("batch %+v", b)
	}
	wantColumn(t, b, "a", "500000", "300000", "297143", "222857")
	wantColumn(t, b, "b", "0", "-679.32", "-1593.58", "-796.79")
	for i, l := range b.Lines {
		if l.Seq != i+1 || l.PartnerID != w.parts[i] || l.PayeeID != w.parts[i] || l.UserID == nil || *l.UserID != w.users[i] {
			t.Fatalf("line %+v", l)
		}
	}

	// Blank inputs: each named, in the message and the details.
	before := w.fingerprint(t)
	_, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	w.refused(t, "inputs_incomplete", err, before)
	e := apperr.As(err)
	var fields []string
	for _, x := range e.Details.([]Blank) {
		fields = append(fields, x.Field)
	}
	if !slices.Equal(fields, []string{"distribution_date", "record_date", "return_ratio", "actual_peak"}) ||
		!strings.Contains(e.Message, "分配日期") || !strings.Contains(e.Message, "本次返还比例") || !strings.Contains(e.Message, "实际资金峰值") {
		t.Fatalf("blanks %v: %s", fields, e.Message)
	}

	b, err = w.s.UpdateBatch(ctx, w.acct, b.ID, UpdateInput{Version: b.Version, BatchFields: BatchFields{
		DistributionDate: str("2026-06-30"), RecordDate: str("2026-06-20"), ReturnRatio: str("1")}})
	if err != nil {
		t.Fatal(err)
	}
	// Without an agreed actual peak the principal batch cannot be calculated.
	before = w.fingerprint(t)
	_, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	w.refused(t, "inputs_incomplete", err, before)
	if d := apperr.As(err).Details.([]Blank); len(d) != 1 || d[0].Field != "actual_peak" {
		t.Fatalf("blanks %v", d)
	}
	w.agreePeak(t)
	b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{Version: b.Version})
	if err != nil {
		t.Fatal(err)
	}
	wantColumn(t, b, "d", "500000.00", "299320.68", "295549.42", "222060.21")
	wantColumn(t, b, "e", "500000.00", "299320.68", "295549.42", "222060.21")
	wantColumn(t, b, "total", "500000.00", "299320.68", "295549.42", "222060.21")
	if b.Status != StatusCalculated || b.ActualPeakID == nil || !b.Totals.D.Equal(dec("1316930.31")) || !b.Totals.A.Equal(dec("1320000")) {
		t.Fatalf("batch %s peak %v totals %+v", b.Status, b.ActualPeakID, b.Totals)
	}
	var trace []map[string]any
	if err := json.Unmarshal(b.Lines[1].Trace, &trace); err != nil || len(trace) != 4 || trace[2]["value"] != "299320.68" {
		t.Fatalf("trace %s %v", b.Lines[1].Trace, err)
	}

	// Submit before saving: refused; saved, then refused again until every payee's account is confirmed.
	before = w.fingerprint(t)
	_, err = w.s.Submit(ctx, w.acct, b.ID, VersionInput{Version: b.Version})
	w.refused(t, "calculation_unsaved", err, before)
	b, err = w.s.Save(ctx, w.acct, b.ID, VersionInput{Version: b.Version})
	if err != nil || b.Status != StatusSaved {
		t.Fatalf("save: %v %v", b.Status, err)
	}
	w.confirmAccounts(t, w.users[0], w.users[2])
	before = w.fingerprint(t)
	_, err = w.s.Submit(ctx, w.acct, b.ID, VersionInput{Version: b.Version})
	w.refused(t, "payout_account_missing", err, before)
	if m := apperr.As(err).Message; !strings.Contains(m, "乙") || !strings.Contains(m, "丁") || strings.Contains(m, "甲") {
		t.Fatalf("message %s", m)
	}
	w.confirmAccounts(t, w.users[1], w.users[3])
	if b, err = w.s.Submit(ctx, w.acct, b.ID, VersionInput{Version: b.Version}); err != nil || b.Status != StatusSubmitted {
		t.Fatalf("submit: %v %v", b.Status, err)
	}
	// Editing while submitted is refused; so is reviewing one's own submission.
	before = w.fingerprint(t)
	_, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[0], LineInput{Version: b.Version, C: str("100"), CReason: str("补发")})
	w.refused(t, "distribution_locked", err, before)
	_, err = w.s.Review(ctx, w.acct, b.ID, ReviewInput{Approve: true, Version: b.Version})
	w.refused(t, "own_submission", err, before)
	_, err = w.s.Review(ctx, w.bizadmin, b.ID, ReviewInput{Approve: false, Version: b.Version})
	w.refused(t, "review_reason_required", err, before)
	if b, err = w.s.Review(ctx, w.bizadmin, b.ID, ReviewInput{Approve: true, Version: b.Version}); err != nil || b.Status != StatusReviewed {
		t.Fatalf("review: %v %v", b.Status, err)
	}
	before = w.fingerprint(t)
	err = w.s.DeleteBatch(ctx, w.acct, b.ID)
	w.refused(t, "distribution_not_draft", err, before)
	// One open batch per project.
	_, err = w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "profit"})
	w.refused(t, "distribution_open", err, before)
}

// A partial principal batch returns 80% of A with B deducted in full.
// TODO(core-b): the rest in a second batch (B = 0 once the first is
// posted) needs the approval's postings.
func TestPartialPrincipalBatch(t *testing.T) {
	w := newWorld(t)
	w.agreePeak(t)
	b := w.principalBatch(t, "0.8")
	b, err := w.s.Calculate(context.Background(), w.acct, b.ID, CalculateInput{})
	if err != nil {
		t.Fatal(err)
	}
	// 400,000 / 240,000 − 679.32 / 237,714.40 − 1,593.58 / 178,285.60 − 796.79.
	wantColumn(t, b, "d", "400000.00", "239320.68", "236120.82", "177488.81")
	if !b.ReturnRatio.Equal(dec("0.8")) {
		t.Fatalf("ratio %v", b.ReturnRatio)
	}
}

// R7's example through the service: X = 100,000.00 entered, split
// 37,878.79 / 22,727.27 / 22,510.83 / 16,883.11; then X computed from the
// net profit: 30,000,000 × (1,320,000 / 220,000,000) × 50% = 90,000.00.
func TestProfitR7ThroughTheService(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	b, err := w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "profit", BatchFields: BatchFields{
		DistributionDate: str("2026-06-30"), RecordDate: str("2026-06-20"), Amount: str("100000")}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Title != "第1次利润分配" || !b.AmountEntered {
		t.Fatalf("batch %+v", b)
	}
	b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantColumn(t, b, "f", "37878.79", "22727.27", "22510.83", "16883.11")
	wantColumn(t, b, "total", "37878.79", "22727.27", "22510.83", "16883.11")
	if !b.Totals.F.Equal(dec("100000")) {
		t.Fatalf("Σ F %s", b.Totals.F)
	}
	b, err = w.s.UpdateBatch(ctx, w.acct, b.ID, UpdateInput{Version: b.Version, BatchFields: BatchFields{
		Amount: str(""), NetProfit: str("30000000"), ProfitRatio: str("0.5")}})
	if err != nil || b.Status != StatusDraft || b.AmountEntered {
		t.Fatalf("update: %+v %v", b, err)
	}
	b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Amount == nil || !b.Amount.Equal(dec("90000")) || b.PartnershipRatio == nil || !b.PartnershipRatio.Equal(dec("0.006")) {
		t.Fatalf("X %v ratio %v", b.Amount, b.PartnershipRatio)
	}
	wantColumn(t, b, "f", "34090.91", "20454.55", "20259.75", "15194.79")
	if !b.Totals.F.Equal(dec("90000")) {
		t.Fatalf("Σ F %s", b.Totals.F)
	}
}

// Bad inputs, each a 4xx with its code, change nothing: C without a
// reason, three decimals, manual amounts while locked, a stale version, a
// save before any calculation, a save or submit after the figures moved.
func TestBadInputsChangeNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.agreePeak(t)
	b := w.principalBatch(t, "1")
	before := w.fingerprint(t)
	_, err := w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[1], LineInput{Version: b.Version, C: str("-500")})
	w.refused(t, "c_reason_required", err, before)
	_, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[1], LineInput{Version: b.Version, C: str("-500.005"), CReason: str("扣款")})
	w.refused(t, "amount_too_precise", err, before)
	_, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[1], LineInput{Version: b.Version, D: str("1")})
	w.refused(t, "distribution_locked", err, before)
	_, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[1], LineInput{Version: b.Version + 1, C: str("1"), CReason: str("x")})
	w.refused(t, "stale_version", err, before)
	_, err = w.s.Save(ctx, w.acct, b.ID, VersionInput{Version: b.Version})
	w.refused(t, "calculation_missing", err, before)
	_, err = w.s.UpdateBatch(ctx, w.acct, b.ID, UpdateInput{Version: b.Version, BatchFields: BatchFields{ReturnRatio: str("1.2")}})
	w.refused(t, "return_ratio_invalid", err, before)
	_, err = w.s.UpdateBatch(ctx, w.acct, b.ID, UpdateInput{Version: b.Version, BatchFields: BatchFields{Amount: str("1")}})
	w.refused(t, "field_not_applicable", err, before)
	_, err = w.s.UpdateBatch(ctx, w.acct, b.ID, UpdateInput{Version: b.Version, BatchFields: BatchFields{DistributionDate: str("2026-13-01")}})
	w.refused(t, "invalid_date", err, before)
	_, err = w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "bonus"})
	w.refused(t, "kind_invalid", err, before)

	// C with its reason, negative: E = D + C.
	b, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[1], LineInput{Version: b.Version, C: str("-20000"), CReason: str("代扣款项")})
	if err != nil {
		t.Fatal(err)
	}
	b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantColumn(t, b, "e", "500000.00", "279320.68", "295549.42", "222060.21")
	wantColumn(t, b, "total", "500000.00", "299320.68", "295549.42", "222060.21") // 不含其它

	// A payment since the calculation: saving it is stale; recalculated, saved;
	// another payment after saving: submitting is stale.
	holdingtest.Pay(t, w.d, w.project, w.parts[0], "1000")
	before = w.fingerprint(t)
	_, err = w.s.Save(ctx, w.acct, b.ID, VersionInput{Version: b.Version})
	w.refused(t, "calculation_stale", err, before)
	if b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{}); err != nil {
		t.Fatal(err)
	}
	if b, err = w.s.Save(ctx, w.acct, b.ID, VersionInput{Version: b.Version}); err != nil {
		t.Fatal(err)
	}
	w.confirmAccounts(t, w.users...)
	holdingtest.Pay(t, w.d, w.project, w.parts[0], "1000")
	before = w.fingerprint(t)
	_, err = w.s.Submit(ctx, w.acct, b.ID, VersionInput{Version: b.Version})
	w.refused(t, "calculation_stale", err, before)

	// A negative E is refused, naming the partner.
	b, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[3], LineInput{Version: b.Version, C: str("-300000"), CReason: str("扣回")})
	if err != nil || b.Status != StatusDraft {
		t.Fatalf("line update: %v %v", b.Status, err)
	}
	before = w.fingerprint(t)
	_, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	w.refused(t, "line_negative", err, before)
	if !strings.Contains(apperr.As(err).Message, "丁") {
		t.Fatalf("message %s", apperr.As(err).Message)
	}
}

// Manual entry (R8): unlocked by the business admin, the accountant types
// F; the calculation keeps it and shows the computed one beside it.
func TestManualAmountsWhileUnlocked(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	b, err := w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "profit", BatchFields: BatchFields{
		DistributionDate: str("2026-06-30"), RecordDate: str("2026-06-20")}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = w.s.Unlock(ctx, w.bizadmin, b.ID, VersionInput{Version: b.Version}); err != nil || !b.Unlocked || b.Title != "第1次利润分配(手工)" {
		t.Fatalf("unlock: %+v %v", b, err)
	}
	for i, f := range []string{"40000", "20000", "20000", "20000"} {
		if b, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[i], LineInput{Version: b.Version, F: str(f)}); err != nil {
			t.Fatal(err)
		}
	}
	if !b.Lines[0].Manual || b.Lines[0].ManualByName != "会计" || b.Lines[0].ManualAt == nil {
		t.Fatalf("line %+v", b.Lines[0])
	}
	// No X entered: the F typed are the distribution.
	b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantColumn(t, b, "f", "40000", "20000", "20000", "20000")
	if !b.Amount.Equal(dec("100000")) {
		t.Fatalf("X %v", b.Amount)
	}
	// X entered: computed F beside the typed one.
	if b, err = w.s.UpdateBatch(ctx, w.acct, b.ID, UpdateInput{Version: b.Version, BatchFields: BatchFields{Amount: str("100000")}}); err != nil {
		t.Fatal(err)
	}
	if b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{}); err != nil {
		t.Fatal(err)
	}
	wantColumn(t, b, "f", "40000", "20000", "20000", "20000")
	if b.Lines[0].CalcF == nil || !b.Lines[0].CalcF.Equal(dec("37878.79")) {
		t.Fatalf("calc F %v", b.Lines[0].CalcF)
	}
	if b, err = w.s.Lock(ctx, w.acct, b.ID, VersionInput{Version: b.Version}); err != nil || b.Unlocked {
		t.Fatalf("lock: %v %v", b.Unlocked, err)
	}
	before := w.fingerprint(t)
	_, err = w.s.UpdateLine(ctx, w.acct, b.ID, w.parts[0], LineInput{Version: b.Version, F: str("1")})
	w.refused(t, "distribution_locked", err, before)
}

// Segregation of duties and concurrency: an accountant holding a line
// cannot open or calculate the batch; two accountants saving the same
// version: one saves, the other gets 409.
func TestOwnLineAndConcurrentSaves(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.agreePeak(t)
	partnerActor := audit.Actor{ID: &w.users[2], Name: "丙"}
	before := w.fingerprint(t)
	_, err := w.s.CreateBatch(ctx, partnerActor, w.project, CreateInput{Kind: "principal"})
	w.refused(t, "own_line", err, before)
	b := w.principalBatch(t, "1")
	before = w.fingerprint(t)
	_, err = w.s.Calculate(ctx, partnerActor, b.ID, CalculateInput{})
	w.refused(t, "own_line", err, before)
	_, err = w.s.Unlock(ctx, partnerActor, b.ID, VersionInput{Version: b.Version})
	w.refused(t, "own_line", err, before)

	b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, a := range []audit.Actor{w.acct, w.acct2} {
		wg.Add(1)
		go func(i int, a audit.Actor) {
			defer wg.Done()
			_, errs[i] = w.s.Save(ctx, a, b.ID, VersionInput{Version: b.Version})
		}(i, a)
	}
	wg.Wait()
	ok, stale := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, apperr.ErrStaleVersion):
			stale++
		default:
			t.Fatalf("save: %v", err)
		}
	}
	if ok != 1 || stale != 1 {
		t.Fatalf("%d saved, %d stale", ok, stale)
	}
}

// A second liquidation is refused; a draft batch may be deleted.
func TestLiquidationOnceAndDelete(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	b := w.principalBatch(t, "1")
	if err := w.s.DeleteBatch(ctx, w.acct, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Get(ctx, b.ID); codeOf(err) != "distribution_not_found" {
		t.Fatalf("deleted batch: %v", err)
	}
	w.d.MustExec(`INSERT INTO distribution_batches (project_id, kind, seq, status, created_by_name) VALUES ($1, 'liquidation', 1, 'approved', '测试')`, w.project)
	before := w.fingerprint(t)
	_, err := w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "liquidation"})
	w.refused(t, "liquidation_exists", err, before)
	list, err := w.s.List(ctx, w.project)
	if err != nil || len(list) != 1 || list[0].Kind != KindLiquidation {
		t.Fatalf("list %v %v", list, err)
	}
}

// A liquidation returns all the principal left (R6 at 100%, B and C) and
// pays the profit entered (R7); 分配合计 is D + F.
func TestLiquidationReturnsAllAndPaysTheProfit(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.agreePeak(t)
	b, err := w.s.CreateBatch(ctx, w.acct, w.project, CreateInput{Kind: "liquidation", BatchFields: BatchFields{
		DistributionDate: str("2027-06-30"), RecordDate: str("2027-06-20"), Amount: str("100000")}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = w.s.Calculate(ctx, w.acct, b.ID, CalculateInput{}); err != nil {
		t.Fatal(err)
	}
	wantColumn(t, b, "d", "500000.00", "299320.68", "295549.42", "222060.21")
	wantColumn(t, b, "f", "37878.79", "22727.27", "22510.83", "16883.11")
	wantColumn(t, b, "total", "537878.79", "322047.95", "318060.25", "238943.32")
	if b.Title != "清算分配" || !b.Totals.F.Equal(dec("100000")) {
		t.Fatalf("batch %s totals %+v", b.Title, b.Totals)
	}
}
