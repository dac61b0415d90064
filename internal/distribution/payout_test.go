package distribution

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/holding"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/money"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/payout"
)

// payWorld is a project with three employee partners — 张三, 李四 and 王会计
// (an accountant who holds a line too) — each with a confirmed payout
// account and principal paid in, and 赵零, a partner without an amount.
type payWorld struct {
	d        *db.DB
	s        *Service
	payouts  *payout.Service
	project  int64
	users    map[string]int64
	partners map[string]int64
	numbers  map[string]string
	acct     audit.Actor // 王会计
	clerk    audit.Actor // another accountant, no line
}

func newPayWorld(t *testing.T) *payWorld {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	ledgertest.ReconcileAtCleanup(t, d)
	cfg := config.Default()
	cfg.SecretKey = hex.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	w := &payWorld{d: d, s: NewService(d, nil, nil), payouts: payout.NewService(d, cfg, nil),
		users: map[string]int64{}, partners: map[string]int64{}, numbers: map[string]string{}}
	w.project = holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "环沪城市公司"), "泰安-锦艺誉峯")
	for i, name := range []string{"张三", "李四", "王会计", "赵零", "钱会计"} {
		u, err := org.NewService(d).CreateUser(ctx, audit.System, org.UserInput{Name: name, DingTalkUserID: "dt_" + name})
		if err != nil {
			t.Fatal(err)
		}
		w.users[name] = u.ID
		if name == "钱会计" {
			continue
		}
		w.partners[name] = holdingtest.Partner(t, d, u.ID)
		number := fmt.Sprintf("62148300%011d", 1234567+i)
		w.numbers[name] = number
		acc, err := w.payouts.Save(ctx, audit.Actor{ID: &u.ID, Name: name}, u.ID,
			payout.Input{Bank: "招商银行", Branch: "泰安分行", Holder: name, Number: number})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.payouts.Confirm(ctx, audit.Actor{ID: &u.ID, Name: name}, u.ID, acc.Version); err != nil {
			t.Fatal(err)
		}
		holdingtest.Pay(t, d, w.project, w.partners[name], "100000")
	}
	acct, clerk := w.users["王会计"], w.users["钱会计"]
	w.acct, w.clerk = audit.Actor{ID: &acct, Name: "王会计"}, audit.Actor{ID: &clerk, Name: "钱会计"}
	return w
}

// payLine is a fixture line: R6's A, B, C and the resulting E, or R7's F.
type payLine struct {
	name       string
	a, b, c, e string
	f          string
}

