package microapp_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/shareholder"
	"hehuo/internal/shareholderdist"
	"hehuo/microapp"
)

// mustMinorityFixture registers a minority shareholder (sealed numbers
// faked: the test never unseals them) with a registration of status in
// projectID; it returns the shareholder's id.
func (e *env) mustMinorityFixture(projectID int64, name, stake, status string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO minority_shareholders (name, kind, id_number_enc, id_number_last4, bank)
		VALUES ($1, 'company', 'v1:fixture', '0001', '招商银行') RETURNING id`, name); err != nil {
		e.t.Fatal(err)
	}
	e.db.MustExec(`INSERT INTO shareholder_registrations (project_id, shareholder_id, stake, contributed, contributed_on, status)
		VALUES ($1, $2, $3, 1000000, '2024-01-01', $4)`, projectID, id, stake, status)
	return id
}

// mustShareholderDistFixture is a draft shareholder distribution of
// projectID with one approved shareholder, for /shareholder-distributions paths.
func (e *env) mustShareholderDistFixture(projectID int64) int64 {
	e.t.Helper()
	sh := e.mustMinorityFixture(projectID, fmt.Sprintf("矩阵股东%d", projectID), "0.1", "approved")
	var id, reg int64
	if err := e.db.Get(&reg, `SELECT id FROM shareholder_registrations WHERE shareholder_id = $1`, sh); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Get(&id, `INSERT INTO shareholder_distributions (project_id, seq, distribution_date, amount)
		VALUES ($1, 1, '2025-06-30', 1000) RETURNING id`, projectID); err != nil {
		e.t.Fatal(err)
	}
	e.db.MustExec(`INSERT INTO shareholder_distribution_lines (distribution_id, shareholder_id, registration_id, stake, amount)
		VALUES ($1, $2, $3, 0.1, 1000)`, id, sh, reg)
	return id
}

func fillShareholderDistPath(p string, id int64) string {
	const prefix = "/api/v1/shareholder-distributions/:id"
	if strings.HasPrefix(p, prefix) {
		p = "/api/v1/shareholder-distributions/" + itoa(id) + p[len(prefix):]
	}
	return p
}

func sdPath(id any, suffix string) string {
	return "/api/v1/shareholder-distributions/" + itoa(num(id)) + suffix
}

// linesOf maps a batch's lines by shareholder id.
func linesOf(b map[string]any) map[int64]map[string]any {
	out := map[int64]map[string]any{}
	for _, l := range b["lines"].([]any) {
		m := l.(map[string]any)
		out[num(m["shareholder_id"])] = m
	}
	return out
}

// 股东分配 over the API with registrations set up in the database: the
// lines split 100,000.00 over stakes 0.15/0.10/0.05 to the fen, an
// unreviewed registration gets nothing, the reviewer never reviews their
// own submission, another city's accountant gets 404, bad inputs change
// nothing, and one payout registered twice is one ledger transaction.
func TestShareholderDistributionLifecycle(t *testing.T) {
	e := newEnv(t)
	f := e.flowWorld()
	today := civil.Today(time.Now()).String()
	a := e.mustMinorityFixture(f.projA, "常州城建投资有限公司", "0.15", "approved")
	b := e.mustMinorityFixture(f.projA, "江苏土地发展有限公司", "0.10", "approved")
	c := e.mustMinorityFixture(f.projA, "王小股", "0.05", "approved")
	unreviewed := e.mustMinorityFixture(f.projA, "未审核股东", "0.20", "submitted")
	_, bothTok := e.dutyUser("会计兼业务管理员", "J920", "accountant", "bizadmin")
	_ = bothTok
	otherID, other := e.mustUser("昆明会计", "accountant")
	e.must(200, e.do(f.admin, "PUT", "/api/v1/org-units/"+itoa(f.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	_, partnerTok := e.mustUser("普通合伙人")

	create := "/api/v1/projects/" + f.proj + "/shareholder-distributions"
	e.refusedUnchanged("three decimals", 400, "amount_too_precise", func() response {
		return e.do(f.acct, "POST", create, map[string]any{"distribution_date": "2025-06-30", "amount": "100000.005"})
	})
	e.refusedUnchanged("zero amount", 400, "amount_invalid", func() response {
		return e.do(f.acct, "POST", create, map[string]any{"distribution_date": "2025-06-30", "amount": "0.00"})
	})
	e.refusedUnchanged("no date", 400, "distribution_date_required", func() response {
		return e.do(f.acct, "POST", create, map[string]any{"amount": "100.00"})
	})
	e.refusedUnchanged("other city", 404, "project_not_found", func() response {
		return e.do(other, "POST", create, map[string]any{"distribution_date": "2025-06-30", "amount": "100.00"})
	})
	if r := e.do(partnerTok, "POST", create, map[string]any{"distribution_date": "2025-06-30", "amount": "100.00"}); r.Status != 403 {
		t.Fatalf("partner: %d %s", r.Status, r.Raw)
	}
	e.refusedUnchanged("no approved registration", 422, "no_approved_shareholders", func() response {
		return e.do(f.acct, "POST", "/api/v1/projects/"+itoa(f.projA1)+"/shareholder-distributions",
			map[string]any{"distribution_date": "2025-06-30", "amount": "100.00"})
	})

	batch := e.must(201, e.do(f.acct, "POST", create, map[string]any{"distribution_date": "2025-06-30", "amount": "100000.00"})).Body
	lines := linesOf(batch)
	if len(lines) != 3 || lines[unreviewed] != nil {
		t.Fatalf("lines: %v (the unreviewed registration must get none)", batch["lines"])
	}
	want := map[int64]string{a: "50000.00", b: "33333.33", c: "16666.67"}
	sum := decimal.Zero
	for id, amt := range want {
		if lines[id]["amount"] != amt {
			t.Errorf("line %d: %v, want %s", id, lines[id]["amount"], amt)
		}
		sum = sum.Add(decimal.RequireFromString(lines[id]["amount"].(string)))
	}
	if !sum.Equal(decimal.RequireFromString("100000")) || batch["amount"] != "100000.00" {
		t.Fatalf("Σ lines %s, batch %v", sum, batch["amount"])
	}
	if lines[a]["stake"] != "0.15" || batch["status"] != "draft" || batch["status_label"] != "草稿" {
		t.Fatalf("batch: %v", batch)
	}
	statesLabelled(t, "batch", batch)

	// Another city's accountant: 404 on the batch; the list is theirs only within the grant.
	e.refusedUnchanged("other city get", 404, "shareholder_distribution_not_found", func() response {
		return e.do(other, "GET", sdPath(batch["id"], ""), nil)
	})
	e.refusedUnchanged("other city submit", 404, "shareholder_distribution_not_found", func() response {
		return e.do(other, "POST", sdPath(batch["id"], "/submit"), map[string]any{"version": batch["version"]})
	})
	e.refusedUnchanged("other city line", 404, "shareholder_distribution_not_found", func() response {
		return e.do(other, "PATCH", sdPath(batch["id"], "/lines/"+itoa(a)), map[string]any{"amount": "1.00", "version": batch["version"]})
	})
	if r := e.do(partnerTok, "GET", sdPath(batch["id"], ""), nil); r.Status != 403 {
		t.Fatalf("partner reads a batch: %d", r.Status)
	}
	if r := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+f.proj+"/shareholder-distributions", nil)).Body; len(r["items"].([]any)) != 1 {
		t.Fatalf("list: %v", r)
	}

	// A line by hand: the batch's amount follows Σ lines; a stale version is 409.
	batch = e.must(200, e.do(f.acct, "PATCH", sdPath(batch["id"], "/lines/"+itoa(c)),
		map[string]any{"amount": "16666.68", "version": batch["version"]})).Body
	if batch["amount"] != "100000.01" {
		t.Fatalf("amount after a line by hand: %v", batch["amount"])
	}
	e.refusedUnchanged("stale version", 409, "stale_version", func() response {
		return e.do(f.acct, "PATCH", sdPath(batch["id"], "/lines/"+itoa(c)), map[string]any{"amount": "16666.67", "version": 1})
	})
	e.refusedUnchanged("line three decimals", 400, "amount_too_precise", func() response {
		return e.do(f.acct, "PATCH", sdPath(batch["id"], "/lines/"+itoa(c)), map[string]any{"amount": "1.001", "version": batch["version"]})
	})
	batch = e.must(200, e.do(f.acct, "PATCH", sdPath(batch["id"], "/lines/"+itoa(c)),
		map[string]any{"amount": "16666.67", "version": batch["version"]})).Body

	// Payout before approval: 422.
	e.refusedUnchanged("payout before approval", 422, "shareholder_distribution_not_approved", func() response {
		return e.payDo(f.acct, "sd-early", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": a, "paid_on": today})
	})

	// Submitted by a user who is also a business admin: they cannot review it.
	own := e.must(201, e.do(bothTok, "POST", create, map[string]any{"distribution_date": "2025-07-31", "amount": "300.00"})).Body
	own = e.must(200, e.do(bothTok, "POST", sdPath(own["id"], "/submit"), map[string]any{"version": own["version"]})).Body
	e.refusedUnchanged("own submission", 403, "own_submission", func() response {
		return e.do(bothTok, "POST", sdPath(own["id"], "/review"), map[string]any{"approve": true, "version": own["version"]})
	})

	batch = e.must(200, e.do(f.acct, "POST", sdPath(batch["id"], "/submit"), map[string]any{"version": batch["version"]})).Body
	if batch["status_label"] != "待审核" {
		t.Fatalf("submitted: %v", batch["status_label"])
	}
	e.refusedUnchanged("return without reason", 400, "reason_required", func() response {
		return e.do(f.biz, "POST", sdPath(batch["id"], "/review"), map[string]any{"approve": false, "version": batch["version"]})
	})
	if r := e.do(f.acct, "POST", sdPath(batch["id"], "/review"), map[string]any{"approve": true, "version": batch["version"]}); r.Status != 403 {
		t.Fatalf("accountant review: %d", r.Status)
	}
	batch = e.must(200, e.do(f.biz, "POST", sdPath(batch["id"], "/review"), map[string]any{"approve": false, "reason": "金额再核", "version": batch["version"]})).Body
	if batch["status"] != "returned" || batch["review_reason"] != "金额再核" {
		t.Fatalf("returned: %v", batch)
	}
	batch = e.must(200, e.do(f.acct, "POST", sdPath(batch["id"], "/submit"), map[string]any{"version": batch["version"]})).Body
	batch = e.must(200, e.do(f.biz, "POST", sdPath(batch["id"], "/review"), map[string]any{"approve": true, "version": batch["version"]})).Body
	if batch["status"] != "approved" || batch["status_label"] != "审核通过" {
		t.Fatalf("approved: %v", batch)
	}

	// The export of the batch: a row per line and the total.
	x := e.do(f.acct, "GET", sdPath(batch["id"], "/export.xlsx"), nil)
	if x.Status != 200 {
		t.Fatalf("export: %d %s", x.Status, x.Raw)
	}
	rows := readSheet(t, x.Raw)
	if len(rows) != 5 || rows[4][2] != "100000.00" || rows[1][1] != "15.00%" {
		t.Fatalf("export rows: %v", rows)
	}

	// Payouts: the same key twice is one transaction; another key on a paid line is 409.
	var before int
	e.db.Get(&before, `SELECT count(*) FROM ledger_transactions`)
	p1 := e.must(201, e.payDo(f.acct, "sd-a-1", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": a, "paid_on": today})).Body
	p2 := e.must(201, e.payDo(f.acct, "sd-a-1", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": a, "paid_on": today})).Body
	if p1["ledger_transaction_id"] != p2["ledger_transaction_id"] || p2["replayed"] != true || p1["amount"] != "50000.00" {
		t.Fatalf("replay: %v / %v", p1, p2)
	}
	var after int
	e.db.Get(&after, `SELECT count(*) FROM ledger_transactions`)
	if after != before+1 {
		t.Fatalf("%d transactions posted for one payout registered twice", after-before)
	}
	e.refusedUnchanged("paid line, other key", 409, "shareholder_distribution_line_paid", func() response {
		return e.payDo(f.acct, "sd-a-2", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": a, "paid_on": today})
	})
	e.refusedUnchanged("payout without key", 400, e.payDo(f.acct, "", "POST", sdPath(batch["id"], "/payouts"),
		map[string]any{"shareholder_id": b, "paid_on": today}).errCode(), func() response {
		return e.payDo(f.acct, "", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": b, "paid_on": today})
	})
	e.refusedUnchanged("other city payout", 404, "shareholder_distribution_not_found", func() response {
		return e.payDo(other, "sd-other", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": b, "paid_on": today})
	})
	e.refusedUnchanged("unreviewed shareholder payout", 404, "shareholder_distribution_line_not_found", func() response {
		return e.payDo(f.acct, "sd-u", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": unreviewed, "paid_on": today})
	})
	e.reconciles("a shareholder payout")
	e.must(201, e.payDo(f.acct, "sd-b", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": b, "paid_on": today}))
	last := e.must(201, e.payDo(f.acct, "sd-c", "POST", sdPath(batch["id"], "/payouts"), map[string]any{"shareholder_id": c, "paid_on": today})).Body
	if last["batch_status"] != "paid" || last["batch_status_label"] != "已打款" {
		t.Fatalf("last payout: %v", last)
	}
	e.reconciles("every shareholder payout")
	var bal string
	if err := e.db.Get(&bal, `SELECT coalesce(sum(p.amount), 0)::text FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.kind = 'minority' AND a.project_id = $1`, f.projA); err != nil {
		t.Fatal(err)
	}
	if !decimal.RequireFromString(bal).Equal(decimal.RequireFromString("-100000")) {
		t.Fatalf("minority postings of the project: %s, want -100000.00", bal)
	}

	// The report: contributed, distributed, stake; an auditor reads it, other cities see nothing of project A.
	_, auditor := e.mustUser("审计员", "auditor")
	rep := e.must(200, e.do(auditor, "GET", "/api/v1/reports/minority-shareholders?project_id="+f.proj, nil)).Body
	if rep["distributed"] != "100000.00" || len(rep["items"].([]any)) != 3 {
		t.Fatalf("report: %v", rep)
	}
	if r := e.do(other, "GET", "/api/v1/reports/minority-shareholders?project_id="+f.proj, nil); r.Status != 404 {
		t.Fatalf("other city's report of project A: %d", r.Status)
	}
	if r := e.must(200, e.do(other, "GET", "/api/v1/reports/minority-shareholders", nil)).Body; len(r["items"].([]any)) != 0 {
		t.Fatalf("other city's report: %v", r)
	}
	if x := e.do(auditor, "GET", "/api/v1/reports/minority-shareholders.xlsx", nil); x.Status != 200 || len(readSheet(t, x.Raw)) != 5 {
		t.Fatalf("report xlsx: %d", x.Status)
	}
	if r := e.do(partnerTok, "GET", "/api/v1/reports/minority-shareholders", nil); r.Status != 403 {
		t.Fatalf("partner report: %d", r.Status)
	}
}

// withMinorityKey serves e again with a secret key for both the registry
// and the shareholder distributions (the bank file unseals accounts).
func (e *env) withMinorityKey() *syncBuffer {
	e.t.Helper()
	logs := e.withShareholderKeyLogs()
	deps := e.deps
	deps.ShareholderDists = shareholderdist.NewService(e.db, deps.Config)
	s := microapp.New(deps)
	hs := httptest.NewServer(s.Handler())
	e.t.Cleanup(hs.Close)
	e.deps, e.server, e.http = deps, s, hs
	return logs
}

// Must show: register → review → distribute → pay through the API only.
// Three shareholders registered and approved by the business admin, a
// fourth submitted and never reviewed; 100,000.00 over 0.15/0.10/0.05 to
// the fen; the bank file is the one place an account number is in clear;
// the ledger reconciles after every payout.
func TestShareholderRegisterReviewDistributePay(t *testing.T) {
	e := newEnv(t)
	f := e.flowWorld()
	logs := e.withMinorityKey()
	today := civil.Today(time.Now()).String()
	accounts := []string{"6222021602012345678", "6217002870012345671", "6228480402564890018", "6214830000099998888"}
	stakes := []string{"0.15", "0.10", "0.05", "0.20"}
	var ids []int64
	for i, name := range []string{"泰山城建投资有限公司", "岱岳土地开发有限公司", "江南产业基金", "未审核公司"} {
		stem := fmt.Sprintf("9137090%dMA3C5LXX8", i)
		c, _ := shareholder.CreditCheckChar(stem)
		sh := e.must(201, e.do(f.acct, "POST", "/api/v1/shareholders", map[string]any{"name": name, "kind": "company",
			"id_number": stem + string(c), "contact": "联系人", "bank": "工商银行泰安分行", "account_number": accounts[i]})).Body
		ids = append(ids, num(sh["id"]))
		reg := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/shareholder-registrations", map[string]any{
			"shareholder_id": sh["id"], "stake": stakes[i], "contributed": "1000000.00", "contributed_on": "2024-03-01"})).Body
		reg = e.must(200, e.do(f.acct, "POST", "/api/v1/shareholder-registrations/"+itoa(num(reg["id"]))+"/submit",
			map[string]any{"version": reg["version"]})).Body
		if i < 3 {
			e.must(200, e.do(f.biz, "POST", "/api/v1/shareholder-registrations/"+itoa(num(reg["id"]))+"/review",
				map[string]any{"approve": true, "version": reg["version"]}))
		}
	}
	batch := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/shareholder-distributions",
		map[string]any{"distribution_date": "2025-06-30", "amount": "100000.00"})).Body
	lines := linesOf(batch)
	if len(lines) != 3 || lines[ids[3]] != nil {
		t.Fatalf("lines %v: the unreviewed registration must receive nothing", batch["lines"])
	}
	for i, want := range []string{"50000.00", "33333.33", "16666.67"} {
		if lines[ids[i]]["amount"] != want || lines[ids[i]]["stake"] != strings.TrimSuffix(stakes[i], "0") {
			t.Errorf("line %d: %v, want %s", i, lines[ids[i]], want)
		}
		if strings.Contains(string(e.do(f.acct, "GET", sdPath(batch["id"], ""), nil).Raw), accounts[i]) {
			t.Fatalf("a batch shows an account number in clear")
		}
	}
	batch = e.must(200, e.do(f.acct, "POST", sdPath(batch["id"], "/submit"), map[string]any{"version": batch["version"]})).Body
	batch = e.must(200, e.do(f.biz, "POST", sdPath(batch["id"], "/review"), map[string]any{"approve": true, "version": batch["version"]})).Body

	// The bank file: the numbers in clear, there only; the export is in the audit log without them.
	bf := e.do(f.acct, "GET", sdPath(batch["id"], "/bank-file.xlsx"), nil)
	if bf.Status != 200 {
		t.Fatalf("bank file: %d %s", bf.Status, bf.Raw)
	}
	rows := readSheet(t, bf.Raw)
	if len(rows) != 4 || rows[1][1] != accounts[0] || rows[1][3] != "50000.00" {
		t.Fatalf("bank file rows: %v", rows)
	}
	var logged int
	e.db.Get(&logged, `SELECT count(*) FROM audit_log WHERE action = 'shareholder_distribution.bank_file'`)
	if logged != 1 {
		t.Fatalf("bank file exports logged: %d", logged)
	}
	for _, acc := range accounts {
		var n int
		e.db.Get(&n, `SELECT count(*) FROM audit_log WHERE coalesce(before::text, '') || coalesce(after::text, '') LIKE '%' || $1 || '%'`, acc)
		if n != 0 || strings.Contains(logs.String(), acc) {
			t.Fatalf("account %s in clear in the audit log (%d) or the logs", acc, n)
		}
	}

	var before int
	e.db.Get(&before, `SELECT count(*) FROM ledger_transactions`)
	for i := 0; i < 3; i++ {
		key := fmt.Sprintf("flow-%d", i)
		body := map[string]any{"shareholder_id": ids[i], "paid_on": today}
		first := e.must(201, e.payDo(f.acct, key, "POST", sdPath(batch["id"], "/payouts"), body)).Body
		again := e.must(201, e.payDo(f.acct, key, "POST", sdPath(batch["id"], "/payouts"), body)).Body
		if again["replayed"] != true || again["ledger_transaction_id"] != first["ledger_transaction_id"] {
			t.Fatalf("payout %d registered twice: %v / %v", i, first, again)
		}
		e.reconciles(fmt.Sprintf("payout %d", i))
	}
	var after int
	e.db.Get(&after, `SELECT count(*) FROM ledger_transactions`)
	if after-before != 3 {
		t.Fatalf("%d ledger transactions for 3 payouts each registered twice", after-before)
	}
	batch = e.must(200, e.do(f.acct, "GET", sdPath(batch["id"], ""), nil)).Body
	if batch["status"] != "paid" || batch["status_label"] != "已打款" || batch["paid"] != "100000.00" {
		t.Fatalf("batch after the payouts: %v", batch)
	}
	var ext string
	e.db.Get(&ext, `SELECT b.balance::text FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id WHERE a.code = $1`,
		"external:shareholder_"+itoa(ids[0]))
	if ext != "50000.00" {
		t.Fatalf("external:shareholder_%d = %s, want 50000.00", ids[0], ext)
	}
}
