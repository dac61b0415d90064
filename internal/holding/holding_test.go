package holding_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"hehuo/internal/audit"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/holding"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger/ledgertest"
	"hehuo/internal/org"
)

func TestForPartnerDerivesFiguresFromPostings(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	ledgertest.ReconcileAtCleanup(t, d)
	city := holdingtest.CityCompany(t, d, "昆明城市公司")
	a := holdingtest.Project(t, d, city, "滇池壹号")
	b := holdingtest.Project(t, d, city, "春城花园")
	const me, other = 7, 8

	holdingtest.Pay(t, d, a, me, "100000.00")
	holdingtest.Pay(t, d, a, me, "23456.78")
	wrong := holdingtest.Pay(t, d, a, me, "99999.99") // mistyped, then reversed
	holdingtest.Reverse(t, d, wrong)
	holdingtest.ReturnPrincipal(t, d, a, me, "20000.50")
	holdingtest.PayProfit(t, d, a, me, "3210.01")
	holdingtest.AllocateProfit(t, d, a, me, "500.00") // allocated, not yet paid
	holdingtest.Pay(t, d, b, me, "50000.00")
	holdingtest.Pay(t, d, b, other, "80000.00") // someone else's stake

	got, err := holding.NewService(d, nil).ForPartner(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id                                      int64
		name, principal, paid, returned, profit string
	}{
		{a, "滇池壹号", "123456.78", "123456.78", "20000.50", "3210.01"},
		{b, "春城花园", "50000.00", "50000.00", "0", "0"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d holdings %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ProjectID != w.id || g.ProjectName != w.name {
			t.Errorf("holding %d: project %d %q, want %d %q", i, g.ProjectID, g.ProjectName, w.id, w.name)
		}
		for _, f := range []struct {
			field string
			got   decimal.Decimal
			want  string
		}{{"principal", g.Principal, w.principal}, {"paid", g.Paid, w.paid}, {"returned", g.Returned, w.returned}, {"profit", g.ProfitReceived, w.profit}} {
			if !f.got.Equal(decimal.RequireFromString(f.want)) {
				t.Errorf("%s %s: got %s, want %s", w.name, f.field, f.got, f.want)
			}
		}
	}
}

// The principal subscribed is the principal in force of approved rounds;
// a project with an allocation and no payment yet is listed too.
func TestForPartnerUsesCommitmentsWhenKnown(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	city := holdingtest.CityCompany(t, d, "环沪城市公司")
	a := holdingtest.Project(t, d, city, "海上明珠")
	b := holdingtest.Project(t, d, city, "江南府")
	holdingtest.Round(t, d, a, "approved", map[int64]string{3: "50000"})
	holdingtest.Round(t, d, b, "approved", map[int64]string{3: "20000"})
	holdingtest.Round(t, d, b, "submitted", map[int64]string{3: "90000"}) // commits nobody yet
	holdingtest.Pay(t, d, a, 3, "30000.00")

	got, err := holding.NewService(d, nil).ForPartner(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %+v, want a paid and a committed-only project", got)
	}
	if !got[0].Principal.Equal(decimal.RequireFromString("50000")) || !got[0].Paid.Equal(decimal.RequireFromString("30000")) {
		t.Errorf("partly paid: %+v", got[0])
	}
	if got[1].ProjectName != "江南府" || !got[1].Principal.Equal(decimal.RequireFromString("20000")) || !got[1].Paid.IsZero() {
		t.Errorf("committed, unpaid: %+v", got[1])
	}
}

func TestForPartnerWithoutStakes(t *testing.T) {
	d := dbtest.New(t)
	got, err := holding.NewService(d, nil).ForPartner(context.Background(), 42)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %+v, %v; want none", got, err)
	}
}

// TestForUserReadsApprovedAllocations: a user's stakes are those of their
// partner (partners.id, not users.id), and the principal subscribed is the
// allocated principal of approved rounds only, summed over a project's rounds.
func TestForUserReadsApprovedAllocations(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	city := holdingtest.CityCompany(t, d, "昆明城市公司")
	a := holdingtest.Project(t, d, city, "滇池壹号")
	b := holdingtest.Project(t, d, city, "春城花园")
	c := holdingtest.Project(t, d, city, "翠湖别院")
	users := org.NewService(d)
	me, err := users.CreateUser(ctx, audit.System, org.UserInput{Name: "张三", DingTalkUserID: "zhangsan"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := users.CreateUser(ctx, audit.System, org.UserInput{Name: "李四", DingTalkUserID: "lisi"})
	if err != nil {
		t.Fatal(err)
	}
	s := holding.NewService(d, nil)
	if got, err := s.ForUser(ctx, me.ID); err != nil || len(got) != 0 {
		t.Fatalf("never invited: %+v, %v; want none", got, err)
	}
	pm, po := holdingtest.Partner(t, d, me.ID), holdingtest.Partner(t, d, other.ID)
	if pm == me.ID && po == other.ID {
		t.Fatal("partner ids equal user ids: the test would not tell them apart")
	}
	holdingtest.Round(t, d, a, "approved", map[int64]string{pm: "297143", po: "500000"})
	holdingtest.Round(t, d, a, "approved", map[int64]string{pm: "1000"})    // a supplementary round
	holdingtest.Round(t, d, b, "submitted", map[int64]string{pm: "300000"}) // not approved: commits nothing
	holdingtest.Round(t, d, c, "approved", map[int64]string{po: "100000"})
	holdingtest.Pay(t, d, a, pm, "100000.00")
	holdingtest.Pay(t, d, a, me.ID, "5.00") // the user's id as a partner id: someone else's account

	got, err := s.ForUser(ctx, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ProjectID != a || !got[0].Principal.Equal(decimal.RequireFromString("298143")) ||
		!got[0].Paid.Equal(decimal.RequireFromString("100000")) {
		t.Fatalf("holdings = %+v, want 滇池壹号 principal 298143 paid 100000", got)
	}
}