// batch stores a batch of kind in status with its lines, as the batch
// service would leave it, and — when status is approved — posts its approval
// as the approval effect does: per line principal +A′ (= E − C − B),
// interest B, other +C, payable −E; profit batches bank +F, profit −F.
func (w *payWorld) batch(t *testing.T, kind Kind, seq int, status Status, on civil.Date, lines ...payLine) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := w.d.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, record_date,
			return_ratio, created_by_name) VALUES ($1, $2, $3, $4, $5, $5, CASE WHEN $2 = 'principal' THEN 0.8 END, '测试') RETURNING id`,
			w.project, kind, seq, status, on); err != nil {
			return err
		}
		sums := map[string]decimal.Decimal{}
		add := func(acc string, x decimal.Decimal) { sums[acc] = sums[acc].Add(x) }
		for i, l := range lines {
			p := w.partners[l.name]
			z := func(s string) decimal.Decimal {
				if s == "" {
					return decimal.Zero
				}
				return money.MustParse(s)
			}
			a, b, c, e, f := z(l.a), z(l.b), z(l.c), z(l.e), z(l.f)
			reason := ""
			if !c.IsZero() {
				reason = "代垫费用"
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq,
				a, b, c, c_reason, d, e, f) VALUES ($1, $2, $3, $2, $4, $5, $6, $7, $8, $9, $10, $11)`,
				id, p, w.users[l.name], i+1, a, b, c, reason, e.Sub(c), e, f); err != nil {
				return err
			}
			add(ledger.Principal(w.project, p), e.Sub(c).Sub(b))
			add(ledger.Interest(w.project), b)
			add(ledger.Other(w.project, p), c)
			add(ledger.Payable(w.project, p), e.Neg())
			add(ledger.Bank(w.project), f)
			add(ledger.Profit(w.project, p), f.Neg())
		}
		if status != StatusApproved {
			return nil
		}
		var postings []ledger.Posting
		for acc, x := range sums {
			if !x.IsZero() {
				postings = append(postings, ledger.Posting{Account: acc, Amount: x})
			}
		}
		posted, err := ledger.Post(ctx, tx, ledger.Transaction{IdempotencyKey: fmt.Sprintf("test-approval-%d", id), Kind: string(kind) + "_distribution",
			ProjectID: &w.project, Postings: postings})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE distribution_batches SET approved_at = now(), ledger_tx_id = $2 WHERE id = $1`, id, posted.ID)
		return err
	})
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	return id
}

func wantCode(t *testing.T, err error, status apperr.Kind, code string) {
	t.Helper()
	e := apperr.As(err)
	if e == nil || e.Kind != status || e.Code != code {
		t.Fatalf("got %v, want %v %s", err, status, code)
	}
}

func balance(t *testing.T, d *db.DB, code string) string {
	t.Helper()
	b, err := ledger.Balance(context.Background(), d, code)
	if err != nil {
		t.Fatal(err)
	}
	return money.Format(b)
}

var day = civil.Date{Year: 2026, Month: 6, Day: 30}

// A principal batch at 80% paid out line by line, to the fen, with the
// ledger reconciling after each payout: payable cleared, bank down by E; the
// same key again answers with the first payout and posts nothing; another
// key is 409; the accountant's own line is 403 for them and paid by a
// colleague; the batch becomes paid with its last line.
func TestRegisterPayoutToTheFen(t *testing.T) {
	ctx := context.Background()
	w := newPayWorld(t)
	id := w.batch(t, KindPrincipal, 1, StatusApproved, day,
		payLine{name: "张三", a: "100000", b: "-1234.56", e: "78765.44"},
		payLine{name: "李四", a: "100000", b: "-617.28", c: "500", e: "79882.72"},
		payLine{name: "王会计", a: "100000", e: "80000"},
		payLine{name: "赵零", a: "0"})
	bank := balance(t, w.d, ledger.Bank(w.project))
	if bank != "400000.00" {
		t.Fatalf("bank before payouts %s", bank)
	}
	on := civil.Date{Year: 2026, Month: 7, Day: 1}
	w.s.now = func() time.Time { return time.Date(2026, 7, 2, 10, 0, 0, 0, civil.Shanghai) }

	p, err := w.s.RegisterPayout(ctx, w.acct, id, "k-zhang", PayoutInput{PartnerID: w.partners["张三"], PaidOn: on})
	if err != nil {
		t.Fatal(err)
	}
	if p.PaidAmount.String() != "78765.44" || p.Replayed || p.BatchStatus != StatusApproved || p.LedgerTxID == 0 {
		t.Fatalf("payout %+v", p)
	}
	ledgertest.AssertReconciles(t, w.d)
	if got := balance(t, w.d, ledger.Bank(w.project)); got != "321234.56" {
		t.Fatalf("bank after 张三 %s", got)
	}
	if got := balance(t, w.d, ledger.Payable(w.project, w.partners["张三"])); got != "0.00" {
		t.Fatalf("张三's payable %s", got)
	}

	// The same key: the same payout, nothing posted.
	again, err := w.s.RegisterPayout(ctx, w.acct, id, "k-zhang", PayoutInput{PartnerID: w.partners["张三"], PaidOn: on})
	if err != nil || !again.Replayed || again.LedgerTxID != p.LedgerTxID || again.PaidAmount.String() != "78765.44" {
		t.Fatalf("replay %+v %v", again, err)
	}
	if n := count(t, w.d, `SELECT count(*) FROM ledger_transactions WHERE kind = 'distribution_payout'`); n != 1 {
		t.Fatalf("%d payout transactions, want 1", n)
	}
	// Another key → already paid; the same key with another date → key reused.
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-zhang-2", PayoutInput{PartnerID: w.partners["张三"], PaidOn: on})
	wantCode(t, err, apperr.KindConflict, "distribution_line_paid")
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-zhang", PayoutInput{PartnerID: w.partners["张三"], PaidOn: on.AddDays(-1)})
	wantCode(t, err, apperr.KindConflict, "idempotency_key_reused")
	// The key of 张三's payout on 李四's line is a different request.
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-zhang", PayoutInput{PartnerID: w.partners["李四"], PaidOn: on})
	wantCode(t, err, apperr.KindConflict, "idempotency_key_reused")

	// Bad inputs, each changing nothing.
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "", PayoutInput{PartnerID: w.partners["李四"], PaidOn: on})
	wantCode(t, err, apperr.KindInvalid, "idempotency_key_required")
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-li", PayoutInput{PartnerID: w.partners["李四"]})
	wantCode(t, err, apperr.KindInvalid, "paid_on_required")
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-li", PayoutInput{PartnerID: w.partners["李四"], PaidOn: on.AddDays(5)})
	wantCode(t, err, apperr.KindInvalid, "paid_on_future")
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-li", PayoutInput{PartnerID: w.users["钱会计"] + 1000, PaidOn: on})
	wantCode(t, err, apperr.KindNotFound, "distribution_line_not_found")
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-zero", PayoutInput{PartnerID: w.partners["赵零"], PaidOn: on})
	wantCode(t, err, apperr.KindRule, "distribution_nothing_to_pay")
	_, err = w.s.RegisterPayout(ctx, w.acct, id+1000, "k-li", PayoutInput{PartnerID: w.partners["李四"], PaidOn: on})
	wantCode(t, err, apperr.KindNotFound, "distribution_not_found")
	// The accountant's own line.
	_, err = w.s.RegisterPayout(ctx, w.acct, id, "k-own", PayoutInput{PartnerID: w.partners["王会计"], PaidOn: on})
	wantCode(t, err, apperr.KindForbidden, "own_line")
	if n := count(t, w.d, `SELECT count(*) FROM ledger_transactions WHERE kind = 'distribution_payout'`); n != 1 {
		t.Fatalf("refusals posted: %d payout transactions", n)
	}

	if _, err := w.s.RegisterPayout(ctx, w.acct, id, "k-li", PayoutInput{PartnerID: w.partners["李四"], PaidOn: on}); err != nil {
		t.Fatal(err)
	}
	last, err := w.s.RegisterPayout(ctx, w.clerk, id, "k-wang", PayoutInput{PartnerID: w.partners["王会计"], PaidOn: on})
	if err != nil {
		t.Fatal(err)
	}
	if last.BatchStatus != StatusPaid || last.BatchStatusLabel != "已支付" {
		t.Fatalf("after the last line: %+v", last)
	}
	ledgertest.AssertReconciles(t, w.d)
	// 400,000 in − (78,765.44 + 79,882.72 + 80,000) out.
	if got := balance(t, w.d, ledger.Bank(w.project)); got != "161351.84" {
		t.Fatalf("bank after the batch %s", got)
	}
	for _, name := range []string{"张三", "李四", "王会计"} {
		if got := balance(t, w.d, ledger.Payable(w.project, w.partners[name])); got != "0.00" {
			t.Fatalf("%s's payable %s", name, got)
		}
	}
	b, err := load(ctx, w.d, id, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range b.Lines {
		want := map[string]string{"张三": "paid", "李四": "paid", "王会计": "paid", "赵零": "nothing"}[l.Name]
		if l.PayoutStatus != want {
			t.Errorf("%s: payout status %q, want %q", l.Name, l.PayoutStatus, want)
		}
	}
	// The replay of a line of a paid batch still answers.
	if r, err := w.s.RegisterPayout(ctx, w.acct, id, "k-zhang", PayoutInput{PartnerID: w.partners["张三"], PaidOn: on}); err != nil || !r.Replayed {
		t.Fatalf("replay on a paid batch: %+v %v", r, err)
	}
	if n := count(t, w.d, `SELECT count(*) FROM audit_log WHERE action = 'distribution.payout'`); n != 3 {
		t.Fatalf("%d payout audit entries, want 3", n)
	}
}

// A batch not approved takes no payout (422), nor an import, nor a bank file.
func TestPayoutNeedsAnApprovedBatch(t *testing.T) {
	ctx := context.Background()
	w := newPayWorld(t)
	id := w.batch(t, KindProfit, 1, StatusInApproval, day, payLine{name: "张三", f: "1000"})
	_, err := w.s.RegisterPayout(ctx, w.acct, id, "k", PayoutInput{PartnerID: w.partners["张三"], PaidOn: civil.Today(time.Now())})
	wantCode(t, err, apperr.KindRule, "distribution_not_approved")
	_, _, err = w.s.BankFile(ctx, w.acct, id, w.payouts)
	wantCode(t, err, apperr.KindRule, "distribution_not_approved")
	_, err = w.s.ImportPayouts(ctx, w.acct, id, bytes.NewReader(payoutSheet(t, []any{"张三", "1000.00", "2026-07-01"})))
	wantCode(t, err, apperr.KindRule, "distribution_not_approved")
	if n := count(t, w.d, `SELECT count(*) FROM ledger_transactions WHERE kind = 'distribution_payout'`); n != 0 {
		t.Fatal("posted")
	}
}

func payoutSheet(t *testing.T, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	h := []any{"户名", "金额", "打款日期"}
	f.SetSheetRow("Sheet1", "A1", &h)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("Sheet1", cell, &r)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A profit batch paid from the bank's file: every row or none, errors
// naming row and column; the same file again is replayed. Holdings (我的跟投)
// then show the principal returned and the profit received.
func TestImportPayoutsAndHoldings(t *testing.T) {
	ctx := context.Background()
	w := newPayWorld(t)
	principal := w.batch(t, KindPrincipal, 1, StatusApproved, day,
		payLine{name: "张三", a: "100000", b: "-1234.56", e: "78765.44"}, payLine{name: "李四", a: "100000", e: "80000"})
	if _, err := w.s.RegisterPayout(ctx, w.clerk, principal, "p1", PayoutInput{PartnerID: w.partners["张三"], PaidOn: day}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.RegisterPayout(ctx, w.clerk, principal, "p2", PayoutInput{PartnerID: w.partners["李四"], PaidOn: day}); err != nil {
		t.Fatal(err)
	}
	profit := w.batch(t, KindProfit, 1, StatusApproved, day,
		payLine{name: "张三", f: "65990.21"}, payLine{name: "李四", f: "65990.21"}, payLine{name: "赵零"})

	// Bad rows: all reported, nothing registered.
	bad := payoutSheet(t, []any{"张三", "65990.20", "2026-07-01"}, []any{"无名氏", "1.00", "2026-07-01"},
		[]any{"李四", "65990.21", "2026-13-01"}, []any{"张三", "65990.21", "2026-07-01"})
	_, err := w.s.ImportPayouts(ctx, w.clerk, profit, bytes.NewReader(bad))
	e := apperr.As(err)
	if e == nil || e.Code != "import_invalid" {
		t.Fatalf("bad file: %v", err)
	}
	rows := e.Details.([]apperr.RowError)
	got := []string{}
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%d %s", r.Row, r.Column))
	}
	if strings.Join(got, ",") != "2 金额,3 户名,4 打款日期,5 户名" {
		t.Fatalf("row errors %v", rows)
	}
	if n := count(t, w.d, `SELECT count(*) FROM distribution_lines WHERE batch_id = $1 AND paid_on IS NOT NULL`, profit); n != 0 {
		t.Fatal("a bad file registered payouts")
	}

	good := payoutSheet(t, []any{"张三", "65,990.21", "2026-07-01"}, []any{"李四", "65990.21", "2026-07-02"})
	res, err := w.s.ImportPayouts(ctx, w.clerk, profit, bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 2 || res.BatchStatus != StatusPaid {
		t.Fatalf("import %+v", res)
	}
	res, err = w.s.ImportPayouts(ctx, w.clerk, profit, bytes.NewReader(good))
	if err != nil || res.Replayed != 2 || res.Imported != 0 {
		t.Fatalf("the same file again: %+v %v", res, err)
	}
	if n := count(t, w.d, `SELECT count(*) FROM ledger_transactions WHERE kind = 'distribution_payout'`); n != 4 {
		t.Fatalf("%d payout transactions, want 4", n)
	}
	// Another file naming a paid line is refused at its row.
	other := payoutSheet(t, []any{"张三", "65990.21", "2026-07-03"})
	_, err = w.s.ImportPayouts(ctx, w.clerk, profit, bytes.NewReader(other))
	if e := apperr.As(err); e == nil || e.Code != "import_invalid" || !strings.Contains(e.Message, "已于") {
		t.Fatalf("a paid line again: %v", err)
	}
	ledgertest.AssertReconciles(t, w.d)
	if got := balance(t, w.d, ledger.Profit(w.project, w.partners["张三"])); got != "0.00" {
		t.Fatalf("张三's profit account %s", got)
	}

	// 我的跟投 (H5 and the bot read internal/holding): returned principal is
	// A′ = 80,000 (E + |B|), profit received 65,990.21.
	hs, err := holding.NewService(w.d, nil).ForUser(ctx, w.users["张三"])
	if err != nil || len(hs) != 1 {
		t.Fatalf("holdings %+v %v", hs, err)
	}
	if money.Format(hs[0].Returned) != "80000.00" || money.Format(hs[0].ProfitReceived) != "65990.21" || money.Format(hs[0].Paid) != "100000.00" {
		t.Fatalf("张三's holding %+v", hs[0])
	}

	// H5 我的分配: only the caller's lines, newest first, labels from the server.
	mine, err := w.s.Mine(ctx, w.users["张三"])
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 {
		t.Fatalf("张三's lines %+v", mine)
	}
	for _, m := range mine {
		if m.StatusLabel != "已支付" || m.PaidOn == nil || m.ProjectName != "泰安-锦艺誉峯" {
			t.Fatalf("line %+v", m)
		}
	}
	if mine[0].Title != "第1次利润分配" || mine[0].Profit.String() != "65990.21" || mine[1].PrincipalReturned.String() != "78765.44" {
		t.Fatalf("lines %+v", mine)
	}
	if zero, _ := w.s.Mine(ctx, w.users["赵零"]); len(zero) != 1 || zero[0].Status != PayoutNothing {
		t.Fatalf("赵零's lines %+v", zero)
	}
	if none, _ := w.s.Mine(ctx, w.users["钱会计"]); len(none) != 0 {
		t.Fatalf("a non-partner sees %+v", none)
	}
}

// The bank payout file: one row per unpaid line, the account number in
// clear only there; the export is audited without the numbers.
func TestBankFile(t *testing.T) {
	ctx := context.Background()
	w := newPayWorld(t)
	id := w.batch(t, KindProfit, 1, StatusApproved, day,
		payLine{name: "张三", f: "65990.21"}, payLine{name: "李四", f: "1234.56"}, payLine{name: "王会计", f: "100.00"}, payLine{name: "赵零"})
	if _, err := w.s.RegisterPayout(ctx, w.clerk, id, "k", PayoutInput{PartnerID: w.partners["王会计"], PaidOn: day}); err != nil {
		t.Fatal(err)
	}
	name, content, err := w.s.BankFile(ctx, w.acct, id, w.payouts)
	if err != nil {
		t.Fatal(err)
	}
	if name != "泰安-锦艺誉峯_第1次利润分配_银行付款文件.xlsx" {
		t.Fatalf("name %q", name)
	}
	f, err := excelize.OpenReader(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("银行付款文件")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"户名", "账号", "开户行", "金额", "用途"},
		{"张三", w.numbers["张三"], "招商银行 泰安分行", "65990.21", "泰安-锦艺誉峯 第1次利润分配"},
		{"李四", w.numbers["李四"], "招商银行 泰安分行", "1234.56", "泰安-锦艺誉峯 第1次利润分配"}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("bank file\n%v\nwant\n%v", rows, want)
	}
	var entries []string
	if err := w.d.Select(&entries, `SELECT coalesce(after::text, '') FROM audit_log WHERE action = 'distribution.bank_file'`); err != nil || len(entries) != 1 {
		t.Fatalf("bank file audit entries %v %v", entries, err)
	}
	var all string
	if err := w.d.Get(&all, `SELECT string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' ') FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	for n, number := range w.numbers {
		if strings.Contains(all, number) || strings.Contains(all, number[:12]) {
			t.Fatalf("the audit log holds %s's number", n)
		}
	}
	// No JSON the service returns carries a number either.
	b, _ := load(ctx, w.d, id, false)
	js, _ := json.Marshal(b)
	for _, number := range w.numbers {
		if strings.Contains(string(js), number) {
			t.Fatal("the batch's JSON holds an account number")
		}
	}
	// A payee whose account changed (unconfirmed again) stops the export.
	uid := w.users["李四"]
	acc, _ := w.payouts.Get(ctx, uid)
	if _, err := w.payouts.Save(ctx, audit.Actor{ID: &uid, Name: "李四"}, uid, payout.Input{Bank: "工商银行", Branch: "泰安分行",
		Holder: "李四", Number: "6222020000000000001", Version: acc.Version}); err != nil {
		t.Fatal(err)
	}
	_, _, err = w.s.BankFile(ctx, w.acct, id, w.payouts)
	wantCode(t, err, apperr.KindRule, "payout_account_unconfirmed")
	if !strings.Contains(apperr.As(err).Message, "李四") {
		t.Fatalf("the refusal does not name 李四: %v", err)
	}
	_, err = w.s.RegisterPayout(ctx, w.clerk, id, "k-li", PayoutInput{PartnerID: w.partners["李四"], PaidOn: day})
	wantCode(t, err, apperr.KindRule, "payout_account_unconfirmed")
}

