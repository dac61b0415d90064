package microapp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/opening/openingtest"
	"hehuo/internal/position"
)

// r4World is RULES R4's world through the API: 常州项目 with R1's terms
// (funding date 2024-03-01, 4.35%) and its peak agreed in DingTalk, an
// approved round allocating A–D 500,000 / 300,000 / 297,143 / 222,857, paid
// on R4's dates (B = 0.00 / −679.32 / −1,593.58 / −796.79), every partner
// with a confirmed payout account.
func (e *env) r4World() (flowWorld, []distPartner) {
	t := e.t
	t.Helper()
	f := e.flowWorld()
	e.termsAndPeak(f)
	ps := []distPartner{{userid: "r4_a", name: "甲"}, {userid: "r4_b", name: "乙"}, {userid: "r4_c", name: "丙"}, {userid: "r4_d", name: "丁"}}
	amounts := []string{"500000", "300000", "297143", "222857"}
	dates := []string{"2024-03-01", "2024-03-20", "2024-04-15", "2024-03-31"}
	alloc := map[int64]string{}
	for i := range ps {
		ps[i].user = e.partnerUser(ps[i].userid, ps[i].name, "")
		ps[i].partner = holdingtest.Partner(t, e.db, ps[i].user)
		alloc[ps[i].partner] = amounts[i]
		e.confirmPayout(ps[i].user, ps[i].name)
	}
	round := itoa(holdingtest.Round(t, e.db, f.projA, "approved", alloc))
	for i := range ps {
		e.must(201, e.payDo(f.acct, "r4-"+ps[i].userid, "POST", "/api/v1/rounds/"+round+"/payments",
			map[string]any{"user_id": ps[i].user, "amount": amounts[i], "paid_on": dates[i]}))
	}
	e.reconciles("R4's payments")
	return f, ps
}

// wantLines checks a batch's lines of ps, field by field, to the fen.
func wantLines(t *testing.T, what string, b map[string]any, ps []distPartner, want map[string][]string) {
	t.Helper()
	ls := lines(b)
	if len(ls) != len(ps) {
		t.Fatalf("%s: %d lines, want %d: %v", what, len(ls), len(ps), b["lines"])
	}
	for i, p := range ps {
		l := ls[p.partner]
		if l == nil {
			t.Fatalf("%s: no line for %s", what, p.name)
		}
		w := map[string]string{}
		for field, col := range want {
			w[field] = col[i]
		}
		wantAmounts(t, what+" "+p.name, l, w)
	}
}

// principalHeld is what each partner's principal account holds (paid in
// and not yet returned), from the ledger.
func (e *env) principalHeld(projectID int64, ps []distPartner) []string {
	e.t.Helper()
	out := make([]string, len(ps))
	for i, p := range ps {
		bal, err := ledger.Balance(context.Background(), e.db, ledger.Principal(projectID, p.partner))
		if err != nil {
			e.t.Fatal(err)
		}
		out[i] = bal.Neg().StringFixed(2)
	}
	return out
}

