package round_test

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

	"hehuo/internal/apperr"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/config"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/money"
	"hehuo/internal/org"
	"hehuo/internal/round"
)

// allocFixture is RULES R3's example set up through the services: P =
// 220,000,000 with the city tier at 0.60% (pool 1,320,000), and four
// partners A–D invited to the city tier of the initial round.
type allocFixture struct {
	d       *db.DB
	s       *round.Service
	project int64
	round   int64
	users   map[string]org.User
	inv     map[string]int64 // invitation ids by partner letter
	partner map[string]int64 // partners.id by letter
	// acct is the accountant who calculates: a user, since audit entries reference their author.
	acct audit.Actor
}

func newAllocFixture(t testing.TB) *allocFixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	city := holdingtest.CityCompany(t, d, "昆明城市公司")
	pid := holdingtest.Project(t, d, city, "滇池壹号")
	est := establishment.NewService(d, nil)
	if _, err := est.PutTerms(ctx, audit.System, pid, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Of(time.Now().In(civil.Shanghai).AddDate(0, 0, 30)), FinancingRate: "0.0435",
	}); err != nil {
		t.Fatalf("terms: %v", err)
	}
	s := round.NewService(d, nil, est, config.Config{})
	r, err := s.Create(ctx, audit.System, pid, round.CreateInput{Kind: round.KindInitial})
	if err != nil {
		t.Fatalf("round: %v", err)
	}
	f := &allocFixture{d: d, s: s, project: pid, round: r.ID, users: map[string]org.User{}, inv: map[string]int64{}, partner: map[string]int64{}}
	users := org.NewService(d)
	acc, err := users.CreateUser(ctx, audit.System, org.UserInput{Name: "经营会计", DingTalkUserID: "accountant", Roles: []string{org.RoleAccountant}})
	if err != nil {
		t.Fatal(err)
	}
	f.acct = audit.Actor{ID: &acc.ID, Name: acc.Name}
	for _, p := range []struct {
		letter    string
		mandatory bool
		min, max  string
	}{{"A", true, "500000", "1000000"}, {"B", true, "300000", "600000"}, {"C", false, "100000", "3000000"}, {"D", false, "100000", "400000"}} {
		u, err := users.CreateUser(ctx, audit.System, org.UserInput{Name: "合伙人" + p.letter, DingTalkUserID: "partner-" + p.letter})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := s.AddInvitation(ctx, audit.System, r.ID, round.InvitationInput{
			UserID: u.ID, Tier: "city", Mandatory: p.mandatory, MinAmount: p.min, MaxAmount: p.max, Deadline: civil.Of(time.Now().In(civil.Shanghai).AddDate(0, 0, 10))})
		if err != nil {
			t.Fatalf("invite %s: %v", p.letter, err)
		}
		f.users[p.letter], f.inv[p.letter], f.partner[p.letter] = u, inv.ID, inv.PartnerID
	}
	// Sending notices needs DingTalk; the round opens as sending would.
	if _, err := d.Exec(`UPDATE rounds SET status = 'open' WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *allocFixture) subscribe(t testing.TB, letter, amount string) {
	t.Helper()
	u := f.users[letter]
	a := audit.Actor{ID: &u.ID, Name: u.Name}
	if _, err := f.s.Subscribe(context.Background(), a, u.ID, f.inv[letter], round.SubscriptionInput{Amount: amount, RiskAcknowledged: true}); err != nil {
		t.Fatalf("%s subscribes %s: %v", letter, amount, err)
	}
}

// subscribeOnBehalf records letter's subscription as the accountant (R2's
// follow-up of a partner who missed the deadline).
func (f *allocFixture) subscribeOnBehalf(t testing.TB, letter, amount string) {
	t.Helper()
	if _, err := f.s.SubscribeOnBehalf(context.Background(), f.acct, *f.acct.ID, f.round, f.inv[letter],
		round.OnBehalfInput{Amount: amount, Reason: "截止后补录"}); err != nil {
		t.Fatalf("on behalf of %s, %s: %v", letter, amount, err)
	}
}

func (f *allocFixture) subscribeR3(t testing.TB) {
	f.subscribe(t, "A", "500000")
	f.subscribe(t, "B", "300000")
	f.subscribe(t, "C", "400000")
	f.subscribe(t, "D", "300000")
}

func (f *allocFixture) close(t testing.TB) {
	t.Helper()
	if _, err := f.s.Close(context.Background(), audit.System, f.round); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if e := apperr.As(err); e == nil || e.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func (f *allocFixture) allocated(a round.Allocation) map[string]string {
	byPartner := map[int64]string{}
	for _, l := range a.Lines {
		byPartner[l.PartnerID] = l.Allocated.String()
	}
	out := map[string]string{}
	for letter, id := range f.partner {
		out[letter] = byPartner[id]
	}
	return out
}

func TestAllocateR3Example(t *testing.T) {
	ctx := context.Background()
	f := newAllocFixture(t)
	f.subscribeR3(t)
	f.close(t)

	a, err := f.s.Allocate(ctx, f.acct, f.round)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "500000.00", "B": "300000.00", "C": "297143.00", "D": "222857.00"}
	if got := f.allocated(a); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("allocated = %v, want %v", got, want)
	}
	if a.Preview || a.Stale || !a.Balanced || a.RoundStatus != round.StatusClosed && a.RoundStatus != round.StatusCalculated {
		t.Errorf("preview %v stale %v balanced %v status %s", a.Preview, a.Stale, a.Balanced, a.RoundStatus)
	}
	r, err := f.s.Get(ctx, f.round)
	if err != nil || r.Status != round.StatusCalculated {
		t.Fatalf("round status = %s, %v; want calculated", r.Status, err)
	}
	if a.Pools.City.String() != "1320000.00" || a.Pools.Property.String() != "7282000.00" {
		t.Errorf("pools = %+v", a.Pools)
	}
	for _, tier := range a.PerTier {
		if tier.Tier == "city" && (tier.Allocated.String() != "1320000.00" || tier.EffectiveRatio != "0.006" || tier.PlannedRatio != "0.006" || tier.Partners != 4) {
			t.Errorf("city tier = %+v", tier)
		}
		if tier.Tier == "property" && (tier.Shortfall.String() != "7282000.00" || !tier.Balanced) {
			t.Errorf("property tier = %+v", tier)
		}
	}
	var cStep bool
	for _, st := range a.Trace {
		if st.Figure == fmt.Sprintf("city.allocated[%d]", f.partner["C"]) {
			cStep = st.Inputs["精确份额"] == "297142.857143" && st.Inputs["取整"] == "297142" && st.Inputs["余数补位"] == "1" && st.Value == "297143"
		}
	}
	if !cStep {
		t.Errorf("trace lacks C's exact share, floor and leftover yuan: %+v", a.Trace)
	}
	got, err := f.s.GetAllocation(ctx, f.round)
	if err != nil || fmt.Sprint(f.allocated(got)) != fmt.Sprint(want) || got.Stale || got.SubscriptionSeq != a.SubscriptionSeq {
		t.Fatalf("GET = %v stale %v, %v", f.allocated(got), got.Stale, err)
	}
	totals, err := f.s.AllocatedTotals(ctx, f.d, f.round)
	if err != nil || !totals.City.Equal(decimal.NewFromInt(1320000)) || !totals.Property.IsZero() {
		t.Errorf("AllocatedTotals = %+v, %v", totals, err)
	}

	// Submit: calculated, fresh and balanced → submitted; a second submit is refused.
	r, err = f.s.Submit(ctx, f.acct, f.round)
	if err != nil || r.Status != round.StatusSubmitted {
		t.Fatalf("submit = %s, %v", r.Status, err)
	}
	_, err = f.s.Submit(ctx, f.acct, f.round)
	wantCode(t, err, "round_state")
	_, err = f.s.Allocate(ctx, f.acct, f.round)
	wantCode(t, err, "round_state")
}

// TestAllocationPreviewGoesStale: on an open round the calculation is a
// preview that goes stale on the next subscription change; submit refuses
// an open round and a stale allocation and changes nothing.
func TestAllocationPreviewGoesStale(t *testing.T) {
	ctx := context.Background()
	f := newAllocFixture(t)
	f.subscribeR3(t)

	a, err := f.s.Allocate(ctx, f.acct, f.round)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Preview || a.Stale {
		t.Fatalf("preview %v stale %v, want a fresh preview", a.Preview, a.Stale)
	}
	if r, _ := f.s.Get(ctx, f.round); r.Status != round.StatusOpen {
		t.Fatalf("status after preview = %s, want open", r.Status)
	}
	_, err = f.s.Submit(ctx, f.acct, f.round)
	wantCode(t, err, "round_not_closed")

	f.subscribe(t, "D", "350000")
	got, err := f.s.GetAllocation(ctx, f.round)
	if err != nil || !got.Stale {
		t.Fatalf("after a new subscription: stale %v, %v", got.Stale, err)
	}
	// Closing runs the first allocation (初次自动测算): fresh, not a preview.
	f.close(t)
	if r, _ := f.s.Get(ctx, f.round); r.Status != round.StatusCalculated {
		t.Fatalf("status after close = %s, want calculated", r.Status)
	}
	a, err = f.s.GetAllocation(ctx, f.round)
	if err != nil || a.Preview || a.Stale {
		t.Fatalf("after close: preview %v stale %v, %v", a.Preview, a.Stale, err)
	}
	// A late subscription recorded on a partner's behalf (R2 follow-up)
	// makes it stale; submit refuses until it is recalculated.
	f.subscribeOnBehalf(t, "D", "350000")
	_, err = f.s.Submit(ctx, f.acct, f.round)
	wantCode(t, err, "allocation_stale")
	if r, _ := f.s.Get(ctx, f.round); r.Status != round.StatusCalculated {
		t.Fatalf("status after refused submit = %s", r.Status)
	}

	a, err = f.s.Allocate(ctx, f.acct, f.round)
	if err != nil || a.Preview || a.Stale {
		t.Fatalf("after recalculation: preview %v stale %v, %v", a.Preview, a.Stale, err)
	}
	// 520,000 split 400:350 → C 277,333.33 D 242,666.67 → 277,333 + 242,667.
	if got := f.allocated(a); got["C"] != "277333.00" || got["D"] != "242667.00" {
		t.Errorf("allocated = %v", got)
	}

	// A subscription changed on the partner's behalf after calculation makes it stale again.
	if _, err := f.d.Exec(`UPDATE rounds SET subscription_seq = subscription_seq + 1 WHERE id = $1`, f.round); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Submit(ctx, f.acct, f.round)
	wantCode(t, err, "allocation_stale")
	if r, _ := f.s.Get(ctx, f.round); r.Status != round.StatusCalculated {
		t.Fatalf("status after stale submit = %s", r.Status)
	}
}

func TestEditLineBoundsAndSubmitBalance(t *testing.T) {
	ctx := context.Background()
	f := newAllocFixture(t)
	f.subscribeR3(t)
	_, err := f.s.EditLine(ctx, f.acct, f.round, f.partner["C"], round.LineEdit{Allocated: amt("1"), Reason: "x"})
	wantCode(t, err, "round_state") // open round: nothing to edit yet
	f.close(t)
	before, err := f.s.Allocate(ctx, f.acct, f.round)
	if err != nil {
		t.Fatal(err)
	}
	c := f.partner["C"]
	cUser := f.users["C"].ID
	selfA := audit.Actor{ID: &cUser, Name: "合伙人C"}
	stale := before.Version - 1
	for _, tt := range []struct {
		name  string
		actor audit.Actor
		id    int64
		in    round.LineEdit
		code  string
	}{
		{"no reason", f.acct, c, round.LineEdit{Allocated: amt("290000")}, "required"},
		{"blank reason", f.acct, c, round.LineEdit{Allocated: amt("290000"), Reason: "  "}, "required"},
		{"fractional yuan", f.acct, c, round.LineEdit{Allocated: amt("290000.50"), Reason: "调整"}, "allocation_not_whole_yuan"},
		{"negative", f.acct, c, round.LineEdit{Allocated: amt("-1"), Reason: "调整"}, "allocation_negative"},
		{"above the partner's max", f.acct, f.partner["D"], round.LineEdit{Allocated: amt("400001"), Reason: "调整"}, "allocation_above_max"},
		{"above the per-person cap", f.acct, c, round.LineEdit{Allocated: amt("2200001"), Reason: "调整"}, "allocation_above_cap"},
		{"own line", selfA, c, round.LineEdit{Allocated: amt("290000"), Reason: "调整"}, "own_line"},
		{"unknown partner", f.acct, 999999, round.LineEdit{Allocated: amt("1"), Reason: "调整"}, "allocation_line_not_found"},
		{"stale version", f.acct, c, round.LineEdit{Allocated: amt("290000"), Reason: "调整", Version: &stale}, "stale_version"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.s.EditLine(ctx, tt.actor, f.round, tt.id, tt.in)
			wantCode(t, err, tt.code)
			after, err := f.s.GetAllocation(ctx, f.round)
			if err != nil || after.Version != before.Version || fmt.Sprint(f.allocated(after)) != fmt.Sprint(f.allocated(before)) {
				t.Fatalf("a refused edit changed the allocation: %v → %v", f.allocated(before), f.allocated(after))
			}
		})
	}

	// At the cap exactly is allowed; the tier is then over its pool.
	a, err := f.s.EditLine(ctx, f.acct, f.round, c, round.LineEdit{Allocated: amt("2200000"), Reason: "集团特批", Version: &before.Version})
	if err != nil {
		t.Fatal(err)
	}
	var line round.AllocationLine
	for _, l := range a.Lines {
		if l.PartnerID == c {
			line = l
		}
	}
	if !line.Edited || line.Reason != "集团特批" || line.EditedBy == nil || *line.EditedBy != "经营会计" ||
		line.Allocated.String() != "2200000.00" || line.Calculated.String() != "297143.00" {
		t.Errorf("edited line = %+v", line)
	}
	if a.Balanced {
		t.Error("balanced after pushing the city tier over its pool")
	}
	if last := a.Trace[len(a.Trace)-1]; last.Formula != "手工调整" || last.Note != "集团特批" {
		t.Errorf("trace does not end with the edit: %+v", last)
	}
	_, err = f.s.Submit(ctx, f.acct, f.round)
	wantCode(t, err, "allocation_unbalanced")
	if e := apperr.As(err); e == nil || !strings.Contains(e.Message, "城市公司") || !strings.Contains(e.Message, "1,902,857.00") {
		t.Errorf("message %q does not name the tier and the excess", e.Message)
	}
	if r, _ := f.s.Get(ctx, f.round); r.Status != round.StatusCalculated {
		t.Fatalf("status after unbalanced submit = %s", r.Status)
	}

	// Back under the pool: 297,142 leaves one yuan with the group.
	if _, err := f.s.EditLine(ctx, f.acct, f.round, c, round.LineEdit{Allocated: amt("297142"), Reason: "按规则少分1元"}); err != nil {
		t.Fatal(err)
	}
	r, err := f.s.Submit(ctx, f.acct, f.round)
	if err != nil || r.Status != round.StatusSubmitted {
		t.Fatalf("submit = %s, %v", r.Status, err)
	}
	_, err = f.s.EditLine(ctx, f.acct, f.round, c, round.LineEdit{Allocated: amt("297143"), Reason: "x"})
	wantCode(t, err, "round_state")
}

func TestAllocationXLSX(t *testing.T) {
	ctx := context.Background()
	f := newAllocFixture(t)
	f.subscribeR3(t)
	f.close(t)
	if _, err := f.s.Allocate(ctx, f.acct, f.round); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	name, err := f.s.AllocationXLSX(ctx, f.round, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if name != "滇池壹号-立项-认购明细.xlsx" {
		t.Errorf("name = %q", name)
	}
	rows := readSheet(t, buf.Bytes(), "认购明细")
	// Title, status, header, four lines, total.
	if len(rows) != 8 || rows[2][1] != "合伙人" || rows[7][0] != "合计" {
		t.Fatalf("rows = %v", rows)
	}
	byName := map[string][]string{}
	for _, r := range rows[3:7] {
		byName[r[1]] = r
	}
	if r := byName["合伙人C"]; r[2] != "城市公司" || r[3] != "否" || r[8] != "297,143.00" {
		t.Errorf("C's row = %v", r)
	}
	if rows[7][8] != "1,320,000.00" {
		t.Errorf("total = %v", rows[7])
	}
	if tiers := readSheet(t, buf.Bytes(), "层级汇总"); len(tiers) < 5 || tiers[3][0] != "城市公司" || tiers[3][7] != "0.60%" {
		t.Errorf("tiers = %v", tiers)
	}
}

func readSheet(t *testing.T, b []byte, sheet string) [][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func amt(s string) money.Amount { return money.AmountOf(decimal.RequireFromString(s)) }

// BenchmarkAllocationPersisted10000 computes and stores the allocation of a
// closed round of 10,000 subscribed invitations (one tier oversubscribed,
// a fifth mandatory) against real Postgres: reading the invitations, R3,
// writing the lines by COPY and the trace, and reading the result back.
func BenchmarkAllocationPersisted10000(b *testing.B) {
	ctx := context.Background()
	f := newAllocFixture(b)
	const n = 10000
	err := f.d.InTx(ctx, func(tx *sqlx.Tx) error {
		// Users, partners and subscribed invitations in bulk: the services
		// would take minutes to invite 10,000 people one by one.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO users (name, dingtalk_userid) SELECT '基准合伙人' || g, 'bench-' || g FROM generate_series(1, $1) g`, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO partners (kind, user_id, name) SELECT 'employee', id, name FROM users WHERE dingtalk_userid LIKE 'bench-%'`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO invitations (round_id, partner_id, user_id, tier, mandatory, min_amount, max_amount, deadline, amount, subscribed_at)
			SELECT $1, p.id, p.user_id, 'property', p.id % 5 = 0, 100000, 1000000, current_date + 10, 100000 + (p.id * 7919) % 400000, now()
			FROM partners p JOIN users u ON u.id = p.user_id WHERE u.dingtalk_userid LIKE 'bench-%'`, f.round)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	f.close(b)
	if _, err := f.d.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		a, err := f.s.Allocate(ctx, f.acct, f.round)
		if err != nil {
			b.Fatal(err)
		}
		if len(a.Lines) != n+4 || !a.Balanced {
			b.Fatalf("%d lines, balanced %v", len(a.Lines), a.Balanced)
		}
	}
}

