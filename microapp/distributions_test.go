package microapp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/distribution"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/payment"
)

// mustDistributionFixture stores a draft principal batch of the project
// (no lines), so that /distributions/{id} paths have a real id.
func (e *env) mustDistributionFixture(projectID int64) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO distribution_batches (project_id, kind, seq, created_by_name)
		VALUES ($1, 'principal', (SELECT coalesce(max(seq), 0) + 1 FROM distribution_batches WHERE project_id = $1 AND kind = 'principal'), '测试')
		RETURNING id`, projectID); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// fillDistributionPath puts a real batch id into /distributions/:id paths.
func fillDistributionPath(p string, batchID int64) string {
	const prefix = "/api/v1/distributions/:id"
	if strings.HasPrefix(p, prefix) {
		return "/api/v1/distributions/" + itoa(batchID) + p[len(prefix):]
	}
	return p
}

// distributionWorld is R1–R4's project A through the services: terms, R3's
// city tier in an approved round, paid as R4's example, every partner with
// a confirmed payout account, and an agreed actual peak.
func (e *env) distributionWorld(w world) (users, partners []int64) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	if _, err := e.deps.Establishment.PutTerms(ctx, audit.System, w.projA, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatal(err)
	}
	amounts := []string{"500000", "300000", "297143", "222857"}
	paidOn := []civil.Date{{Year: 2024, Month: 3, Day: 1}, {Year: 2024, Month: 3, Day: 20}, {Year: 2024, Month: 4, Day: 15}, {Year: 2024, Month: 3, Day: 31}}
	alloc := map[int64]string{}
	for i, name := range []string{"分配甲", "分配乙", "分配丙", "分配丁"} {
		id, _ := e.dutyUser(name, fmt.Sprintf("D90%d", i))
		users = append(users, id)
		partners = append(partners, holdingtest.Partner(t, e.db, id))
		alloc[partners[i]] = amounts[i]
		e.db.MustExec(`INSERT INTO payout_accounts (user_id, bank, branch, holder, number_enc, number_last4, status, confirmed_at)
			VALUES ($1, '招商银行', '上海分行', $2, 'v1:sealed', '0123', 'confirmed', now())`, id, name)
	}
	round := holdingtest.Round(t, e.db, w.projA, "approved", alloc)
	for i := range users {
		if _, err := e.deps.Payments.Confirm(ctx, audit.System, round, fmt.Sprintf("dist-pay-%d", i),
			payment.Input{UserID: users[i], Amount: amounts[i], PaidOn: paidOn[i]}); err != nil {
			t.Fatal(err)
		}
	}
	e.db.MustExec(`INSERT INTO actual_peaks (project_id, actual_peak_capital, status, agreed_at, created_by_name)
		VALUES ($1, 210000000, 'agreed', now(), '测试')`, w.projA)
	return users, partners
}

// Must show: R6's example through the API to the fen (a principal batch at
// 100%, C empty), calculated, saved, submitted and reviewed by another
// business admin; bad inputs refused changing nothing; a partner's token
// refused (wrong role) and another project's batch 404 for an accountant
// granted only city A.
func TestDistributionR6ThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.dutyUser("分配会计", "D800", "accountant")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	biz := e.signIn("hhadmin", bizadminPassword)
	users, partners := e.distributionWorld(w)
	partnerToken := func() string {
		t.Helper()
		token, _, err := e.deps.Auth.SignInUser(context.Background(), users[0])
		if err != nil {
			t.Fatal(err)
		}
		return token
	}()
	proj := itoa(w.projA)

	before := fingerprint(t, e.db)
	e.refused(400, "kind_invalid", e.do(acct, "POST", "/api/v1/projects/"+proj+"/distributions", map[string]any{"kind": "bonus"}))
	e.refused(400, "return_ratio_invalid", e.do(acct, "POST", "/api/v1/projects/"+proj+"/distributions",
		map[string]any{"kind": "principal", "return_ratio": "1.5"}))
	e.refused(403, "forbidden", e.do(partnerToken, "POST", "/api/v1/projects/"+proj+"/distributions", map[string]any{"kind": "principal"}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused creations changed the database")
	}

	b := e.must(201, e.do(acct, "POST", "/api/v1/projects/"+proj+"/distributions", map[string]any{"kind": "principal",
		"distribution_date": "2026-06-30", "record_date": "2026-06-20"})).Body
	id := itoa(num(b["id"]))
	if b["kind"] != "principal" || num(b["seq"]) != 1 || b["status"] != "draft" || b["status_label"] != "待测算" || len(b["lines"].([]any)) != 4 {
		t.Fatalf("batch %v", b)
	}
	// The ratio is blank: named.
	before = fingerprint(t, e.db)
	r := e.do(acct, "POST", "/api/v1/distributions/"+id+"/calculate", nil)
	e.refused(422, "inputs_incomplete", r)
	if !strings.Contains(string(r.Raw), "return_ratio") || !strings.Contains(string(r.Raw), "本次返还比例") {
		t.Fatalf("blank ratio not named: %s", r.Raw)
	}
	// Three decimals and C without a reason.
	line := "/api/v1/distributions/" + id + "/lines/" + itoa(partners[1])
	e.refused(400, "amount_too_precise", e.do(acct, "PATCH", line, map[string]any{"version": b["version"], "c": "1.005", "c_reason": "x"}))
	e.refused(422, "c_reason_required", e.do(acct, "PATCH", line, map[string]any{"version": b["version"], "c": "-100"}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused requests changed the database")
	}

	b = e.must(200, e.do(acct, "PATCH", "/api/v1/distributions/"+id, map[string]any{"version": b["version"], "return_ratio": "1"})).Body
	b = e.must(200, e.do(acct, "POST", "/api/v1/distributions/"+id+"/calculate", map[string]any{"version": b["version"]})).Body
	want := []string{"500000.00", "299320.68", "295549.42", "222060.21"}
	for i, l := range b["lines"].([]any) {
		line := l.(map[string]any)
		if line["d"] != want[i] || line["e"] != want[i] || line["total"] != want[i] || line["c"] != "0.00" ||
			num(line["partner_id"]) != partners[i] || num(line["user_id"]) != users[i] || len(line["trace"].([]any)) != 4 {
			t.Errorf("line %d: %v, want D = E = %s", i, line, want[i])
		}
	}
	if totals := b["totals"].(map[string]any); !dec(t, totals["d"]).Equal(decimal.RequireFromString("1316930.31")) {
		t.Fatalf("totals %v", totals)
	}
	e.refused(403, "forbidden", e.do(partnerToken, "POST", "/api/v1/distributions/"+id+"/save", map[string]any{"version": b["version"]}))
	e.refused(422, "calculation_unsaved", e.do(acct, "POST", "/api/v1/distributions/"+id+"/submit", map[string]any{"version": b["version"]}))
	b = e.must(200, e.do(acct, "POST", "/api/v1/distributions/"+id+"/save", map[string]any{"version": b["version"]})).Body
	e.refused(409, "stale_version", e.do(acct, "POST", "/api/v1/distributions/"+id+"/submit", map[string]any{"version": num(b["version"]) - 1}))
	b = e.must(200, e.do(acct, "POST", "/api/v1/distributions/"+id+"/submit", map[string]any{"version": b["version"]})).Body
	e.refused(403, "forbidden", e.do(acct, "POST", "/api/v1/distributions/"+id+"/review", map[string]any{"approve": true, "version": b["version"]}))
	b = e.must(200, e.do(biz, "POST", "/api/v1/distributions/"+id+"/review", map[string]any{"approve": true, "version": b["version"]})).Body
	if b["status"] != "reviewed" || b["status_label"] != "审核通过" {
		t.Fatalf("reviewed %v", b)
	}
	list := e.must(200, e.do(acct, "GET", "/api/v1/projects/"+proj+"/distributions", nil)).Body
	if items := list["items"].([]any); len(items) != 1 {
		t.Fatalf("list %v", list)
	}

	// Another project's batch: 404 for an accountant granted city A only.
	other, err := e.deps.Distributions.CreateBatch(context.Background(), audit.System, w.projB, distribution.CreateInput{Kind: "principal"})
	if err != nil {
		t.Fatal(err)
	}
	before = fingerprint(t, e.db)
	otherPath := "/api/v1/distributions/" + itoa(other.ID)
	e.refused(404, "distribution_not_found", e.do(acct, "GET", otherPath, nil))
	e.refused(404, "distribution_not_found", e.do(acct, "PATCH", otherPath, map[string]any{"version": other.Version, "return_ratio": "1"}))
	e.refused(404, "distribution_not_found", e.do(acct, "DELETE", otherPath, nil))
	e.refused(404, "project_not_found", e.do(acct, "GET", "/api/v1/projects/"+itoa(w.projB)+"/distributions", nil))
	if fingerprint(t, e.db) != before {
		t.Fatal("out-of-scope requests changed the database")
	}
}