// 分配通知: one work notice per payee with an amount, queued for 09:00
// Shanghai on the distribution day (now when that is past), the same text
// for everyone with no amount, once per batch and user.
func TestNoticesQueuedForTheDistributionDay(t *testing.T) {
	ctx := context.Background()
	w := newPayWorld(t)
	future := civil.Date{Year: 2026, Month: 6, Day: 30}
	w.s.now = func() time.Time { return time.Date(2026, 6, 20, 15, 0, 0, 0, civil.Shanghai) }
	id := w.batch(t, KindProfit, 1, StatusApproved, future,
		payLine{name: "张三", f: "65990.21"}, payLine{name: "李四", f: "1234.56"}, payLine{name: "赵零"})
	queue := func(id int64) {
		t.Helper()
		if err := w.d.InTx(ctx, func(tx *sqlx.Tx) error {
			b, err := load(ctx, tx, id, true)
			if err != nil {
				return err
			}
			return w.s.queueNotices(ctx, tx, b)
		}); err != nil {
			t.Fatal(err)
		}
	}
	queue(id)
	queue(id) // a repeated approval event queues nothing new
	var rows []struct {
		Key       string    `db:"dedupe_key"`
		NotBefore time.Time `db:"not_before"`
		Data      string    `db:"data"`
		Recipient string    `db:"recipient"`
	}
	if err := w.d.Select(&rows, `SELECT o.dedupe_key, o.not_before, o.data::text AS data, d.recipient FROM notify_outbox o
		JOIN notify_deliveries d ON d.outbox_id = o.id WHERE o.template = 'distribution_notice' ORDER BY d.recipient`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Recipient != "dt_张三" || rows[1].Recipient != "dt_李四" {
		t.Fatalf("notices %+v", rows)
	}
	nine := time.Date(2026, 6, 30, 9, 0, 0, 0, civil.Shanghai)
	amount := regexp.MustCompile(`65990|1234|,\d{3}\.\d\d`)
	for _, r := range rows {
		if !r.NotBefore.Equal(nine) {
			t.Errorf("%s not before %s, want %s", r.Recipient, r.NotBefore, nine)
		}
		if r.Data != rows[0].Data {
			t.Errorf("the text differs between recipients: %s / %s", r.Data, rows[0].Data)
		}
		if amount.MatchString(r.Data) {
			t.Errorf("the notice carries an amount: %s", r.Data)
		}
	}
	var data map[string]any
	json.Unmarshal([]byte(rows[0].Data), &data)
	n := notify.NewService(w.d, nil, config.Default(), slog.New(slog.DiscardHandler))
	r, err := n.Preview(ctx, "distribution_notice", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "泰安-锦艺誉峯 第1次利润分配") || !strings.Contains(r.Text, "2026-06-30") || amount.MatchString(r.Text) ||
		!strings.HasSuffix(r.URL, "/m/distributions") {
		t.Fatalf("rendered %+v", r)
	}

	// The console's counts: 2 queued for 09:00 of the day.
	list, err := w.s.Notices(ctx, w.project)
	if err != nil || len(list) != 1 {
		t.Fatalf("notices %+v %v", list, err)
	}
	if l := list[0]; l.Notices != 2 || l.Queued != 2 || l.QueuedFor == nil || !l.QueuedFor.Equal(nine) || l.Sent != 0 || l.Title != "第1次利润分配" {
		t.Fatalf("batch notices %+v", l)
	}

	// Approved after its day: the notices go now.
	w.s.now = func() time.Time { return time.Date(2026, 7, 5, 11, 0, 0, 0, civil.Shanghai) }
	w.d.MustExec(`UPDATE distribution_batches SET status = 'paid' WHERE id = $1`, id)
	late := w.batch(t, KindProfit, 2, StatusApproved, future, payLine{name: "王会计", f: "10"})
	queue(late)
	var nb time.Time
	if err := w.d.Get(&nb, `SELECT not_before FROM notify_outbox WHERE dedupe_key = $1`, noticePrefix(late)+"0"); err != nil {
		t.Fatal(err)
	}
	if !nb.Equal(w.s.now()) {
		t.Fatalf("a late notice is not before %s, want now", nb)
	}

	// 测试消息: to the operator only, not counted with the partners'.
	if _, err := w.s.SendTestNotice(ctx, w.acct, w.users["王会计"], id); err != nil {
		t.Fatal(err)
	}
	if list, _ := w.s.Notices(ctx, w.project); list[0].Notices != 2 {
		t.Fatalf("the test send counted: %+v", list[0])
	}
	if n := count(t, w.d, `SELECT count(*) FROM notify_deliveries d JOIN notify_outbox o ON o.id = d.outbox_id
		WHERE o.dedupe_key LIKE 'distribution:%:notice_test:%' AND d.recipient = 'dt_王会计'`); n != 1 {
		t.Fatalf("%d test deliveries", n)
	}
}

// A liquidation settles the project (read-only) when it is approved; its
// own payouts are still registered, while a payout of an earlier batch of
// the settled project is refused like every other write.
func TestLiquidationPayoutsOnASettledProject(t *testing.T) {
	ctx := context.Background()
	w := newPayWorld(t)
	principal := w.batch(t, KindPrincipal, 1, StatusApproved, day, payLine{name: "张三", a: "100000", e: "50000"})
	liquidation := w.batch(t, KindLiquidation, 1, StatusApproved, day, payLine{name: "张三", a: "50000", e: "50000", f: "1234.56"})
	w.d.MustExec(`UPDATE projects SET is_settled = true WHERE id = $1`, w.project)
	p, err := w.s.RegisterPayout(ctx, w.clerk, liquidation, "liq", PayoutInput{PartnerID: w.partners["张三"], PaidOn: day})
	if err != nil || p.PaidAmount.String() != "51234.56" || p.BatchStatus != StatusPaid {
		t.Fatalf("liquidation payout %+v %v", p, err)
	}
	_, err = w.s.RegisterPayout(ctx, w.clerk, principal, "old", PayoutInput{PartnerID: w.partners["张三"], PaidOn: day})
	wantCode(t, err, apperr.KindRule, "project_settled")
	ledgertest.AssertReconciles(t, w.d)
}
