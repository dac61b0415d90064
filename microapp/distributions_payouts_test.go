package microapp_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/payout"
)

// approvedBatch stores an approved batch of project with one line per
// partner (E, F) and posts its approval as the approval effect does (for a
// line with A′ = E: principal +E, payable −E; bank +F, profit −F); → its id.
func approvedBatch(t *testing.T, d *db.DB, project int64, kind string, lines map[int64][2]string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := d.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO distribution_batches (project_id, kind, seq, status, distribution_date, record_date,
			created_by_name) VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM distribution_batches WHERE project_id = $1 AND kind = $2),
			'approved', $3, $3, '测试') RETURNING id`, project, kind, civil.Today(time.Now())); err != nil {
			return err
		}
		var postings []ledger.Posting
		bank := decimal.Zero
		seq := 0
		for p, ef := range lines {
			seq++
			e, f := money.MustParse(ef[0]), money.MustParse(ef[1])
			if _, err := tx.ExecContext(ctx, `INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq, a, d, e, f)
				VALUES ($1, $2, (SELECT user_id FROM partners WHERE id = $2), $2, $3, $4, $4, $4, $5)`, id, p, seq, e, f); err != nil {
				return err
			}
			if !e.IsZero() {
				postings = append(postings, ledger.Posting{Account: ledger.Principal(project, p), Amount: e},
					ledger.Posting{Account: ledger.Payable(project, p), Amount: e.Neg()})
			}
			if !f.IsZero() {
				postings = append(postings, ledger.Posting{Account: ledger.Profit(project, p), Amount: f.Neg()})
				bank = bank.Add(f)
			}
		}
		if !bank.IsZero() {
			postings = append(postings, ledger.Posting{Account: ledger.Bank(project), Amount: bank})
		}
		_, err := ledger.Post(ctx, tx, ledger.Transaction{IdempotencyKey: fmt.Sprintf("test-approval-%d", id), Kind: kind + "_distribution",
			ProjectID: &project, Postings: postings})
		return err
	})
	if err != nil {
		t.Fatalf("approved batch: %v", err)
	}
	return id
}

// confirmedAccount gives user a confirmed payout account; → its number.
func (e *env) confirmedAccount(userID int64, name, number string) string {
	e.t.Helper()
	ctx := context.Background()
	a := audit.Actor{ID: &userID, Name: name}
	acc, err := e.deps.Payout.Save(ctx, a, userID, payout.Input{Bank: "招商银行", Branch: "泰安分行", Holder: name, Number: number})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.deps.Payout.Confirm(ctx, a, userID, acc.Version); err != nil {
		e.t.Fatal(err)
	}
	return number
}

// Payouts over HTTP: registration with its Idempotency-Key (replay, 409,
// 400), the bank payout file (numbers only there, never in a JSON answer or
// the audit log), 分配通知 with its 测试消息, and H5 我的分配 showing each
// partner only their own lines; a batch outside the caller's scope is 404.
func TestDistributionPayoutsOverHTTP(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.mustUser("分配会计", "accountant")
	_, outsider := e.mustUser("外地会计", "accountant")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	zhangID, zhang := e.mustUser("张三")
	liID, li := e.mustUser("李四")
	zp, lp := holdingtest.Partner(t, e.db, zhangID), holdingtest.Partner(t, e.db, liID)
	numbers := []string{e.confirmedAccount(zhangID, "张三", "6214830000001111222"), e.confirmedAccount(liID, "李四", "6214830000003333444")}
	holdingtest.Pay(t, e.db, w.projA, zp, "100000")
	holdingtest.Pay(t, e.db, w.projA, lp, "100000")
	principal := approvedBatch(t, e.db, w.projA, "principal", map[int64][2]string{zp: {"80000", "0"}, lp: {"40000.50", "0"}})
	today := civil.Today(time.Now()).String()
	path := fmt.Sprintf("/api/v1/distributions/%d/payouts", principal)

	first := e.must(201, e.payDo(acct, "pay-zhang", "POST", path, map[string]any{"partner_id": zp, "paid_on": today}))
	if first.Body["paid_amount"] != "80000.00" || first.Body["batch_status_label"] != "已审批待支付" {
		t.Fatalf("payout %s", first.Raw)
	}
	again := e.must(201, e.payDo(acct, "pay-zhang", "POST", path, map[string]any{"partner_id": zp, "paid_on": today}))
	if again.Body["ledger_transaction_id"] != first.Body["ledger_transaction_id"] || again.Body["replayed"] != true {
		t.Fatalf("replay %s", again.Raw)
	}
	before := fingerprint(t, e.db)
	e.refused(409, "distribution_line_paid", e.payDo(acct, "pay-zhang-2", "POST", path, map[string]any{"partner_id": zp, "paid_on": today}))
	e.refused(400, "idempotency_key_required", e.payDo(acct, "", "POST", path, map[string]any{"partner_id": lp, "paid_on": today}))
	e.refused(404, "distribution_not_found", e.payDo(outsider, "pay-li", "POST", path, map[string]any{"partner_id": lp, "paid_on": today}))
	e.refused(403, "forbidden", e.payDo(li, "pay-li", "POST", path, map[string]any{"partner_id": lp, "paid_on": today}))
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused payout changed the database")
	}

	// The bank file: 李四's line, unpaid, with the number in clear.
	res := e.must(200, e.raw("GET", fmt.Sprintf("/api/v1/distributions/%d/bank-file.xlsx", principal), "",
		map[string]string{"Authorization": "Bearer " + acct}))
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the bank file may be cached: %v", res.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetList()[0])
	if len(rows) != 2 || strings.Join(rows[1], "|") != "李四|6214830000003333444|招商银行 泰安分行|40000.50|常州项目 本金分配" {
		t.Fatalf("bank file %v", rows)
	}
	var auditText string
	if err := e.db.Get(&auditText, `SELECT string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' ') FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(auditText, numbers[0]) || strings.Contains(auditText, numbers[1]) || !strings.Contains(auditText, "银行付款文件") {
		t.Fatalf("the audit log holds an account number, or not the export: %s", auditText)
	}

	// Profit batch: 分配通知 and 测试消息.
	e.must(201, e.payDo(acct, "pay-li", "POST", path, map[string]any{"partner_id": lp, "paid_on": today}))
	profit := approvedBatch(t, e.db, w.projA, "profit", map[int64][2]string{zp: {"0", "1234.56"}, lp: {"0", "4321.00"}})
	notices := e.must(200, e.do(acct, "GET", fmt.Sprintf("/api/v1/projects/%d/distribution-notices", w.projA), nil))
	if items := notices.Body["items"].([]any); len(items) != 2 {
		t.Fatalf("notices %s", notices.Raw)
	}
	e.must(200, e.do(acct, "POST", fmt.Sprintf("/api/v1/distributions/%d/notices/test", profit), nil))
	e.refused(404, "distribution_not_found", e.do(outsider, "POST", fmt.Sprintf("/api/v1/distributions/%d/notices/test", profit), nil))

	// H5 我的分配: each partner their own lines only; no number in any answer.
	mine := e.must(200, e.do(zhang, "GET", "/api/v1/me/distributions", nil))
	items := mine.Body["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("张三's lines %s", mine.Raw)
	}
	for _, it := range items {
		m := it.(map[string]any)
		switch m["kind"] {
		case "principal":
			if m["principal_returned"] != "80000.00" || m["status_label"] != "已支付" || m["paid_on"] != today {
				t.Fatalf("principal line %v", m)
			}
		case "profit":
			if m["profit"] != "1234.56" || m["status_label"] != "待支付" || m["title"] != "第1次利润分配" {
				t.Fatalf("profit line %v", m)
			}
		}
	}
	if strings.Contains(string(mine.Raw), "4321") || strings.Contains(string(mine.Raw), "40000.50") {
		t.Fatalf("张三 sees 李四's amounts: %s", mine.Raw)
	}
	for _, r := range []response{first, again, mine, notices, e.do(li, "GET", "/api/v1/me/distributions", nil)} {
		for _, n := range numbers {
			if strings.Contains(string(r.Raw), n) {
				t.Fatalf("a JSON answer holds an account number: %s", r.Raw)
			}
		}
	}
	// 我的跟投 shows the principal returned (A′ of the approval) and, once paid, the profit received.
	e.must(201, e.payDo(acct, "pay-zhang-profit", "POST", fmt.Sprintf("/api/v1/distributions/%d/payouts", profit),
		map[string]any{"partner_id": zp, "paid_on": today}))
	h := e.must(200, e.do(zhang, "GET", "/api/v1/me/holdings", nil))
	if s := string(h.Raw); !strings.Contains(s, `"returned":"80000.00"`) || !strings.Contains(s, `"profit_received":"1234.56"`) {
		t.Fatalf("holdings %s", h.Raw)
	}
}
