package disclosure

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/money"
	"hehuo/internal/org"
	"hehuo/internal/workflow"
)

func codeOf(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return ""
}

func amt(s string) *money.Amount { a := money.AmountOf(money.MustParse(s)); return &a }

// The 立项 vs 动态 table: 货值, then every indicator of 盈利指标 in its
// order with 回款 after 销售收入, the difference only where both are
// entered, amounts to the fen.
func TestCompareFollowsTheEstablishmentIndicators(t *testing.T) {
	months, r := 30, "0.08"
	base := Values{NetProfit: amt("40000000.00"), NetMargin: &r, PaybackMonths: &months}
	m2, r2 := 28, "0.0725"
	got := compare(base, Values{NetProfit: amt("38500000.55"), SalesRevenue: amt("1.00"), NetMargin: &r2, PaybackMonths: &m2,
		SaleableValue: amt("880000000.00"), Collections: amt("310000000.25")})
	order := []string{"saleable_value"}
	for _, l := range establishment.IndicatorLabels {
		order = append(order, l.Field)
		if l.Field == "sales_revenue" {
			order = append(order, "collections")
		}
	}
	if len(got) != len(order) {
		t.Fatalf("%d rows, want %d", len(got), len(order))
	}
	for i, f := range order {
		if got[i].Field != f || got[i].Label != label(f) || got[i].Label == f {
			t.Fatalf("row %d: %s %s, want %s", i, got[i].Field, got[i].Label, f)
		}
	}
	if got[0].Label != "货值" || *got[0].Value != "880000000.00" || got[0].Baseline != nil || got[0].Difference != nil {
		t.Errorf("货值 has no 立项 baseline: %+v", got[0])
	}
	if got[2].Label != "回款" || *got[2].Value != "310000000.25" || got[2].Baseline != nil {
		t.Errorf("回款 after 销售收入: %+v", got[2])
	}
	want := map[string][3]string{
		"net_profit":     {"40000000.00", "38500000.55", "-1499999.45"},
		"net_margin":     {"0.08", "0.0725", "-0.0075"},
		"payback_months": {"30", "28", "-2"},
	}
	for _, c := range got {
		w, ok := want[c.Field]
		switch {
		case ok && (c.Baseline == nil || c.Value == nil || c.Difference == nil || *c.Baseline != w[0] || *c.Value != w[1] || *c.Difference != w[2]):
			t.Errorf("%s: %v %v %v, want %v", c.Field, c.Baseline, c.Value, c.Difference, w)
		case c.Field == "sales_revenue" && (c.Baseline != nil || *c.Value != "1.00" || c.Difference != nil):
			t.Errorf("sales_revenue without a baseline: %+v", c)
		}
	}
	if d := display("ratio", got[6].Difference); d != "-0.75%" {
		t.Errorf("ratio difference displayed %q", d)
	}
	if d := display("amount", got[4].Difference); d != "-1,499,999.45" {
		t.Errorf("amount difference displayed %q", d)
	}
}

// fixture is a project with partners on real Postgres.
type fixture struct {
	d       *db.DB
	s       *Service
	project int64
	acct    audit.Actor
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	d := dbtest.New(t)
	est := establishment.NewService(d, nil)
	f := fixture{d: d, s: NewService(d, est, nil)}
	f.project = holdingtest.Project(t, d, holdingtest.CityCompany(t, d, "马鞍山城市公司"), "马鞍山-林语春风")
	u, err := org.NewService(d).CreateUser(context.Background(), audit.System, org.UserInput{Name: "会计"})
	if err != nil {
		t.Fatal(err)
	}
	f.acct = audit.Actor{ID: &u.ID, Name: "会计"}
	return f
}

