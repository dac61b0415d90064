package microapp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"hehuo/internal/civil"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/ledger"
	"hehuo/internal/money"
	"hehuo/internal/position"
)

// posModel is a plain in-memory account of one project's money positions,
// kept beside the real system by the property test: what it expects every
// screen to show is computed here from the steps alone, with RULES R4 and
// R5 written out by hand.
type posModel struct {
	funding civil.Date
	rate    decimal.Decimal
	peak    decimal.Decimal
	rounds  []*mRound
	pays    []*mPay
	adjs    []*mAdj
	setts   []*mSett
	pending int64 // an agreed peak change without an adjustment yet
}

type mRound struct {
	id    int64
	alloc []decimal.Decimal // per partner index; zero: no line
}

type mPay struct {
	id       int64
	round    int
	partner  int
	amount   decimal.Decimal
	on       civil.Date
	reversed bool
}

type mAdj struct {
	id        int64
	effective civil.Date
	delta     []decimal.Decimal
	due       []decimal.Decimal // signed: top-up > 0, refund < 0
}

type mSett struct {
	id       int64
	adj      int
	partner  int
	amount   decimal.Decimal // signed like due
	on       civil.Date
	reversed bool
}

// figures is what the model expects for one partner.
type figures struct {
	allocated, principal, paid, returned, refunded, outstanding, interest decimal.Decimal
	committed                                                             bool
}

// r4 is B = −round(Σ amount × rate × days / 365, fen), days from `from`
// (0 when paid on or before it).
func (m *posModel) r4(from civil.Date, amounts []decimal.Decimal, days []civil.Date) decimal.Decimal {
	sum := decimal.Zero
	for i, a := range amounts {
		d := days[i].DaysSince(from)
		if d < 0 {
			d = 0
		}
		sum = sum.Add(a.Mul(m.rate).Mul(decimal.NewFromInt(int64(d))).Div(decimal.NewFromInt(365)))
	}
	return sum.Round(2).Neg()
}

// roundLine is partner i's allocated, paid and interest on round r.
func (m *posModel) roundLine(r, i int) (alloc, paid, interest decimal.Decimal) {
	var amounts []decimal.Decimal
	var on []civil.Date
	for _, p := range m.pays {
		if p.round == r && p.partner == i && !p.reversed {
			paid = paid.Add(p.amount)
			amounts, on = append(amounts, p.amount), append(on, p.on)
		}
	}
	return m.rounds[r].alloc[i], paid, m.r4(m.funding, amounts, on)
}

func (m *posModel) of(i int) figures {
	var f figures
	for r, rd := range m.rounds {
		if rd.alloc[i].IsPositive() {
			f.committed = true
		}
		a, p, b := m.roundLine(r, i)
		f.allocated, f.paid, f.interest = f.allocated.Add(a), f.paid.Add(p), f.interest.Add(b)
	}
	f.principal = f.allocated
	for a, adj := range m.adjs {
		if !adj.delta[i].IsZero() || !adj.due[i].IsZero() {
			f.committed = true
		}
		f.principal = f.principal.Add(adj.delta[i])
		var amounts []decimal.Decimal
		var on []civil.Date
		for _, s := range m.setts {
			if s.adj != a || s.partner != i || s.reversed {
				continue
			}
			if s.amount.IsPositive() {
				f.paid = f.paid.Add(s.amount)
				amounts, on = append(amounts, s.amount), append(on, s.on)
			} else {
				f.returned, f.refunded = f.returned.Sub(s.amount), f.refunded.Sub(s.amount)
			}
		}
		f.interest = f.interest.Add(m.r4(adj.effective, amounts, on))
	}
	f.outstanding = decimal.Max(decimal.Zero, f.principal.Sub(f.paid.Sub(f.refunded)))
	return f
}

// settled is Σ of partner i's settlements of adjustment a not reversed (signed).
func (m *posModel) settled(a, i int) decimal.Decimal {
	s := decimal.Zero
	for _, x := range m.setts {
		if x.adj == a && x.partner == i && !x.reversed {
			s = s.Add(x.amount)
		}
	}
	return s
}

func (m *posModel) adjusted(i int) bool {
	for _, a := range m.adjs {
		if !a.delta[i].IsZero() || !a.due[i].IsZero() {
			return true
		}
	}
	return false
}