// TestSubmitChecksPerPersonCap: R1 checks the per-person cap at submit; a
// calculated line above it (the cap lowered after the invitations were
// made) is refused, naming the partner, and nothing changes.
func TestSubmitChecksPerPersonCap(t *testing.T) {
	ctx := context.Background()
	f := newAllocFixture(t)
	f.subscribeR3(t)
	f.close(t)
	if _, err := f.s.Allocate(ctx, f.acct, f.round); err != nil {
		t.Fatal(err)
	}
	est := establishment.NewService(f.d, nil)
	terms, err := est.Terms(ctx, f.d, f.project)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := est.PutTerms(ctx, audit.System, f.project, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: terms.FundingDate, FinancingRate: "0.0435", PerPersonCapRatio: "0.002", Version: terms.Version,
	}); err != nil {
		t.Fatalf("terms: %v", err)
	}
	_, err = f.s.Submit(ctx, f.acct, f.round)
	wantCode(t, err, "allocation_above_cap")
	if e := apperr.As(err); !strings.Contains(e.Message, "合伙人A") || !strings.Contains(e.Message, "440,000.00") {
		t.Errorf("message %q does not name the partner and the cap", e.Message)
	}
	if r, _ := f.s.Get(ctx, f.round); r.Status != round.StatusCalculated {
		t.Fatalf("status after refused submit = %s", r.Status)
	}
}

