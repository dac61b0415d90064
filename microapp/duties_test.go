package microapp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hehuo/internal/adjustment"
	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/distribution"
	"hehuo/internal/establishment"
	"hehuo/internal/holding/holdingtest"
	"hehuo/internal/opening/openingtest"
	"hehuo/internal/org"
	"hehuo/internal/payment"
	"hehuo/internal/round"
	"hehuo/internal/shareholderdist"
)

// dutyUser is a Hehuo user with a job number (for imports), roles and a session.
func (e *env) dutyUser(name, jobNumber string, roles ...string) (int64, string) {
	e.t.Helper()
	u, err := e.deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: name, DingTalkUserID: "dt_" + name,
		JobNumber: jobNumber, Roles: roles})
	if err != nil {
		e.t.Fatal(err)
	}
	token, _, err := e.deps.Auth.SignInUser(context.Background(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, token
}

func header(cols []string) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = c
	}
	return out
}

// Segregation of duties over the route table: every route marked
// Access.LineWrite has a case here, and each refuses a staff member acting
// on their own partner line with 403 own_line and changes nothing — an
// accountant granted the projects who is also their partner (a business
// admin holding a line for the two reviews) — while the same accountant
// may still act on another partner's line.
func TestEveryLineWriteRefusesTheCallersOwnLine(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.admin()
	w := e.mustWorld(admin)
	acctID, acct := e.dutyUser("会计合伙人", "J900", "accountant")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctID}}}}))
	otherID, _ := e.dutyUser("另一合伙人", "J901")
	bizID, biz := e.dutyUser("业务管理员合伙人", "J902", "bizadmin")
	own, other, bizLine := holdingtest.Partner(t, e.db, acctID), holdingtest.Partner(t, e.db, otherID), holdingtest.Partner(t, e.db, bizID)
	today := civil.Today(time.Now())
	deadline := civil.Today(time.Now().AddDate(0, 0, 10))
	staff := audit.System

	// Project A: an approved round (payments), a calculated one (line edits), a submitted one (review).
	if _, err := e.deps.Establishment.PutTerms(ctx, staff, w.projA, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		t.Fatal(err)
	}
	approved := holdingtest.Round(t, e.db, w.projA, "approved", map[int64]string{own: "300000", other: "300000"})
	calculated := holdingtest.Round(t, e.db, w.projA, "calculated", map[int64]string{own: "100000", other: "100000"})
	submitted := holdingtest.Round(t, e.db, w.projA, "submitted", map[int64]string{bizLine: "100000", other: "100000"})
	paid, err := e.deps.Payments.Confirm(ctx, staff, approved, "duties-own", payment.Input{UserID: acctID, Amount: "1000", PaidOn: today})
	if err != nil {
		t.Fatal(err)
	}

	// Project A1: an open round listing the accountant (invitations), and adjustments.
	listRound, ownInvitation := e.mustRoundFixture(w.projA1, acctID)
	// Project A's initial round, still without a list (the import).
	emptyList, err := e.deps.Rounds.Create(ctx, staff, w.projA, round.CreateInput{Kind: round.KindInitial})
	if err != nil {
		t.Fatal(err)
	}
	agreed := e.mustAdjustmentFixture(w.projA1)
	e.db.MustExec(`UPDATE adjustments SET status = 'agreed' WHERE id = $1`, agreed)
	e.db.MustExec(`INSERT INTO adjustment_lines (adjustment_id, partner_id, user_id, tier, old_principal, new_principal, delta, paid, top_up, refund)
		VALUES ($1, $2, $3, 'city', 100000, 110000, 10000, 100000, 10000, 0)`, agreed, own, acctID)
	settled, err := e.deps.Adjustments.Settle(ctx, staff, agreed, "duties-own", adjustment.SettlementInput{UserID: acctID, Amount: "1000", SettledOn: today})
	if err != nil {
		t.Fatal(err)
	}
	underReview := e.mustAdjustmentFixture(w.projA1)
	e.db.MustExec(`UPDATE adjustments SET status = 'submitted' WHERE id = $1`, underReview)
	e.db.MustExec(`INSERT INTO adjustment_lines (adjustment_id, partner_id, user_id, tier, old_principal, new_principal, delta, paid, top_up, refund)
		VALUES ($1, $2, $3, 'city', 100000, 90000, -10000, 0, 0, 0)`, underReview, bizLine, bizID)

	// Project A1: a draft distribution batch holding the accountant's and the business admin's lines.
	batch := e.mustDistributionFixture(w.projA1)
	e.db.MustExec(`INSERT INTO distribution_lines (batch_id, partner_id, user_id, payee_partner_id, seq, a)
		VALUES ($1, $2, $3, $2, 1, 1000), ($1, $4, $5, $4, 2, 1000)`, batch, own, acctID, bizLine, bizID)
	dist := func(rest string) string { return fmt.Sprintf("/api/v1/distributions/%d%s", batch, rest) }
	// An approved profit batch of project A with the accountant's line (登记打款):
	// profit, so that the accountant still holds principal in project A
	// for the create case above.
	payoutBatch := approvedBatch(t, e.db, w.projA, "profit", map[int64][2]string{own: {"0", "1000"}, other: {"0", "1000"}})

	// An agreed exit of the accountant (登记退出打款).
	ownExit := e.mustExitFixture(w.projA, own, acctID, "agreed")

	rounds := func(id int64, rest string) string { return fmt.Sprintf("/api/v1/rounds/%d%s", id, rest) }
	invitation := map[string]any{"user_id": acctID, "tier": "city", "min_amount": "100000", "max_amount": "900000",
		"deadline": deadline.String(), "version": 1}
	cases := map[string]func() response{
		"POST /api/v1/rounds/:id/invitations": func() response {
			return e.do(acct, "POST", rounds(listRound, "/invitations"), invitation)
		},
		"PUT /api/v1/rounds/:id/invitations/:invitation_id": func() response {
			return e.do(acct, "PUT", rounds(listRound, "/invitations/"+itoa(ownInvitation)), invitation)
		},
		"DELETE /api/v1/rounds/:id/invitations/:invitation_id": func() response {
			return e.do(acct, "DELETE", rounds(listRound, "/invitations/"+itoa(ownInvitation)), nil)
		},
		"POST /api/v1/rounds/:id/invitations/import": func() response {
			return e.upload(acct, rounds(emptyList.ID, "/invitations/import"), sheet(t, [][]any{header(round.ImportColumns),
				{"J900", "会计合伙人", "城市公司", "否", "100000", "900000", deadline.String()}}))
		},
		"PUT /api/v1/rounds/:id/invitations/:invitation_id/subscription": func() response {
			return e.do(acct, "PUT", rounds(listRound, "/invitations/"+itoa(ownInvitation)+"/subscription"),
				map[string]any{"amount": "200000", "reason": "代录"})
		},
		"PATCH /api/v1/rounds/:id/allocation/lines/:partner_id": func() response {
			return e.do(acct, "PATCH", rounds(calculated, "/allocation/lines/"+itoa(own)), map[string]any{"allocated": "90000", "reason": "调整"})
		},
		"POST /api/v1/rounds/:id/review": func() response {
			return e.do(biz, "POST", rounds(submitted, "/review"), map[string]any{"decision": "approve"})
		},
		"POST /api/v1/rounds/:id/payments": func() response {
			return e.payDo(acct, "duties-1", "POST", rounds(approved, "/payments"),
				map[string]any{"user_id": acctID, "amount": "1000", "paid_on": today.String()})
		},
		"POST /api/v1/payments/:id/reversal": func() response {
			return e.do(acct, "POST", "/api/v1/payments/"+itoa(paid.ID)+"/reversal", map[string]any{"reason": "录错", "version": 1})
		},
		"POST /api/v1/rounds/:id/payments/import": func() response {
			return e.upload(acct, rounds(approved, "/payments/import"), statement(t, [][]any{{"B900", "J900", "会计合伙人", "1000", today.String()}}))
		},
		"POST /api/v1/distributions/:id/import": func() response {
			return e.upload(acct, dist("/import"), sheet(t, [][]any{
				header(distribution.ImportColumns(distribution.KindPrincipal, 1)), {1, own, "会计合伙人", "", "100.00", "100.00"}}))
		},
		"POST /api/v1/adjustments/:id/settlements": func() response {
			return e.payDo(acct, "duties-2", "POST", fmt.Sprintf("/api/v1/adjustments/%d/settlements", agreed),
				map[string]any{"user_id": acctID, "amount": "1000", "settled_on": today.String()})
		},
		"POST /api/v1/adjustments/:id/settlements/:settlement_id/reversal": func() response {
			return e.do(acct, "POST", fmt.Sprintf("/api/v1/adjustments/%d/settlements/%d/reversal", agreed, settled.ID), map[string]any{"reason": "录错"})
		},
		"PUT /api/v1/projects/:id/payout-accounts/:user_id": func() response {
			return e.do(acct, "PUT", fmt.Sprintf("/api/v1/projects/%d/payout-accounts/%d", w.projA, acctID),
				map[string]any{"bank": "招商银行", "branch": "上海分行", "holder": "会计合伙人", "number": "6214830000001234", "version": 0, "reason": "代填"})
		},
		"POST /api/v1/projects/:id/opening-balances": func() response {
			return e.uploadFile(acct, fmt.Sprintf("/api/v1/projects/%d/opening-balances", w.projA1), "opening.xlsx",
				openingtest.XLSX(t, []openingtest.Row{{Name: "会计合伙人", Account: "dt_会计合伙人", Paid: "1000", Interest: "0"}}))
		},
		"POST /api/v1/projects/:id/distributions": func() response {
			return e.do(acct, "POST", fmt.Sprintf("/api/v1/projects/%d/distributions", w.projA), map[string]any{"kind": "principal"})
		},
		"PATCH /api/v1/distributions/:id": func() response {
			return e.do(acct, "PATCH", dist(""), map[string]any{"version": 1, "return_ratio": "1"})
		},
		"DELETE /api/v1/distributions/:id": func() response { return e.do(acct, "DELETE", dist(""), nil) },
		"PATCH /api/v1/distributions/:id/lines/:partner_id": func() response {
			return e.do(acct, "PATCH", dist("/lines/"+itoa(other)), map[string]any{"version": 1, "c": "100", "c_reason": "补发"})
		},
		"POST /api/v1/distributions/:id/calculate": func() response { return e.do(acct, "POST", dist("/calculate"), map[string]any{"version": 1}) },
		"POST /api/v1/distributions/:id/save":      func() response { return e.do(acct, "POST", dist("/save"), map[string]any{"version": 1}) },
		"POST /api/v1/distributions/:id/submit":    func() response { return e.do(acct, "POST", dist("/submit"), map[string]any{"version": 1}) },
		"POST /api/v1/distributions/:id/lock":      func() response { return e.do(acct, "POST", dist("/lock"), map[string]any{"version": 1}) },
		"POST /api/v1/distributions/:id/unlock":    func() response { return e.do(biz, "POST", dist("/unlock"), map[string]any{"version": 1}) },
		"POST /api/v1/distributions/:id/review": func() response {
			return e.do(biz, "POST", dist("/review"), map[string]any{"approve": true, "version": 1})
		},
		"POST /api/v1/distributions/:id/payouts": func() response {
			return e.payDo(acct, "duties-3", "POST", fmt.Sprintf("/api/v1/distributions/%d/payouts", payoutBatch),
				map[string]any{"partner_id": own, "paid_on": today.String()})
		},
		"POST /api/v1/distributions/:id/payouts/import": func() response {
			return e.upload(acct, fmt.Sprintf("/api/v1/distributions/%d/payouts/import", payoutBatch),
				sheet(t, [][]any{{"户名", "金额", "打款日期"}, {"会计合伙人", "1000.00", today.String()}}))
		},
		"POST /api/v1/exit-quotes": func() response {
			return e.do(acct, "POST", "/api/v1/exit-quotes", map[string]any{"user_id": acctID, "exit_type": "resignation", "exit_date": today.String()})
		},
		"POST /api/v1/exits/:id/payout": func() response {
			return e.payDo(acct, "duties-4", "POST", fmt.Sprintf("/api/v1/exits/%d/payout", ownExit),
				map[string]any{"paid_on": today.String(), "amount": "1000.00"})
		},
		"POST /api/v1/adjustments/:id/review": func() response {
			return e.do(biz, "POST", fmt.Sprintf("/api/v1/adjustments/%d/review", underReview), map[string]any{"approve": true, "version": 1})
		},
	}

	marked := 0
	for _, r := range e.server.Routes() {
		if !r.Access.LineWrite {
			continue
		}
		marked++
		key := r.Method + " " + r.Path
		send, ok := cases[key]
		if !ok {
			t.Errorf("%s writes a partner line but has no own-line case here", key)
			continue
		}
		delete(cases, key)
		before := fingerprint(t, e.db)
		if got := send(); got.Status != 403 || got.errCode() != "own_line" {
			t.Errorf("%s on the caller's own line: %d %s, want 403 own_line", key, got.Status, got.Raw)
		}
		if fingerprint(t, e.db) != before {
			t.Errorf("%s on the caller's own line changed the database", key)
		}
	}
	for key := range cases {
		t.Errorf("case %s: no route of that name is marked LineWrite", key)
	}
	if marked < 14 {
		t.Fatalf("only %d routes marked LineWrite", marked)
	}

	// Another partner's line is theirs to handle.
	invitation["user_id"] = otherID
	e.must(201, e.do(acct, "POST", rounds(listRound, "/invitations"), invitation))
	e.must(201, e.payDo(acct, "duties-2", "POST", rounds(approved, "/payments"),
		map[string]any{"user_id": otherID, "amount": "1000", "paid_on": today.String()}))
	e.must(200, e.do(acct, "PATCH", rounds(calculated, "/allocation/lines/"+itoa(other)), map[string]any{"allocated": "90000", "reason": "调整"}))
	othersBatch := e.mustManualBatch(w.projA, other) // 第2次利润分配: the payout batch is the first
	e.must(200, e.upload(acct, fmt.Sprintf("/api/v1/distributions/%d/import", othersBatch), sheet(t, [][]any{
		header(distribution.ImportColumns(distribution.KindProfit, 2)), {1, other, "另一合伙人", "", "100.00"}})))
}