var botFigure = regexp.MustCompile(`- (认缴本金|已缴|已返还本金|已分配收益)：(-?[\d,]+\.\d\d) 元`)

// Must show: over random sequences of subscribe-allocate-approve, payments
// in parts, reversals, peak changes, adjustments and settlements (and their
// reversals), after every step every figure of 我的跟投 (API and bot),
// 缴款确认 and 立项及缴款汇总表 equals internal/position's and the model's,
// and the ledger reconciles. PROPERTY_SEED picks another sequence.
func TestPositionsAgreeEverywhere(t *testing.T) {
	seed := uint64(20261203)
	if s := strings.TrimSpace(os.Getenv("PROPERTY_SEED")); s != "" {
		fmt.Sscan(s, &seed)
	}
	const steps = 36
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	t.Logf("seed %d", seed)

	e := newEnv(t).withPayoutKey()
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	ctx := context.Background()
	pos := position.NewService(e.db, e.deps.Establishment)
	today := civil.Today(time.Now())

	const n = 4
	userids := []string{"pp_a", "pp_b", "pp_c", "pp_d"}
	users, partners, tokens := make([]int64, n), make([]int64, n), make([]string, n)
	for i, u := range userids {
		users[i] = e.partnerUser(u, "性质"+string(rune('甲'+i)), "")
		partners[i] = holdingtest.Partner(t, e.db, users[i])
		tokens[i] = e.signInByAuthCode(u)
		acc := e.must(200, e.do(tokens[i], "PUT", "/api/v1/me/payout-account", map[string]any{"bank": "招商银行", "branch": "常州分行",
			"holder": "性质" + string(rune('甲'+i)), "number": "621483021234567" + fmt.Sprint(i), "version": 0})).Body
		e.must(200, e.do(tokens[i], "POST", "/api/v1/me/payout-account/confirm", map[string]any{"version": acc["version"]}))
	}
	m := &posModel{funding: civil.Date{Year: 2024, Month: 3, Day: 1}, rate: decimal.RequireFromString("0.0435"),
		peak: decimal.NewFromInt(220000000)}
	zeros := func() []decimal.Decimal { return make([]decimal.Decimal, n) }
	amountUpTo := func(max decimal.Decimal) decimal.Decimal { // a part, in fen, 0 < x ≤ max
		fen := max.Mul(decimal.NewFromInt(100)).IntPart()
		if fen <= 1 {
			return max
		}
		if rng.IntN(3) == 0 {
			return max // pays the rest
		}
		return decimal.New(1+rng.Int64N(fen), -2)
	}
	payDay := func() civil.Date { return m.funding.AddDays(rng.IntN(150) - 20) }

	newRound := func() string {
		alloc := map[int64]string{}
		r := &mRound{alloc: zeros()}
		for i := range n {
			if rng.IntN(4) != 0 {
				a := decimal.NewFromInt(10000 + 1000*rng.Int64N(290))
				alloc[partners[i]], r.alloc[i] = a.String(), a
			}
		}
		if len(alloc) == 0 {
			alloc[partners[0]], r.alloc[0] = "50000", decimal.NewFromInt(50000)
		}
		r.id = holdingtest.Round(t, e.db, f.projA, "approved", alloc)
		m.rounds = append(m.rounds, r)
		return fmt.Sprintf("round %d approved: %v", r.id, r.alloc)
	}
	pay := func() string {
		r := rng.IntN(len(m.rounds))
		i := rng.IntN(n)
		alloc, paid, _ := m.roundLine(r, i)
		owed := alloc.Sub(paid)
		amount := amountUpTo(owed)
		over := rng.IntN(6) == 0 || !owed.IsPositive()
		if over {
			amount = owed.Add(decimal.New(1, -2))
		}
		on := payDay()
		res := e.payDo(f.acct, fmt.Sprintf("pp-%d-%d", seed, len(m.pays)+rng.IntN(1<<30)), "POST", fmt.Sprintf("/api/v1/rounds/%d/payments", m.rounds[r].id),
			map[string]any{"user_id": users[i], "amount": amount.StringFixed(2), "paid_on": on.String()})
		switch {
		case !alloc.IsPositive():
			e.refused(400, "payment_not_partner", res)
		case m.adjusted(i):
			e.refused(422, "payment_adjusted", res)
		case over:
			e.refused(422, "payment_overpaid", res)
		default:
			e.must(201, res)
			m.pays = append(m.pays, &mPay{id: num(res.Body["id"]), round: r, partner: i, amount: amount, on: on})
		}
		return fmt.Sprintf("pay %s of %s on round %d by %d: %d", amount, owed, m.rounds[r].id, i, res.Status)
	}
	reverse := func() string {
		var open []*mPay
		for _, p := range m.pays {
			if !p.reversed {
				open = append(open, p)
			}
		}
		if len(open) == 0 {
			return pay()
		}
		p := open[rng.IntN(len(open))]
		e.must(200, e.do(f.acct, "POST", fmt.Sprintf("/api/v1/payments/%d/reversal", p.id), map[string]any{"reason": "录入错误", "version": 1}))
		p.reversed = true
		return fmt.Sprintf("reverse payment %d (%s)", p.id, p.amount)
	}
	peakChange := func() string {
		factor := decimal.NewFromInt(85 + rng.Int64N(31)).Div(decimal.NewFromInt(100))
		np := money.RoundYuan(m.peak.Mul(factor))
		if np.Equal(m.peak) {
			np = np.Add(decimal.NewFromInt(1000000))
		}
		holders := []map[string]string{{"name": "锦艺集团", "kind": "group", "stake": "1"}}
		pc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/peak-changes",
			map[string]any{"new_peak_capital": np.String(), "shareholders": holders, "reason": "规划调整"})).Body
		proc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
			map[string]any{"kind": "peak_change", "subject_id": num(pc["id"]), "form": map[string]string{"情况说明": "峰值调整"}})).Body
		e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
		m.pending, m.peak = num(pc["id"]), np
		return fmt.Sprintf("peak change %d → %s agreed", m.pending, np)
	}
	adjust := func() string {
		before := make([]figures, n)
		for i := range n {
			before[i] = m.of(i)
		}
		adj := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/adjustments", map[string]any{"peak_change_id": m.pending})).Body
		id := itoa(num(adj["id"]))
		sub := e.must(200, e.do(f.acct, "POST", "/api/v1/adjustments/"+id+"/submit", map[string]any{"version": adj["version"]})).Body
		e.must(200, e.do(f.biz, "POST", "/api/v1/adjustments/"+id+"/review", map[string]any{"approve": true, "version": sub["version"]}))
		ap := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
			map[string]any{"kind": "adjustment", "subject_id": num(adj["id"]), "form": map[string]string{"情况说明": "立项调整"}})).Body
		e.decide(f.acct, num(ap["id"]), str(ap["instance_id"]), "agree")
		var eff civil.Date
		if err := e.db.Get(&eff, `SELECT effective_on FROM peak_changes WHERE id = $1`, m.pending); err != nil {
			t.Fatal(err)
		}
		a := &mAdj{id: num(adj["id"]), effective: eff, delta: zeros(), due: zeros()}
		// R5 by hand: old is the principal in force, new = old + delta, and
		// what is due is new − paid in (a top-up) or paid in − new (a refund).
		for _, l := range adj["lines"].([]any) {
			line := l.(map[string]any)
			i := -1
			for k := range n {
				if partners[k] == num(line["partner_id"]) {
					i = k
				}
			}
			old, nw, delta := dec(t, line["old_principal"]), dec(t, line["new_principal"]), dec(t, line["delta"])
			paidIn := before[i].paid.Sub(before[i].refunded)
			if !old.Equal(before[i].principal) || !nw.Equal(old.Add(delta)) || !dec(t, line["paid"]).Equal(paidIn) ||
				!dec(t, line["top_up"]).Equal(decimal.Max(decimal.Zero, nw.Sub(paidIn))) ||
				!dec(t, line["refund"]).Equal(decimal.Max(decimal.Zero, paidIn.Sub(nw))) {
				t.Fatalf("adjustment line %v, model before %+v", line, before[i])
			}
			a.delta[i] = delta
			a.due[i] = dec(t, line["top_up"]).Sub(dec(t, line["refund"]))
		}
		m.adjs, m.pending = append(m.adjs, a), 0
		return fmt.Sprintf("adjustment %d agreed: delta %v due %v", a.id, a.delta, a.due)
	}
	settle := func() string {
		type open struct{ a, i int }
		var opens []open
		for a, adj := range m.adjs {
			for i := range n {
				if left := adj.due[i].Sub(m.settled(a, i)); !left.IsZero() {
					opens = append(opens, open{a, i})
				}
			}
		}
		if len(opens) == 0 {
			return reverse()
		}
		o := opens[rng.IntN(len(opens))]
		adj := m.adjs[o.a]
		left := adj.due[o.i].Sub(m.settled(o.a, o.i))
		amount := amountUpTo(left.Abs())
		on := adj.effective
		if span := today.DaysSince(on); span > 0 {
			on = on.AddDays(rng.IntN(span + 1))
		}
		res := e.must(201, e.payDo(f.acct, fmt.Sprintf("ps-%d-%d", seed, len(m.setts)), "POST", fmt.Sprintf("/api/v1/adjustments/%d/settlements", adj.id),
			map[string]any{"user_id": users[o.i], "amount": amount.StringFixed(2), "settled_on": on.String()})).Body
		if left.IsNegative() {
			amount = amount.Neg()
		}
		m.setts = append(m.setts, &mSett{id: num(res["id"]), adj: o.a, partner: o.i, amount: amount, on: on})
		return fmt.Sprintf("settle %s of %s for %d on adjustment %d", amount, left, o.i, adj.id)
	}
	reverseSettlement := func() string {
		var open []*mSett
		for _, s := range m.setts {
			if !s.reversed {
				open = append(open, s)
			}
		}
		if len(open) == 0 {
			return settle()
		}
		s := open[rng.IntN(len(open))]
		e.must(200, e.do(f.acct, "POST", fmt.Sprintf("/api/v1/adjustments/%d/settlements/%d/reversal", m.adjs[s.adj].id, s.id),
			map[string]any{"reason": "金额录错"}))
		s.reversed = true
		return fmt.Sprintf("reverse settlement %d (%s)", s.id, s.amount)
	}

	check := func(step int, what string) {
		t.Helper()
		t.Logf("step %d: %s", step, what)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("step %d (%s): %s", step, what, fmt.Sprintf(format, args...))
		}
		eq := func(where string, got decimal.Decimal, want decimal.Decimal) {
			t.Helper()
			if !got.Equal(want) {
				fail("%s = %s, want %s", where, got, want)
			}
		}
		ps, err := pos.Positions(ctx, nil, position.Query{ProjectIDs: []int64{f.projA}, Interest: true})
		if err != nil {
			t.Fatal(err)
		}
		byPartner := map[int64]position.Position{}
		for _, p := range ps {
			byPartner[p.PartnerID] = p
		}
		var tPrincipal, tPaidIn, tUnpaid, tInterest decimal.Decimal
		nPartners, nPaid := 0, 0
		for i := range n {
			want := m.of(i)
			p := byPartner[partners[i]]
			who := fmt.Sprintf("partner %d", i)
			// position = model
			eq(who+" position allocated", p.Allocated, want.allocated)
			eq(who+" position principal", p.Principal, want.principal)
			eq(who+" position paid", p.Paid, want.paid)
			eq(who+" position returned", p.Returned, want.returned)
			eq(who+" position refunded", p.Refunded, want.refunded)
			eq(who+" position outstanding", p.Outstanding, want.outstanding)
			eq(who+" position interest", p.Interest, want.interest)
			tPrincipal, tPaidIn, tUnpaid, tInterest = tPrincipal.Add(want.principal), tPaidIn.Add(want.paid.Sub(want.refunded)),
				tUnpaid.Add(want.outstanding), tInterest.Add(want.interest)
			if want.principal.IsPositive() {
				nPartners++
				if !want.outstanding.IsPositive() {
					nPaid++
				}
			}
			// 我的跟投 (API) = position = model
			hs := e.must(200, e.do(tokens[i], "GET", "/api/v1/me/holdings", nil)).Body["items"].([]any)
			listed := want.committed || !want.paid.IsZero() || !want.returned.IsZero()
			if !listed {
				if len(hs) != 0 {
					fail("%s holds %v, want nothing", who, hs)
				}
			} else {
				if len(hs) != 1 {
					fail("%s holdings %v", who, hs)
				}
				h := hs[0].(map[string]any)
				eq(who+" holdings principal", dec(t, h["principal"]), p.Principal)
				eq(who+" holdings principal (model)", dec(t, h["principal"]), want.principal)
				eq(who+" holdings paid", dec(t, h["paid"]), want.paid)
				eq(who+" holdings returned", dec(t, h["returned"]), want.returned)
				eq(who+" holdings profit", dec(t, h["profit_received"]), decimal.Zero)
			}
			// 我的跟投 (bot) = the same figures.
			bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			reply, err := e.sim.BotMessage(bctx, userids[i], "1", "我的跟投")
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]decimal.Decimal{}
			for _, mm := range botFigure.FindAllStringSubmatch(reply, -1) {
				got[mm[1]] = decimal.RequireFromString(strings.ReplaceAll(mm[2], ",", ""))
			}
			if listed {
				if len(got) != 4 {
					fail("%s bot reply %q", who, reply)
				}
				eq(who+" bot 认缴本金", got["认缴本金"], want.principal)
				eq(who+" bot 已缴", got["已缴"], want.paid)
				eq(who+" bot 已返还本金", got["已返还本金"], want.returned)
				eq(who+" bot 已分配收益", got["已分配收益"], decimal.Zero)
			} else if len(got) != 0 {
				fail("%s bot reply %q, want no project", who, reply)
			}
		}
		// 缴款确认 per round = position's round lines = model.
		for r, rd := range m.rounds {
			list := e.must(200, e.do(f.acct, "GET", fmt.Sprintf("/api/v1/rounds/%d/payments", rd.id), nil)).Body
			rp, err := pos.Round(ctx, nil, rd.id, f.projA)
			if err != nil {
				t.Fatal(err)
			}
			items := list["items"].([]any)
			lines := 0
			for i := range n {
				alloc, paid, interest := m.roundLine(r, i)
				if !alloc.IsPositive() {
					continue
				}
				lines++
				it := itemOf(t, response{Body: list}, users[i])
				l, ok := rp.Line(partners[i])
				if !ok {
					fail("round %d: position has no line for %d", rd.id, i)
				}
				where := fmt.Sprintf("round %d partner %d", rd.id, i)
				eq(where+" allocated", dec(t, it["allocated"]), alloc)
				eq(where+" paid", dec(t, it["paid"]), paid)
				eq(where+" paid (position)", l.Paid, paid)
				eq(where+" outstanding", dec(t, it["outstanding"]), alloc.Sub(paid))
				eq(where+" capital interest", dec(t, it["capital_interest"]), interest)
				eq(where+" capital interest (position)", l.Interest, interest)
			}
			if len(items) != lines {
				fail("round %d lists %d partners, want %d", rd.id, len(items), lines)
			}
		}
		// 立项及缴款汇总表 = Σ position = Σ model.
		rows := e.must(200, e.do(f.acct, "GET", "/api/v1/reports/establishment-payments?project_id="+f.proj, nil)).Body["items"].([]any)
		if len(rows) != 1 {
			fail("report rows %v", rows)
		}
		row := rows[0].(map[string]any)
		eq("report allocated", dec(t, row["allocated"]), tPrincipal)
		eq("report paid", dec(t, row["paid"]), tPaidIn)
		eq("report unpaid", dec(t, row["unpaid"]), tUnpaid)
		eq("report interest", dec(t, row["interest"]), tInterest)
		if int(num(row["partners"])) != nPartners || int(num(row["paid_partners"])) != nPaid {
			fail("report partners %v / %v, want %d / %d", row["partners"], row["paid_partners"], nPartners, nPaid)
		}
		// The ledger reconciles.
		rep, err := ledger.Reconcile(ctx, e.db)
		if err != nil || !rep.OK {
			fail("ledger: %+v %v", rep, err)
		}
	}

	check(0, newRound())
	for step := 1; step <= steps; step++ {
		var what string
		switch k := rng.IntN(20); {
		case m.pending != 0 && k < 8:
			what = adjust()
		case k < 2 && len(m.rounds) < 3 && len(m.adjs) == 0:
			what = newRound()
		case k < 9:
			what = pay()
		case k < 12:
			what = reverse()
		case k < 13 && m.pending == 0 && len(m.adjs) < 2:
			what = peakChange()
		case k < 17 && len(m.adjs) > 0:
			what = settle()
		case k < 19 && len(m.setts) > 0:
			what = reverseSettlement()
		default:
			what = pay()
		}
		check(step, what)
	}
	if len(m.adjs) == 0 && m.pending == 0 {
		check(steps+1, peakChange())
		check(steps+2, adjust())
		check(steps+3, settle())
	}
}