// TestRecalculationReplacesEdits: 测算 again starts from R3; the edits it
// discarded are counted in its audit entry.
func TestRecalculationReplacesEdits(t *testing.T) {
	ctx := context.Background()
	f := newAllocFixture(t)
	f.subscribeR3(t)
	f.close(t)
	if _, err := f.s.Allocate(ctx, f.acct, f.round); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.EditLine(ctx, f.acct, f.round, f.partner["D"], round.LineEdit{Allocated: amt("200000"), Reason: "少分"}); err != nil {
		t.Fatal(err)
	}
	a, err := f.s.Allocate(ctx, f.acct, f.round)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range a.Lines {
		if l.Edited || !l.Allocated.Equal(l.Calculated.Decimal) {
			t.Errorf("line %d kept its edit: %+v", l.PartnerID, l)
		}
	}
	if got := f.allocated(a)["D"]; got != "222857.00" {
		t.Errorf("D = %s after recalculation", got)
	}
	for _, st := range a.Trace {
		if st.Formula == "手工调整" {
			t.Errorf("trace keeps a discarded edit: %+v", st)
		}
	}
	var before string
	if err := f.d.Get(&before, `SELECT before::text FROM audit_log WHERE action = 'allocation.compute' ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, `"edited_lines": 1`) {
		t.Errorf("audit before = %s, want the discarded edit counted", before)
	}
}