// agree runs the disclosure effect of period id as the process center
// does: Prepare, Launched and Agreed, each in its transaction.
func (f fixture) agree(t *testing.T, id int64, processID int64) {
	t.Helper()
	ctx := context.Background()
	e := f.s.effect()
	inst := workflow.Instance{ID: processID, ProjectID: f.project, SubjectID: id, Kind: workflow.KindDisclosure}
	for _, step := range []func(*sqlx.Tx) error{
		func(tx *sqlx.Tx) error {
			_, err := e.Prepare(ctx, tx, workflow.Launch{ProjectID: f.project, SubjectID: id, Kind: workflow.KindDisclosure})
			return err
		},
		func(tx *sqlx.Tx) error { return e.Launched(ctx, tx, inst) },
		func(tx *sqlx.Tx) error { return e.Agreed(ctx, tx, inst) },
		func(tx *sqlx.Tx) error { return e.Agreed(ctx, tx, inst) }, // a repeated event: nothing new
	} {
		if err := f.d.InTx(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
}

// One merged send: 150 partners with the same news share two queued rows
// (100 + 50); a partner without DingTalk, a disabled one and a partner
// who no longer holds anything are left out; the disclosure is sent once.
func TestSendGroupsPartnersAndSkipsThoseWhoCannotReceive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	orgs := org.NewService(f.d)
	alloc := map[int64]string{}
	for i := 0; i < 150; i++ {
		u, err := orgs.CreateUser(ctx, audit.System, org.UserInput{Name: fmt.Sprintf("合伙人%03d", i), DingTalkUserID: fmt.Sprintf("dis_%03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		alloc[holdingtest.Partner(t, f.d, u.ID)] = "10000"
	}
	noDT, err := orgs.CreateUser(ctx, audit.System, org.UserInput{Name: "无钉钉"})
	if err != nil {
		t.Fatal(err)
	}
	alloc[holdingtest.Partner(t, f.d, noDT.ID)] = "10000"
	off, err := orgs.CreateUser(ctx, audit.System, org.UserInput{Name: "已停用", DingTalkUserID: "dis_off"})
	if err != nil {
		t.Fatal(err)
	}
	f.d.MustExec(`UPDATE users SET disabled_at = now() WHERE id = $1`, off.ID)
	alloc[holdingtest.Partner(t, f.d, off.ID)] = "10000"
	holdingtest.Round(t, f.d, f.project, "approved", alloc)
	gone, err := orgs.CreateUser(ctx, audit.System, org.UserInput{Name: "已退出", DingTalkUserID: "dis_gone"})
	if err != nil {
		t.Fatal(err)
	}
	gonePartner := holdingtest.Partner(t, f.d, gone.ID)
	holdingtest.Pay(t, f.d, f.project, gonePartner, "5000")
	holdingtest.ReturnPrincipal(t, f.d, f.project, gonePartner, "5000")

	u, err := f.s.Create(ctx, f.acct, f.project, Input{PeriodOn: civil.Date{Year: 2026, Month: 9, Day: 30}, Values: Values{NetProfit: amt("1.00")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Send(ctx, f.acct, *f.acct.ID, Scope{All: true}, SendInput{}); codeOf(err) != "disclosures_none_pending" {
		t.Fatalf("send before any agreement: %v", err)
	}
	f.agree(t, u.ID, 9001)
	got, _ := f.s.Get(ctx, u.ID)
	if got.Status != StatusDisclosed {
		t.Fatalf("period after agreement: %s", got.Status)
	}
	if _, err := f.s.Update(ctx, f.acct, u.ID, Input{PeriodOn: u.PeriodOn, Values: Values{NetProfit: amt("2.00")}, Version: got.Version}); codeOf(err) != "profit_update_locked" {
		t.Fatalf("editing a disclosed period: %v", err)
	}
	res, err := f.s.Send(ctx, f.acct, *f.acct.ID, Scope{All: true}, SendInput{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partners != 150 || res.Notices != 2 || res.Disclosures != 1 {
		t.Fatalf("send: %+v", res)
	}
	var rows []struct {
		Recipients pq.StringArray `db:"recipients"`
	}
	if err := f.d.Select(&rows, `SELECT array_agg(d.recipient ORDER BY d.recipient) AS recipients FROM notify_outbox o
		JOIN notify_deliveries d ON d.outbox_id = o.id WHERE o.dedupe_key LIKE 'disclosure:send:%' GROUP BY o.id ORDER BY o.id`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(rows[0].Recipients) != 100 || len(rows[1].Recipients) != 50 {
		t.Fatalf("outbox rows: %d", len(rows))
	}
	all := strings.Join(append(rows[0].Recipients, rows[1].Recipients...), ",")
	for _, skipped := range []string{"dis_off", "dis_gone"} {
		if strings.Contains(all, skipped) {
			t.Errorf("%s received the notice", skipped)
		}
	}
	list, err := f.s.Disclosures(ctx, Scope{All: true})
	if err != nil || len(list) != 1 || list[0].Status != SendSent || len(list[0].NoticeIDs) != 2 || list[0].Partners != 152 {
		t.Fatalf("disclosures after the send: %+v %v", list, err)
	}
	if _, err := f.s.Send(ctx, f.acct, *f.acct.ID, Scope{All: true}, SendInput{}); codeOf(err) != "disclosures_none_pending" {
		t.Fatalf("a second send: %v", err)
	}
	// Another scope sees nothing of it.
	if list, err := f.s.Disclosures(ctx, Scope{IDs: []int64{f.project + 1}}); err != nil || len(list) != 0 {
		t.Fatalf("other scope: %+v %v", list, err)
	}
}