// Must show: RULES R6 and R7 through the API, to the fen. R4's partners:
// calculated at 100%, the principal batch is R6's example (D = 500,000.00 /
// 299,320.68 / 295,549.42 / 222,060.21); the ratio changed to 80% sends it
// back to draft, and it is calculated, saved, reviewed and agreed at 80%.
// A first profit batch of X = 100,000.00 is R7's example (37,878.79 /
// 22,727.27 / 22,510.83 / 16,883.11: split by principal as allocated,
// before the return). The second principal batch returns the rest with
// B = 0 (deducted once), and the principal returned totals the principal
// paid: every principal account is back to zero.
func TestDistributionR6R7ThroughTheAPI(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f, ps := e.r4World()
	e.agreedActualPeak(f, "220000000")

	b := e.newBatch(f, map[string]any{"kind": "principal", "distribution_date": "2025-06-30", "record_date": "2025-06-30", "return_ratio": "1"})
	if str(b["status"]) != "draft" || num(b["seq"]) != 1 || str(b["kind"]) != "principal" {
		t.Fatalf("new principal batch: %v", b)
	}
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})).Body
	wantLines(t, "R6 at 100%", b, ps, map[string][]string{
		"a": {"500000.00", "300000.00", "297143.00", "222857.00"},
		"b": {"0.00", "-679.32", "-1593.58", "-796.79"},
		"c": {"0.00", "0.00", "0.00", "0.00"},
		"d": {"500000.00", "299320.68", "295549.42", "222060.21"},
		"e": {"500000.00", "299320.68", "295549.42", "222060.21"},
	})
	for _, l := range lines(b) {
		if tr, _ := l["trace"].([]any); len(tr) == 0 {
			t.Errorf("line %v without its trace", l["name"])
		}
	}
	wantAmounts(t, "R6 合计", b["totals"].(map[string]any), map[string]string{"a": "1320000.00", "b": "-3069.69", "d": "1316930.31"})

	// 80%: the edit sends the batch back to draft; calculated again.
	b = e.must(200, e.do(f.acct, "PATCH", batchPath(b["id"], ""), map[string]any{"return_ratio": "0.8", "version": b["version"]})).Body
	if str(b["status"]) != "draft" {
		t.Fatalf("after the ratio changed: %s", b["status"])
	}
	b = e.calculated(f, b)
	eighty := map[string][]string{
		"a": {"500000.00", "300000.00", "297143.00", "222857.00"},
		"b": {"0.00", "-679.32", "-1593.58", "-796.79"},
		"d": {"400000.00", "239320.68", "236120.82", "177488.81"},
		"e": {"400000.00", "239320.68", "236120.82", "177488.81"},
	}
	wantLines(t, "R6 at 80%", b, ps, eighty)
	b = e.approved(f, b)
	wantLines(t, "R6 at 80%, approved", b, ps, eighty)
	e.reconciles("the 80% principal batch")
	if got, want := e.principalHeld(f.projA, ps), []string{"100000.00", "60000.00", "59428.60", "44571.40"}; !equalStrings(got, want) {
		t.Fatalf("principal held after 80%%: %v, want %v", got, want)
	}

	// R7: X = 100,000.00 entered directly.
	p := e.newBatch(f, map[string]any{"kind": "profit", "distribution_date": "2025-09-30", "record_date": "2025-09-30", "amount": "100000.00"})
	if num(p["seq"]) != 1 {
		t.Fatalf("first profit batch seq %v", p["seq"])
	}
	p = e.calculated(f, p)
	r7 := map[string][]string{"f": {"37878.79", "22727.27", "22510.83", "16883.11"}}
	wantLines(t, "R7", p, ps, r7)
	wantAmounts(t, "R7 合计", p["totals"].(map[string]any), map[string]string{"f": "100000.00"})
	p = e.approved(f, p)
	wantLines(t, "R7, approved", p, ps, r7)
	e.reconciles("the first profit batch")

	// The rest of the principal: B was deducted once, so it is 0 now.
	r := e.newBatch(f, map[string]any{"kind": "principal", "distribution_date": "2025-12-31", "record_date": "2025-12-31", "return_ratio": "1"})
	r = e.calculated(f, r)
	rest := map[string][]string{
		"a": {"100000.00", "60000.00", "59428.60", "44571.40"},
		"b": {"0.00", "0.00", "0.00", "0.00"},
		"d": {"100000.00", "60000.00", "59428.60", "44571.40"},
	}
	wantLines(t, "the rest of the principal", r, ps, rest)
	r = e.approved(f, r)
	e.reconciles("the second principal batch")
	if got := e.principalHeld(f.projA, ps); !equalStrings(got, []string{"0.00", "0.00", "0.00", "0.00"}) {
		t.Fatalf("principal held after the rest: %v", got)
	}
	// Returned principal totals the paid principal, partner by partner, as
	// every screen reads it (internal/position).
	pos := position.NewService(e.db, e.deps.Establishment)
	for i, p := range ps {
		got, err := pos.Of(context.Background(), nil, f.projA, p.partner, false)
		if err != nil || !got.Returned.Equal(got.Paid) || !got.Paid.Equal(dec(t, eighty["a"][i])) {
			t.Errorf("%s: returned %s of paid %s (%v)", p.name, got.Returned, got.Paid, err)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// seedWorld is the seed's project: 常州项目 with R1's terms and its peak
// agreed, whose 34 partners (invented names, the seed's 序号, flags, A and
// B) come in as opening balances (期初数据导入) through the API, each with a
// confirmed payout account, and the actual peak agreed in DingTalk.
func (e *env) seedWorld() (flowWorld, []distPartner) {
	t := e.t
	t.Helper()
	f := e.flowWorld()
	e.termsAndPeak(f)
	rows := openingtest.Seed()
	if len(rows) != len(seed34) {
		t.Fatalf("openingtest has %d rows, the seed 34", len(rows))
	}
	ps := make([]distPartner, len(rows))
	for i, l := range seed34 {
		r := rows[i]
		// The fixture and this transcription agree (two readings of the seed).
		if r.Paid != l.a || r.Interest != l.b || r.Exited != l.exited || r.Left != l.left {
			t.Fatalf("seed row %d: openingtest %+v, distribution table %+v", l.seq, r, l)
		}
		ps[i] = distPartner{userid: fmt.Sprintf("seed_%02d", l.seq), name: l.name}
		ps[i].user = e.partnerUser(ps[i].userid, l.name, "")
		e.confirmPayout(ps[i].user, l.name)
		rows[i].Name, rows[i].Account = l.name, ps[i].userid
	}
	e.must(201, e.uploadFile(f.acct, "/api/v1/projects/"+f.proj+"/opening-balances", "期初数据.xlsx", openingtest.XLSX(t, rows)))
	for i := range ps {
		ps[i].partner = holdingtest.Partner(t, e.db, ps[i].user)
	}
	e.reconciles("the opening balances")
	e.agreedActualPeak(f, openingtest.SeedPaid)
	return f, ps
}

// wantSeedLines checks a batch's lines against the seed's table: 序号,
// name, flags and the columns cols (of a, b, c, d, e, f, total) to the fen.
func wantSeedLines(t *testing.T, what string, b map[string]any, ps []distPartner, cols ...string) {
	profit := str(b["kind"]) == "profit"
	t.Helper()
	ls := lines(b)
	if len(ls) != len(seed34) {
		t.Fatalf("%s: %d lines, want 34", what, len(ls))
	}
	for i, l := range seed34 {
		got := ls[ps[i].partner]
		if got == nil {
			t.Fatalf("%s: no line for %s", what, l.name)
		}
		flags, _ := got["flags"].(map[string]any)
		if num(got["seq"]) != int64(l.seq) || str(got["name"]) != l.name || flags["exited"] != l.exited || flags["left"] != l.left {
			t.Errorf("%s: line %v %v %v, want %d %s 退 %v 离 %v", what, got["seq"], got["name"], got["flags"], l.seq, l.name, l.exited, l.left)
		}
		want := map[string]string{}
		for _, c := range cols {
			want[c] = map[string]string{"a": l.a, "b": l.b, "c": "0.00", "d": l.d, "e": l.d, "f": l.f, "total": l.d}[c]
			if profit && c == "total" {
				want[c] = l.total // 分配合计 across the batches: D + F
			}
		}
		wantAmounts(t, fmt.Sprintf("%s %d %s", what, l.seq, l.name), got, want)
	}
}

// Must show: the seed's 34-line table (如何进行手动-非测算-利润分配). Opening
// balances bring the seed's A and B; a principal batch at 100% with C empty
// is calculated, saved, reviewed and agreed in DingTalk; then the business
// admin unlocks the first profit batch (解锁编辑) and the accountant imports
// the seed's F column through 导出模板 / 导入; it is saved, reviewed and
// agreed. The batches and their export.xlsx show exactly A 8,570,917.00,
// B −1,119,979.05, D = E 7,450,937.95, F 131,980.42, 分配合计 7,582,918.37,
// line by line to the fen; the ledger reconciles after each step.
func TestDistributionSeedTableThroughTheAPI(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f, ps := e.seedWorld()

	b := e.newBatch(f, map[string]any{"kind": "principal", "distribution_date": "2020-06-19", "record_date": "2020-06-19", "return_ratio": "1"})
	b = e.calculated(f, b)
	wantSeedLines(t, "本金分配 saved", b, ps, "a", "b", "c", "d", "e", "total")
	seedTotalsOf(t, "本金分配", b, seed34Totals.d)
	b = e.approved(f, b)
	wantSeedLines(t, "本金分配 approved", b, ps, "a", "b", "c", "d", "e", "total")
	e.reconciles("the principal batch")
	wantSeedSheet(t, e.must(200, e.do(f.acct, "GET", batchPath(b["id"], "/export.xlsx"), nil)).Raw, nil)

	// The manual first profit batch: unlocked, the F column imported.
	p := e.newBatch(f, map[string]any{"kind": "profit", "distribution_date": "2020-07-01", "record_date": "2020-06-19"})
	locked := e.must(200, e.do(f.acct, "GET", batchPath(p["id"], "/template.xlsx"), nil)).Raw
	e.refusedUnchanged("an import before 解锁编辑", 422, "distribution_locked", func() response {
		return e.uploadFile(f.acct, batchPath(p["id"], "/import"), "利润分配.xlsx", locked)
	})
	p = e.must(200, e.do(f.biz, "POST", batchPath(p["id"], "/unlock"), map[string]any{"version": p["version"]})).Body
	if p["unlocked"] != true || !strings.Contains(str(p["title"]), "手工") {
		t.Fatalf("unlocked batch: %v %v", p["unlocked"], p["title"])
	}
	tpl := e.must(200, e.do(f.acct, "GET", batchPath(p["id"], "/template.xlsx"), nil)).Raw
	rows := readSheet(t, tpl)
	if len(rows) != 35 || rows[0][0] != "序号" || rows[0][2] != "姓名" {
		t.Fatalf("template: %v", rows[:1])
	}
	file := [][]any{header(rows[0])}
	for _, r := range rows[1:] {
		seq := mustInt(t, r[0])
		row := []any{r[0], r[1], r[2], r[3], seed34[seq-1].f}
		file = append(file, row)
	}
	p = e.must(200, e.uploadFile(f.acct, batchPath(p["id"], "/import"), "利润分配.xlsx", xlsxOf(t, file))).Body
	for _, l := range lines(p) {
		if l["manual"] != true || str(l["manual_by_name"]) != "环沪会计" || l["manual_at"] == nil {
			t.Fatalf("an imported line is not marked manual with who and when: %v", l)
		}
	}
	p = e.calculated(f, p)
	wantSeedLines(t, "第1次利润分配 saved", p, ps, "f", "total")
	seedTotalsOf(t, "第1次利润分配", p, seed34Totals.total)
	p = e.approved(f, p)
	wantSeedLines(t, "第1次利润分配 approved", p, ps, "f", "total")
	if p["unlocked"] == true {
		t.Errorf("the profit batch is still unlocked after its process was agreed (完成后锁定)")
	}
	e.reconciles("the profit batch")
	wantSeedSheet(t, e.must(200, e.do(f.acct, "GET", batchPath(p["id"], "/export.xlsx"), nil)).Raw, []string{"第1次利润"})

	// The partner of line 2 sees both on the phone (H5 我的分配).
	mine := e.must(200, e.do(e.signInByAuthCode(ps[1].userid), "GET", "/api/v1/me/distributions", nil)).Body["items"].([]any)
	got := map[string]string{}
	for _, it := range mine {
		m := it.(map[string]any)
		got[str(m["title"])] = str(m["principal_returned"]) + "/" + str(m["profit"])
	}
	if len(mine) != 2 || got["本金分配"] != "177366.50/0.00" || got["第1次利润分配"] != "0.00/111573.50" {
		t.Errorf("H5 我的分配 of line 2: %v", got)
	}
}

// seedTotalsOf checks a batch's 合计 row against the seed's.
func seedTotalsOf(t *testing.T, what string, b map[string]any, total string) {
	t.Helper()
	want := map[string]string{"total": total}
	if str(b["kind"]) == "principal" {
		want = map[string]string{"a": seed34Totals.a, "b": seed34Totals.b, "c": "0.00", "d": seed34Totals.d, "e": seed34Totals.d, "total": total}
	} else {
		want["f"] = seed34Totals.f
	}
	tot, _ := b["totals"].(map[string]any)
	wantAmounts(t, what+" 合计", tot, want)
}

// wantSeedSheet reads an export.xlsx back and checks it shows the seed's
// table as the seed prints it: 序号, 姓名 with 退/离, A–E, the profit
// columns profits, 分配合计 and the 合计 row, amounts as #,##0.00.
func wantSeedSheet(t *testing.T, raw []byte, profits []string) {
	t.Helper()
	rows := readSheet(t, raw)
	head := -1
	for i, r := range rows {
		if len(r) > 1 && r[0] == "序号" && r[1] == "姓名" {
			head = i
			break
		}
	}
	if head < 0 || len(rows) < head+2+34+1 {
		t.Fatalf("export: no table of 34 lines: %v", rows)
	}
	col := map[string]int{}
	for i, h := range rows[head] {
		col[h] = i
	}
	for _, h := range append([]string{"事业合伙本金", "资金利息", "其它", "本金分配 不含其它", "本金分配 含其它", "分配合计 不含其它"}, profits...) {
		if _, ok := col[h]; !ok {
			t.Fatalf("export: no column %s in %v", h, rows[head])
		}
	}
	cell := func(r []string, h string) string {
		if i := col[h]; i < len(r) {
			return r[i]
		}
		return ""
	}
	fmtAmount := grouped
	for i, l := range seed34 {
		r := rows[head+2+i]
		name := l.name
		if l.left {
			name += " 离"
		}
		if l.exited {
			name += " 退"
		}
		total := l.d
		if len(profits) > 0 {
			total = l.total
		}
		got := []string{r[0], r[1], cell(r, "事业合伙本金"), cell(r, "资金利息"), cell(r, "本金分配 不含其它"), cell(r, "本金分配 含其它"), cell(r, "分配合计 不含其它")}
		want := []string{itoa(int64(l.seq)), name, fmtAmount(l.a), fmtAmount(l.b), fmtAmount(l.d), fmtAmount(l.d), fmtAmount(total)}
		for _, p := range profits {
			got, want = append(got, cell(r, p)), append(want, fmtAmount(l.f))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("export line %d:\n got %v\nwant %v", l.seq, got, want)
		}
	}
	sum := rows[head+2+34]
	total := seed34Totals.d
	if len(profits) > 0 {
		total = seed34Totals.total
	}
	got := []string{sum[1], cell(sum, "事业合伙本金"), cell(sum, "资金利息"), cell(sum, "本金分配 不含其它"), cell(sum, "本金分配 含其它"), cell(sum, "分配合计 不含其它")}
	want := []string{"合计", fmtAmount(seed34Totals.a), fmtAmount(seed34Totals.b), fmtAmount(seed34Totals.d), fmtAmount(seed34Totals.d), fmtAmount(total)}
	for _, p := range profits {
		got, want = append(got, cell(sum, p)), append(want, fmtAmount(seed34Totals.f))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("export 合计:\n got %v\nwant %v", got, want)
	}
}

// grouped writes an amount as the seed prints it (#,##0.00): 8,570,917.00.
func grouped(s string) string {
	d := decimal.RequireFromString(s)
	sign, digits := "", d.Abs().StringFixed(2)
	if d.IsNegative() {
		sign = "-"
	}
	whole, frac, _ := strings.Cut(digits, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return sign + whole + "." + frac
}

// Must show: liquidation (清算分配). After an 80% principal batch, the
// liquidation returns the remaining principal (B already deducted) and pays
// X = 100,000.00 by R7's split; agreed in DingTalk, every principal account
// is back to zero (returned = paid for each partner), the project is
// settled and read-only (a write → 422 project_settled, changing nothing), a
// second liquidation is refused, and the liquidation's lines are still
// paid out (登记打款) on the settled project.
func TestDistributionLiquidationSettlesTheProject(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f, ps := e.r4World()
	e.agreedActualPeak(f, "220000000")
	b := e.newBatch(f, map[string]any{"kind": "principal", "distribution_date": "2025-06-30", "record_date": "2025-06-30", "return_ratio": "0.8"})
	e.approved(f, e.calculated(f, b))

	l := e.newBatch(f, map[string]any{"kind": "liquidation", "distribution_date": "2026-03-31", "record_date": "2026-03-31", "amount": "100000.00"})
	e.refusedUnchanged("a second liquidation while one is open", 422, "liquidation_exists", func() response {
		return e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/distributions", map[string]any{"kind": "liquidation"})
	})
	l = e.calculated(f, l)
	want := map[string][]string{
		"a": {"100000.00", "60000.00", "59428.60", "44571.40"},
		"b": {"0.00", "0.00", "0.00", "0.00"},
		"d": {"100000.00", "60000.00", "59428.60", "44571.40"},
		"e": {"100000.00", "60000.00", "59428.60", "44571.40"},
		"f": {"37878.79", "22727.27", "22510.83", "16883.11"},
	}
	wantLines(t, "清算分配", l, ps, want)
	l = e.approved(f, l)
	wantLines(t, "清算分配 approved", l, ps, want)
	e.reconciles("the liquidation")

	if got := e.principalHeld(f.projA, ps); !equalStrings(got, []string{"0.00", "0.00", "0.00", "0.00"}) {
		t.Fatalf("principal held after the liquidation: %v", got)
	}
	pos := position.NewService(e.db, e.deps.Establishment)
	for _, p := range ps {
		got, err := pos.Of(context.Background(), nil, f.projA, p.partner, false)
		if err != nil || !got.Returned.Equal(got.Paid) || !got.Paid.IsPositive() {
			t.Errorf("%s after the liquidation: paid %s, returned %s (%v)", p.name, got.Paid, got.Returned, err)
		}
	}
	if proj := e.must(200, e.do(f.admin, "GET", "/api/v1/projects/"+f.proj, nil)).Body; proj["is_settled"] != true {
		t.Fatalf("project after the liquidation: is_settled %v", proj["is_settled"])
	}
	// Read-only: every write is refused and changes nothing.
	e.refusedUnchanged("a second liquidation", 422, "project_settled", func() response {
		return e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/distributions", map[string]any{"kind": "liquidation"})
	})
	e.refusedUnchanged("a profit batch on a settled project", 422, "project_settled", func() response {
		return e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/distributions", map[string]any{"kind": "profit", "amount": "1.00"})
	})
	e.refusedUnchanged("an actual peak on a settled project", 422, "project_settled", func() response {
		return e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/actual-peaks", map[string]any{"actual_peak_capital": "1", "reason": "x"})
	})
	// The money still goes out: the liquidation's lines are paid.
	paid := e.must(201, e.payDo(f.acct, "liq-"+ps[0].userid, "POST", batchPath(l["id"], "/payouts"),
		map[string]any{"partner_id": ps[0].partner, "paid_on": "2026-04-01"})).Body
	if paid == nil {
		t.Fatal("no payout")
	}
	e.reconciles("a payout after the liquidation")
}

// Must show: bad inputs, each a 4xx with a Chinese message and an English
// code, changing nothing (table fingerprint) — over R4's world with a fifth
// partner 戊 who has no confirmed payout account yet; then the approval
// event delivered twice posts once, and two accountants saving the same
// batch at once get one 200 and one 409.
func TestDistributionBadInputsChangeNothing(t *testing.T) {
	e := newEnv(t).withPayoutKey()
	e.startBot()
	f, ps := e.r4World()
	// 戊: allocated 20,000 in a supplementary round, paid 10,000; no payout account.
	wu := e.partnerUser("r4_e", "戊", "")
	w := distPartner{userid: "r4_e", name: "戊", user: wu, partner: holdingtest.Partner(t, e.db, wu)}
	round2 := itoa(holdingtest.Round(t, e.db, f.projA, "approved", map[int64]string{w.partner: "20000"}))
	e.must(201, e.payDo(f.acct, "r4-e-1", "POST", "/api/v1/rounds/"+round2+"/payments",
		map[string]any{"user_id": wu, "amount": "10000", "paid_on": "2024-03-01"}))
	// Another city's accountant; a partner without a role; a second accountant of city A.
	otherID, other := e.mustUser("外地会计", "accountant")
	e.must(200, e.do(f.admin, "PUT", "/api/v1/org-units/"+itoa(f.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{otherID}}}}))
	partnerToken := e.signInByAuthCode(ps[1].userid)
	create := "/api/v1/projects/" + f.proj + "/distributions"

	// Blank inputs, and no agreed actual peak: calculate names each.
	b := e.must(201, e.do(f.acct, "POST", create, map[string]any{"kind": "principal"})).Body
	r := e.refusedUnchanged("blank inputs", 422, "inputs_incomplete", func() response {
		return e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})
	})
	for _, named := range []string{"分配日期", "本次返还比例", "实际资金峰值"} {
		if !strings.Contains(r.Raw2(), named) {
			t.Errorf("inputs_incomplete does not name %s: %s", named, r.Raw)
		}
	}
	b = e.must(200, e.do(f.acct, "PATCH", batchPath(b["id"], ""), map[string]any{"version": b["version"],
		"distribution_date": "2025-06-30", "record_date": "2025-06-30", "return_ratio": "1"})).Body
	r = e.refusedUnchanged("a principal batch before actual_peak is agreed", 422, "inputs_incomplete", func() response {
		return e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})
	})
	if !strings.Contains(r.Raw2(), "实际资金峰值") {
		t.Errorf("the refusal does not name the actual peak: %s", r.Raw)
	}
	e.agreedActualPeak(f, "220000000")

	// Amounts: three decimals; C without a reason.
	line := func(p distPartner, body map[string]any) response {
		body["version"] = b["version"]
		return e.do(f.acct, "PATCH", batchPath(b["id"], "/lines/"+itoa(p.partner)), body)
	}
	e.refusedUnchanged("a three-decimal C", 400, "amount_too_precise", func() response {
		return line(ps[0], map[string]any{"c": "100.005", "c_reason": "补发"})
	})
	e.refusedUnchanged("a three-decimal profit amount", 400, "amount_too_precise", func() response {
		return e.do(f.acct, "POST", create, map[string]any{"kind": "profit", "amount": "1.001"})
	})
	e.refusedUnchanged("a return ratio above 100%", 400, "return_ratio_invalid", func() response {
		return e.do(f.acct, "PATCH", batchPath(b["id"], ""), map[string]any{"version": b["version"], "return_ratio": "1.2"})
	})
	e.refusedUnchanged("C without a reason", 422, "c_reason_required", func() response {
		return line(ps[0], map[string]any{"c": "100.00", "c_reason": " "})
	})

	// Unsaved, then stale: 戊 pays 5,000 more after the save.
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})).Body
	e.refusedUnchanged("submitting an unsaved calculation", 422, "calculation_unsaved", func() response {
		return e.do(f.acct, "POST", batchPath(b["id"], "/submit"), map[string]any{"version": b["version"]})
	})
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/save"), map[string]any{"version": b["version"]})).Body
	e.must(201, e.payDo(f.acct, "r4-e-2", "POST", "/api/v1/rounds/"+round2+"/payments",
		map[string]any{"user_id": wu, "amount": "5000", "paid_on": "2024-03-01"}))
	e.refusedUnchanged("submitting a stale calculation", 409, "calculation_stale", func() response {
		return e.do(f.acct, "POST", batchPath(b["id"], "/submit"), map[string]any{"version": b["version"]})
	})
	e.refusedUnchanged("submitting an old version", 409, "stale_version", func() response {
		return e.do(f.acct, "POST", batchPath(b["id"], "/submit"), map[string]any{"version": num(b["version"]) - 1})
	})
	b = e.calculated(f, e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})).Body)
	if l := lines(b)[w.partner]; l == nil || str(l["a"]) != "15000.00" {
		t.Fatalf("戊's line after the second payment: %v", l)
	}

	// 戊 has no confirmed payout account: named, nothing submitted.
	r = e.refusedUnchanged("a partner without a confirmed payout account", 422, "payout_account_missing", func() response {
		return e.do(f.acct, "POST", batchPath(b["id"], "/submit"), map[string]any{"version": b["version"]})
	})
	if !strings.Contains(r.Raw2(), "戊") {
		t.Errorf("the refusal does not name 戊: %s", r.Raw)
	}
	e.confirmPayout(wu, "戊")

	// Two accountants save the same calculation at once: one wins, one 409.
	secondID, second := e.mustUser("环沪会计乙", "accountant")
	e.must(200, e.do(f.admin, "PUT", "/api/v1/org-units/"+itoa(f.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{e.userID("acct_huanhu"), secondID}}}}))
	b = e.must(200, e.do(f.acct, "PATCH", batchPath(b["id"], ""), map[string]any{"version": b["version"], "return_ratio": "0.8"})).Body
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})).Body
	results := make(chan response, 2)
	for _, tok := range []string{f.acct, second} {
		go func(tok string) {
			results <- e.do(tok, "POST", batchPath(b["id"], "/save"), map[string]any{"version": b["version"]})
		}(tok)
	}
	got := map[int]int{}
	var saved map[string]any
	for range 2 {
		r := <-results
		got[r.Status]++
		if r.Status == 200 {
			saved = r.Body
		} else if r.errCode() != "stale_version" {
			t.Errorf("the losing save: %d %s", r.Status, r.Raw)
		}
	}
	if got[200] != 1 || got[409] != 1 {
		t.Fatalf("two saves at once: %v, want one 200 and one 409", got)
	}
	b = e.must(200, e.do(f.acct, "POST", batchPath(b["id"], "/submit"), map[string]any{"version": saved["version"]})).Body

	// Locked once submitted: no edit of a line or of the batch.
	e.refusedUnchanged("a line edit while locked", 422, "distribution_locked", func() response {
		return line(ps[0], map[string]any{"c": "100.00", "c_reason": "补发"})
	})
	e.refusedUnchanged("a batch edit while locked", 422, "distribution_locked", func() response {
		return e.do(f.acct, "PATCH", batchPath(b["id"], ""), map[string]any{"version": b["version"], "return_ratio": "1"})
	})
	// Wrong roles and another project's batch.
	e.refusedUnchanged("the accountant reviewing", 403, "forbidden", func() response {
		return e.do(f.acct, "POST", batchPath(b["id"], "/review"), map[string]any{"approve": true, "version": b["version"]})
	})
	e.refusedUnchanged("a partner reading the batch", 403, "forbidden", func() response {
		return e.do(partnerToken, "GET", batchPath(b["id"], ""), nil)
	})
	e.refusedUnchanged("the business admin unlocking a submitted batch", 422, "distribution_locked", func() response {
		return e.do(f.biz, "POST", batchPath(b["id"], "/unlock"), map[string]any{"version": b["version"]})
	})
	e.refusedUnchanged("another city's accountant", 404, "distribution_not_found", func() response {
		return e.do(other, "GET", batchPath(b["id"], ""), nil)
	})
	e.refusedUnchanged("another city's accountant calculating", 404, "distribution_not_found", func() response {
		return e.do(other, "POST", batchPath(b["id"], "/calculate"), map[string]any{"version": b["version"]})
	})

	// Agreed in DingTalk; the event delivered again posts nothing more.
	b = e.must(200, e.do(f.biz, "POST", batchPath(b["id"], "/review"), map[string]any{"approve": true, "version": b["version"]})).Body
	proc := e.launchBatch(f, b)
	e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
	before := fingerprint(t, e.db)
	e.deliverApprovals(map[string]bool{}, true) // every event again, as DingTalk may
	if fingerprint(t, e.db) != before {
		t.Fatal("an approval event delivered twice changed the database")
	}
	var posted int
	if err := e.db.Get(&posted, `SELECT count(*) FROM ledger_transactions WHERE kind = 'principal_distribution'`); err != nil || posted != 1 {
		t.Fatalf("principal_distribution transactions: %d (%v), want 1", posted, err)
	}
	e.reconciles("the approval delivered twice")

	// Payout registration: one key twice is one transaction; another key for the same line is refused.
	pay := func(key string) response {
		return e.payDo(f.acct, key, "POST", batchPath(b["id"], "/payouts"), map[string]any{"partner_id": ps[1].partner, "paid_on": "2025-07-01"})
	}
	first := e.must(201, pay("payout-b-1"))
	again := e.must(201, pay("payout-b-1"))
	if num(first.Body["ledger_transaction_id"]) != num(again.Body["ledger_transaction_id"]) || again.Body["replayed"] != true ||
		str(again.Body["paid_amount"]) != "239320.68" {
		t.Errorf("a replayed payout:\n%s\n%s", first.Raw, again.Raw)
	}
	e.refusedUnchanged("the same line paid under another key", 409, "distribution_line_paid", func() response { return pay("payout-b-2") })
	if err := e.db.Get(&posted, `SELECT count(*) FROM ledger_transactions WHERE kind = 'distribution_payout'`); err != nil || posted != 1 {
		t.Fatalf("payout transactions: %d (%v), want 1", posted, err)
	}

	// The manual import: unknown partner, bad row — all rows or none.
	p := e.must(201, e.do(f.acct, "POST", create, map[string]any{"kind": "profit", "distribution_date": "2025-09-30", "record_date": "2025-09-30"})).Body
	p = e.must(200, e.do(f.biz, "POST", batchPath(p["id"], "/unlock"), map[string]any{"version": p["version"]})).Body
	tpl := readSheet(t, e.must(200, e.do(f.acct, "GET", batchPath(p["id"], "/template.xlsx"), nil)).Raw)
	withRow := func(change func(row []any) []any) []byte {
		rows := [][]any{header(tpl[0])}
		for i, r := range tpl[1:] {
			row := []any{r[0], r[1], r[2], r[3], "1000.00"}
			if i == 1 {
				row = change(row)
			}
			rows = append(rows, row)
		}
		return xlsxOf(t, rows)
	}
	e.refusedUnchanged("an import naming an unknown partner", 400, "import_invalid", func() response {
		return e.uploadFile(f.acct, batchPath(p["id"], "/import"), "利润分配.xlsx",
			withRow(func(row []any) []any { row[1], row[2] = "999999", "无名氏"; return row }))
	})
	r = e.refusedUnchanged("an import with a bad amount", 400, "import_invalid", func() response {
		return e.uploadFile(f.acct, batchPath(p["id"], "/import"), "利润分配.xlsx",
			withRow(func(row []any) []any { row[4] = "12.345"; return row }))
	})
	if !strings.Contains(r.Raw2(), "第3行") {
		t.Errorf("the import error does not name its row: %s", r.Raw)
	}
}