// A reviewer never reviews their own submission: a user who is both
// accountant and business admin submits a round and an adjustment, and
// their review is refused (403 own_submission, nothing changes); another
// business admin reviews both.
func TestReviewerNeverReviewsTheirOwnSubmission(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.admin()
	w := e.mustWorld(admin)
	bothID, both := e.dutyUser("会计兼业务管理员", "J910", "accountant", "bizadmin")
	hh := e.signIn("hhadmin", bizadminPassword)
	if _, err := e.deps.Establishment.PutTerms(ctx, audit.System, w.projA, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
	}); err != nil {
		t.Fatal(err)
	}
	submitter := audit.Actor{ID: &bothID, Name: "会计兼业务管理员"}
	roundID := holdingtest.Round(t, e.db, w.projA, "calculated", map[int64]string{})
	if _, err := e.deps.Rounds.Submit(ctx, submitter, roundID); err != nil {
		t.Fatal(err)
	}
	adjID := e.mustAdjustmentFixture(w.projA)
	adj, err := e.deps.Adjustments.Submit(ctx, submitter, adjID, adjustment.VersionInput{Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	// A shareholder distribution (股东分配) the same user submitted.
	sdID := e.mustShareholderDistFixture(w.projA)
	if _, err := e.deps.ShareholderDists.Submit(ctx, submitter, sdID, shareholderdist.VersionInput{Version: 1}); err != nil {
		t.Fatal(err)
	}
	sdReview := "/api/v1/shareholder-distributions/" + itoa(sdID) + "/review"
	// A minority shareholder's registration (股东登记) the same user submitted.
	regID := e.mustShareholderRegistrationFixture(w.projA)
	reg, err := e.deps.Shareholders.Submit(ctx, submitter, regID, 1)
	if err != nil {
		t.Fatal(err)
	}
	roundReview := "/api/v1/rounds/" + itoa(roundID) + "/review"
	adjReview := "/api/v1/adjustments/" + itoa(adjID) + "/review"
	regReview := "/api/v1/shareholder-registrations/" + itoa(regID) + "/review"
	before := fingerprint(t, e.db)
	e.refused(403, "own_submission", e.do(both, "POST", sdReview, map[string]any{"approve": true, "version": 2}))
	e.refused(403, "own_submission", e.do(both, "POST", roundReview, map[string]any{"decision": "approve"}))
	e.refused(403, "own_submission", e.do(both, "POST", adjReview, map[string]any{"approve": true, "version": adj.Version}))
	e.refused(403, "own_submission", e.do(both, "POST", regReview, map[string]any{"approve": true, "version": reg.Version}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused reviews changed the database")
	}
	e.must(200, e.do(hh, "POST", roundReview, map[string]any{"decision": "approve"}))
	e.must(200, e.do(hh, "POST", adjReview, map[string]any{"approve": true, "version": adj.Version}))
	e.must(200, e.do(hh, "POST", sdReview, map[string]any{"approve": true, "version": 2}))
	e.must(200, e.do(hh, "POST", regReview, map[string]any{"approve": true, "version": reg.Version}))
}
