package microapp_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/payout"
)

// The helpers of the distribution tests (distributions_flow_test.go): each
// step goes through the real routes, and the ledger is reconciled after each.

// distPartner is a partner of a distribution test: a DingTalk user with a
// confirmed payout account.
type distPartner struct {
	userid, name string
	user         int64
	partner      int64
}

// confirmPayout gives user a confirmed payout account, as the partner would
// in H5 (我的分配账户, then 确认 on the confirmation notice).
func (e *env) confirmPayout(user int64, holder string) {
	e.t.Helper()
	ctx := context.Background()
	acc, err := e.deps.Payout.Save(ctx, audit.System, user, payout.Input{
		Bank: "招商银行", Branch: "常州分行", Holder: holder, Number: fmt.Sprintf("62148302%08d", user)})
	if err != nil {
		e.t.Fatalf("payout account of %s: %v", holder, err)
	}
	if _, err := e.deps.Payout.Confirm(ctx, audit.System, user, acc.Version); err != nil {
		e.t.Fatalf("confirm the payout account of %s: %v", holder, err)
	}
}

// reconciles checks the ledger now (newEnv checks it again at cleanup).
func (e *env) reconciles(step string) {
	e.t.Helper()
	if e.t.Failed() {
		return
	}
	ledgertest.AssertReconciles(e.t, e.db)
	if e.t.Failed() {
		e.t.Fatalf("the ledger does not reconcile after %s", step)
	}
}

// agreedActualPeak confirms the project's actual peak (实际资金峰值确认)
// through its process, agreed in DingTalk.
func (e *env) agreedActualPeak(f flowWorld, capital string) map[string]any {
	e.t.Helper()
	peak := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/actual-peaks",
		map[string]any{"actual_peak_capital": capital, "reason": "实际资金峰值确认"})).Body
	proc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
		map[string]any{"kind": "actual_peak", "subject_id": num(peak["id"]), "form": map[string]string{"情况说明": "实际资金峰值确认"}})).Body
	e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
	return peak
}

func batchPath(id any, suffix string) string {
	return "/api/v1/distributions/" + itoa(num(id)) + suffix
}

// batch reads a batch.
func (e *env) batch(token string, id any) map[string]any {
	e.t.Helper()
	return e.must(200, e.do(token, "GET", batchPath(id, ""), nil)).Body
}

// newBatch creates a batch of the project.
func (e *env) newBatch(f flowWorld, body map[string]any) map[string]any {
	e.t.Helper()
	return e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/distributions", body)).Body
}

// calculated calculates and saves the batch (测算, 保存) and returns it saved.
func (e *env) calculated(f flowWorld, b map[string]any) map[string]any {
	e.t.Helper()
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})).Body
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/save"), map[string]any{"version": b["version"]})).Body
	if str(b["status"]) != "saved" {
		e.t.Fatalf("saved batch: %s", b["status"])
	}
	return b
}

// approved submits the saved batch (申请发布审核), has the business admin
// review it, launches its process and agrees it in DingTalk.
func (e *env) approved(f flowWorld, b map[string]any) map[string]any {
	e.t.Helper()
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/submit"), map[string]any{"version": b["version"]})).Body
	b = e.must(200, e.do(f.biz, "POST", batchPath(b["id"], "/review"), map[string]any{"approve": true, "reason": "", "version": b["version"]})).Body
	if str(b["status"]) != "reviewed" {
		e.t.Fatalf("reviewed batch: %s", b["status"])
	}
	proc := e.launchBatch(f, b)
	e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
	b = e.batch(f.acct, b["id"])
	if str(b["status"]) != "approved" {
		e.t.Fatalf("batch after its process was agreed: %s", b["status"])
	}
	return b
}

// processKind is the process of a batch kind.
var processKind = map[string]string{"principal": "principal_distribution", "profit": "profit_distribution", "liquidation": "liquidation"}

// launchBatch launches the reviewed batch's process.
func (e *env) launchBatch(f flowWorld, b map[string]any) map[string]any {
	e.t.Helper()
	return e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes", map[string]any{
		"kind": processKind[str(b["kind"])], "subject_id": num(b["id"]), "form": map[string]string{"情况说明": str(b["title"])}})).Body
}

// lines returns a batch's lines by partner id.
func lines(b map[string]any) map[int64]map[string]any {
	out := map[int64]map[string]any{}
	ls, _ := b["lines"].([]any)
	for _, l := range ls {
		m := l.(map[string]any)
		out[num(m["partner_id"])] = m
	}
	return out
}

// wantAmounts fails unless each field of m is the wanted amount to the fen.
func wantAmounts(t *testing.T, what string, m map[string]any, want map[string]string) {
	t.Helper()
	for field, w := range want {
		got, err := decimal.NewFromString(str(m[field]))
		if err != nil || !got.Equal(decimal.RequireFromString(w)) || !strings.Contains(str(m[field]), ".") {
			t.Errorf("%s: %s = %v, want %s", what, field, m[field], w)
		}
	}
}

// refusedUnchanged runs a request that must be refused with status and
// code, a Chinese message, and nothing changed in the database.
func (e *env) refusedUnchanged(what string, status int, code string, req func() response) response {
	e.t.Helper()
	before := fingerprint(e.t, e.db)
	r := req()
	if r.Status != status || r.errCode() != code {
		e.t.Fatalf("%s: got %d %s, want %d %s", what, r.Status, r.Raw, status, code)
	}
	msg, _ := r.Body["error"].(map[string]any)["message"].(string)
	if !hasHan(msg) {
		e.t.Errorf("%s: message %q is not Chinese", what, msg)
	}
	if fingerprint(e.t, e.db) != before {
		e.t.Fatalf("%s: a refused request changed the database", what)
	}
	return r
}

// readSheet reads the first sheet of an xlsx as rows of cell strings.
func readSheet(t *testing.T, raw []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("open xlsx: %v (%d bytes)", err, len(raw))
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// xlsxOf writes rows into the first sheet of a new workbook.
func xlsxOf(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// userID is the id of the user with DingTalk userid.
func (e *env) userID(userid string) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `SELECT id FROM users WHERE dingtalk_userid = $1`, userid); err != nil {
		e.t.Fatalf("user %s: %v", userid, err)
	}
	return id
}
