package microapp_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/dtsim"
	"hehuo/internal/notify"
	"hehuo/internal/org"
	"hehuo/internal/round"
)

// mustRoundFixture makes an open initial round of projectID with userID
// invited, for tests that need real round and invitation ids.
func (e *env) mustRoundFixture(projectID, userID int64) (roundID, invitationID int64) {
	e.t.Helper()
	ctx := context.Background()
	r, err := e.deps.Rounds.Create(ctx, audit.System, projectID, round.CreateInput{Kind: round.KindInitial})
	if err != nil {
		e.t.Fatal(err)
	}
	inv, err := e.deps.Rounds.AddInvitation(ctx, audit.System, r.ID, round.InvitationInput{UserID: userID, Tier: "city",
		MinAmount: "100000", MaxAmount: "300000", Deadline: civil.Today(time.Now().AddDate(0, 0, 30))})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE rounds SET status = 'open' WHERE id = $1`, r.ID); err != nil {
		e.t.Fatal(err)
	}
	return r.ID, inv.ID
}

// fillRoundPath puts real ids into round and /me/invitations paths.
func fillRoundPath(p string, roundID, invitationID int64) string {
	switch {
	case strings.HasPrefix(p, "/api/v1/rounds/:id"):
		p = strings.Replace(p, ":id", itoa(roundID), 1)
		p = strings.Replace(p, ":invitation_id", itoa(invitationID), 1)
	case strings.HasPrefix(p, "/api/v1/me/invitations/:id"):
		p = strings.Replace(p, ":id", itoa(invitationID), 1)
	}
	return p
}

// roundPartner is a Hehuo user known to the simulator, with a grade and a job number.
func (e *env) roundPartner(userid, name, grade string) (int64, string) {
	e.t.Helper()
	e.sim.AddUser(dtsim.User{UserID: userid, Name: name})
	u, err := e.deps.Org.CreateUser(context.Background(), audit.System, org.UserInput{Name: name, DingTalkUserID: userid,
		Grade: grade, JobNumber: "J" + userid})
	if err != nil {
		e.t.Fatal(err)
	}
	token, _, err := e.deps.Auth.SignInUser(context.Background(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, token
}

func (e *env) roundDrain() {
	e.t.Helper()
	d := notify.NewDispatcher(e.deps.Notify, notify.WithoutListen(), notify.WithResultDelay(time.Hour))
	if _, err := d.DrainOnce(context.Background()); err != nil {
		e.t.Fatalf("drain: %v", err)
	}
}

func id(r response) int64 { return int64(r.Body["id"].(float64)) }

// roundSetup is a world with a granted accountant, an ungranted one, and a draft round on project A.
type roundSetup struct {
	w                  world
	admin, acct, other string
	acctID             int64
	roundID            int64
	deadline           civil.Date
	partners           []int64
	tokens             []string
	userids            []string
	invitations        []int64
}

func newRoundSetup(t *testing.T, e *env) roundSetup {
	t.Helper()
	var s roundSetup
	s.admin = e.admin()
	s.w = e.mustWorld(s.admin)
	e.sim.AddUser(dtsim.User{UserID: "dt_城市会计", Name: "城市会计"})
	s.acctID, s.acct = e.mustUser("城市会计", "accountant")
	_, s.other = e.mustUser("昆明会计", "accountant")
	e.must(200, e.do(s.admin, "PUT", "/api/v1/org-units/"+itoa(s.w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{s.acctID}}}}))
	r := e.must(201, e.do(s.acct, "POST", "/api/v1/projects/"+itoa(s.w.projA)+"/rounds", map[string]any{"kind": "initial"}))
	s.roundID = id(r)
	s.deadline = civil.Today(time.Now().AddDate(0, 0, 10))
	return s
}

// invite adds four partners as in RULES R3's example: A and B mandatory, C and D voluntary.
func (s *roundSetup) invite(t *testing.T, e *env) {
	t.Helper()
	spec := []struct {
		userid, name, grade string
		mandatory           bool
		min, max            string
	}{
		{"dt_A", "甲", "M5", true, "500000", "800000"},
		{"dt_B", "乙", "M3", true, "250000", "500000"},
		{"dt_C", "丙", "P5", false, "100000", "400000"},
		{"dt_D", "丁", "P4", false, "100000", "400000"},
	}
	for _, p := range spec {
		uid, token := e.roundPartner(p.userid, p.name, p.grade)
		r := e.must(201, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations", map[string]any{
			"user_id": uid, "tier": "city", "mandatory": p.mandatory, "min_amount": p.min, "max_amount": p.max, "deadline": s.deadline.String()}))
		s.partners = append(s.partners, uid)
		s.tokens = append(s.tokens, token)
		s.userids = append(s.userids, p.userid)
		s.invitations = append(s.invitations, id(r))
	}
}

func (e *env) refused(status int, code string, r response) {
	e.t.Helper()
	if r.Status != status || r.errCode() != code {
		e.t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, status, code)
	}
}

func TestRoundsOneInitialAndSupplementaryOnlyAfterApproval(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	base := "/api/v1/projects/" + itoa(s.w.projA) + "/rounds"
	before := fingerprint(t, e.db)
	e.refused(409, "initial_round_exists", e.do(s.acct, "POST", base, map[string]any{"kind": "initial"}))
	e.refused(422, "round_pending", e.do(s.acct, "POST", base, map[string]any{"kind": "supplementary"}))
	e.refused(400, "round_kind_invalid", e.do(s.acct, "POST", base, map[string]any{"kind": "extra"}))
	e.refused(404, "project_not_found", e.do(s.other, "POST", base, map[string]any{"kind": "supplementary"}))
	e.refused(403, "forbidden", e.do(s.admin, "POST", base, map[string]any{"kind": "supplementary"}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused round creations changed the database")
	}
	e.db.MustExec(`UPDATE rounds SET status = 'approved' WHERE id = $1`, s.roundID)
	sup := e.must(201, e.do(s.acct, "POST", base, map[string]any{"kind": "supplementary"}))
	if sup.Body["name"] != "补充立项1" || sup.Body["status"] != "draft" {
		t.Fatalf("supplementary = %s", sup.Raw)
	}
	list := e.must(200, e.do(s.acct, "GET", base, nil))
	if len(list.Body["items"].([]any)) != 2 {
		t.Fatalf("rounds = %s", list.Raw)
	}
	e.refused(404, "round_not_found", e.do(s.other, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil))
}

func TestPartnerListLimitsAndMandatoryMinimum(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	path := "/api/v1/rounds/" + itoa(s.roundID) + "/invitations"
	gm, _ := e.roundPartner("dt_gm", "总经理", "M5")
	staffer, _ := e.roundPartner("dt_staff", "专员", "P3")
	ok := map[string]any{"user_id": gm, "tier": "city", "mandatory": true, "min_amount": "500000", "max_amount": "800000", "deadline": s.deadline.String()}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	before := fingerprint(t, e.db)
	r := e.do(s.acct, "POST", path, with("min_amount", "499999"))
	e.refused(422, "below_mandatory_min", r)
	if !strings.Contains(r.Raw2(), "500,000.00") && !strings.Contains(r.Raw2(), "500000.00") {
		t.Fatalf("message does not name the minimum: %s", r.Raw)
	}
	e.refused(422, "min_above_max", e.do(s.acct, "POST", path, with("max_amount", "400000")))
	e.refused(400, "amount_not_whole_yuan", e.do(s.acct, "POST", path, with("max_amount", "800000.50")))
	e.refused(400, "tier_invalid", e.do(s.acct, "POST", path, with("tier", "group")))
	e.refused(422, "deadline_past", e.do(s.acct, "POST", path, with("deadline", civil.Today(time.Now().AddDate(0, 0, -1)).String())))
	e.refused(400, "user_not_found", e.do(s.acct, "POST", path, with("user_id", 999999)))
	e.refused(404, "round_not_found", e.do(s.other, "POST", path, ok))
	// A mandatory partner whose grade is not listed gets the other-mandatory minimum (250,000).
	e.refused(422, "below_mandatory_min", e.do(s.acct, "POST", path, map[string]any{"user_id": staffer, "tier": "city", "mandatory": true,
		"min_amount": "200000", "max_amount": "300000", "deadline": s.deadline.String()}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused invitations changed the database")
	}
	inv := e.must(201, e.do(s.acct, "POST", path, ok))
	e.refused(409, "invitation_duplicate", e.do(s.acct, "POST", path, ok))
	// A voluntary invitation without a min starts from the voluntary minimum.
	vol := e.must(201, e.do(s.acct, "POST", path, map[string]any{"user_id": staffer, "tier": "other", "max_amount": "300000", "deadline": s.deadline.String()}))
	if vol.Body["min_amount"] != "100000.00" {
		t.Fatalf("voluntary min = %v", vol.Body["min_amount"])
	}
	invPath := path + "/" + itoa(id(inv))
	upd := with("max_amount", "900000")
	upd["version"] = 1
	e.must(200, e.do(s.acct, "PUT", invPath, upd))
	e.refused(409, "stale_version", e.do(s.acct, "PUT", invPath, upd))
	e.must(204, e.do(s.acct, "DELETE", path+"/"+itoa(id(vol)), nil))

	// The sysadmin raises M5's minimum; later invitations follow, the reader sees it.
	ml := e.must(200, e.do(s.acct, "GET", "/api/v1/mandatory-grades", nil))
	if len(ml.Body["grades"].([]any)) != 3 || ml.Body["other_mandatory_min"] != "250000.00" || ml.Body["voluntary_min"] != "100000.00" {
		t.Fatalf("defaults = %s", ml.Raw)
	}
	newList := map[string]any{"grades": []map[string]any{{"grade": "M5", "label": "城市公司总经理", "min_amount": "600000"}},
		"other_mandatory_min": "250000", "voluntary_min": "100000", "version": ml.Body["version"]}
	e.refused(403, "forbidden", e.do(s.acct, "PUT", "/api/v1/mandatory-grades", newList))
	e.must(200, e.do(s.admin, "PUT", "/api/v1/mandatory-grades", newList))
	e.refused(409, "stale_version", e.do(s.admin, "PUT", "/api/v1/mandatory-grades", newList))
	gm2, _ := e.roundPartner("dt_gm2", "总经理二", "M5")
	e.refused(422, "below_mandatory_min", e.do(s.acct, "POST", path, map[string]any{"user_id": gm2, "tier": "city", "mandatory": true,
		"min_amount": "500000", "max_amount": "800000", "deadline": s.deadline.String()}))
}

// Raw2 is the raw body as a string.
func (r response) Raw2() string { return string(r.Raw) }

func TestSubscriptionNoticesTestThenRealOnce(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	notices := "/api/v1/rounds/" + itoa(s.roundID) + "/notices/subscription"
	e.refused(422, "invitations_missing", e.do(s.acct, "POST", notices, map[string]any{"test": true}))
	s.invite(t, e)

	e.must(200, e.do(s.acct, "POST", notices, map[string]any{"test": true}))
	e.roundDrain()
	if n := len(e.sim.Notices("dt_城市会计")); n != 1 {
		t.Fatalf("the caller got %d test notices", n)
	}
	for _, u := range s.userids {
		if n := len(e.sim.Notices(u)); n != 0 {
			t.Fatalf("test notice reached partner %s", u)
		}
	}
	if r := e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil)); r.Body["status"] != "draft" {
		t.Fatalf("a test send opened the round: %s", r.Raw)
	}
	// Partners see nothing before the real send.
	if r := e.must(200, e.do(s.tokens[0], "GET", "/api/v1/me/invitations", nil)); len(r.Body["items"].([]any)) != 0 {
		t.Fatalf("draft invitation shown: %s", r.Raw)
	}

	res := e.must(200, e.do(s.acct, "POST", notices, map[string]any{"test": false}))
	if res.Body["recipients"].(float64) != 4 || res.Body["status"] != "open" {
		t.Fatalf("send = %s", res.Raw)
	}
	e.refused(409, "notices_already_sent", e.do(s.acct, "POST", notices, map[string]any{"test": false}))
	e.roundDrain()
	// A partner added to the open round is told by the next send, and only they are.
	late, _ := e.roundPartner("dt_E", "戊", "P4")
	e.must(201, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations", map[string]any{
		"user_id": late, "tier": "city", "min_amount": "100000", "max_amount": "200000", "deadline": s.deadline.String()}))
	if r := e.must(200, e.do(s.acct, "POST", notices, map[string]any{"test": false})); r.Body["recipients"].(float64) != 1 {
		t.Fatalf("late send = %s", r.Raw)
	}
	e.refused(409, "notices_already_sent", e.do(s.acct, "POST", notices, map[string]any{"test": false}))
	e.roundDrain()
	if n := len(e.sim.Notices("dt_E")); n != 1 {
		t.Fatalf("the late partner got %d notices", n)
	}
	for _, u := range s.userids {
		ns := e.sim.Notices(u)
		if len(ns) != 1 || !strings.Contains(string(ns[0].Msg), "常州项目") {
			t.Fatalf("%s got %d notices: %+v", u, len(ns), ns)
		}
	}
	var robots int
	e.db.Get(&robots, `SELECT count(*) FROM notify_outbox WHERE kind = 'robot' AND template = 'subscription_sent' AND org_unit_id = $1`, s.w.cityA)
	if robots != 1 {
		t.Fatalf("%d subscription_sent robot alerts", robots)
	}
	r := e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil))
	if r.Body["status"] != "open" || r.Body["invited"].(float64) != 5 || r.Body["deadline"] != s.deadline.String() || r.Body["notices_sent_at"] == nil {
		t.Fatalf("round = %s", r.Raw)
	}
}

func TestSubscriptionRefusalsChangeNothing(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	s.invite(t, e)
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/notices/subscription", map[string]any{"test": false}))
	mine := e.must(200, e.do(s.tokens[2], "GET", "/api/v1/me/invitations", nil))
	items := mine.Body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("C sees %s", mine.Raw)
	}
	it := items[0].(map[string]any)
	if it["project_name"] != "常州项目" || it["tier"] != "city" || it["min_amount"] != "100000.00" || it["max_amount"] != "400000.00" ||
		it["status"] != "open" || it["amount"] != nil || it["deadline"] != s.deadline.String() {
		t.Fatalf("C's invitation = %v", it)
	}
	sub := func(i int, body map[string]any) response {
		return e.do(s.tokens[i], "PUT", "/api/v1/me/invitations/"+itoa(s.invitations[i])+"/subscription", body)
	}
	onBehalf := func(token string, i int, body map[string]any) response {
		return e.do(token, "PUT", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations/"+itoa(s.invitations[i])+"/subscription", body)
	}
	before := fingerprint(t, e.db)
	e.refused(422, "subscription_above_max", sub(2, map[string]any{"amount": "400001", "risk_acknowledged": true}))
	e.refused(422, "subscription_below_min", sub(2, map[string]any{"amount": "99999", "risk_acknowledged": true}))
	e.refused(400, "amount_not_whole_yuan", sub(2, map[string]any{"amount": "300000.50", "risk_acknowledged": true}))
	e.refused(422, "risk_not_acknowledged", sub(2, map[string]any{"amount": "300000"}))
	// Another partner's invitation does not exist for C.
	e.refused(404, "invitation_not_found", e.do(s.tokens[2], "PUT", "/api/v1/me/invitations/"+itoa(s.invitations[3])+"/subscription",
		map[string]any{"amount": "300000", "risk_acknowledged": true}))
	e.refused(404, "invitation_not_found", e.do(s.tokens[2], "GET", "/api/v1/me/invitations/"+itoa(s.invitations[3])+"/history", nil))
	// An ungranted accountant, a partner and a reasonless accountant cannot record on behalf.
	e.refused(404, "round_not_found", onBehalf(s.other, 0, map[string]any{"amount": "500000", "reason": "电话确认"}))
	e.refused(403, "forbidden", onBehalf(s.tokens[3], 0, map[string]any{"amount": "500000", "reason": "电话确认"}))
	e.refused(400, "reason_required", onBehalf(s.acct, 0, map[string]any{"amount": "500000"}))
	e.refused(422, "subscription_below_min", onBehalf(s.acct, 0, map[string]any{"amount": "499999", "reason": "电话确认"}))
	// After the deadline (end of day, Asia/Shanghai).
	end := s.deadline.EndExclusive()
	e.wire.Rounds.Now = func() time.Time { return end }
	e.refused(422, "subscription_deadline_passed", sub(2, map[string]any{"amount": "300000", "risk_acknowledged": true}))
	e.wire.Rounds.Now = func() time.Time { return end.Add(-time.Second) }
	if fingerprint(t, e.db) != before {
		t.Fatal("refused subscriptions changed the database")
	}

	// One second before the end of the deadline day it is still accepted; the last amount counts.
	e.must(200, sub(2, map[string]any{"amount": "300000", "risk_acknowledged": true}))
	r := e.must(200, sub(2, map[string]any{"amount": "400000", "risk_acknowledged": true}))
	if r.Body["amount"] != "400000.00" {
		t.Fatalf("amount = %v", r.Body["amount"])
	}
	r = e.must(200, onBehalf(s.acct, 0, map[string]any{"amount": "500000", "reason": "电话确认"}))
	if r.Body["on_behalf"] != true || r.Body["subscribed_by"] != "城市会计" {
		t.Fatalf("on behalf = %s", r.Raw)
	}
	h := e.must(200, e.do(s.tokens[2], "GET", "/api/v1/me/invitations/"+itoa(s.invitations[2])+"/history", nil))
	hs := h.Body["items"].([]any)
	if len(hs) != 2 || hs[0].(map[string]any)["amount"] != "300000.00" || hs[1].(map[string]any)["previous_amount"] != "300000.00" {
		t.Fatalf("history = %s", h.Raw)
	}
	h = e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations/"+itoa(s.invitations[0])+"/history", nil))
	if e0 := h.Body["items"].([]any)[0].(map[string]any); e0["on_behalf"] != true || e0["reason"] != "电话确认" || e0["by_name"] != "城市会计" {
		t.Fatalf("on-behalf history = %s", h.Raw)
	}
	rd := e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil))
	if rd.Body["subscription_seq"].(float64) != 3 || rd.Body["subscribed"].(float64) != 2 || rd.Body["requested"] != "900000.00" {
		t.Fatalf("round = %s", rd.Raw)
	}

	// Close by hand: B (mandatory) has not subscribed → robot alert; no more subscriptions.
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/close", nil))
	var missing string
	e.db.Get(&missing, `SELECT data->>'missing_count' FROM notify_outbox WHERE template = 'deadline_missing' AND org_unit_id = $1`, s.w.cityA)
	if missing != "1" {
		t.Fatalf("deadline_missing count = %q", missing)
	}
	e.refused(409, "round_not_open", sub(3, map[string]any{"amount": "300000", "risk_acknowledged": true}))
	e.refused(409, "round_state", e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/close", nil))
	// B missed the deadline: the accountant records B's subscription after it, within B's limits.
	e.wire.Rounds.Now = func() time.Time { return end.Add(time.Hour) }
	e.refused(422, "subscription_above_max", onBehalf(s.acct, 1, map[string]any{"amount": "500001", "reason": "逾期补录"}))
	r = e.must(200, onBehalf(s.acct, 1, map[string]any{"amount": "300000", "reason": "逾期补录"}))
	if r.Body["amount"] != "300000.00" || r.Body["on_behalf"] != true {
		t.Fatalf("late on behalf = %s", r.Raw)
	}
}

// Segregation of duties: an accountant who is the partner cannot record their own subscription.
func TestAccountantCannotSubscribeForThemselves(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	// Nor put themselves on the list (segregation of duties): someone else does.
	e.refused(403, "own_line", e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations", map[string]any{
		"user_id": s.acctID, "tier": "city", "min_amount": "100000", "max_amount": "200000", "deadline": s.deadline.String()}))
	inv, err := e.deps.Rounds.AddInvitation(context.Background(), audit.System, s.roundID, round.InvitationInput{UserID: s.acctID, Tier: "city",
		MinAmount: "100000", MaxAmount: "200000", Deadline: s.deadline})
	if err != nil {
		t.Fatal(err)
	}
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/notices/subscription", map[string]any{"test": false}))
	e.refused(403, "own_line", e.do(s.acct, "PUT", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations/"+itoa(inv.ID)+"/subscription",
		map[string]any{"amount": "150000", "reason": "代录"}))
	// As a partner they subscribe themselves, on the phone.
	e.must(200, e.do(s.acct, "PUT", "/api/v1/me/invitations/"+itoa(inv.ID)+"/subscription", map[string]any{"amount": "150000", "risk_acknowledged": true}))
}

func TestCloseDueAtDeadline(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	s.invite(t, e)
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/notices/subscription", map[string]any{"test": false}))
	ctx := context.Background()
	if n, err := e.wire.Rounds.CloseDue(ctx, s.deadline.EndExclusive().Add(-time.Second)); err != nil || n != 0 {
		t.Fatalf("before the end of the deadline day: closed %d, %v", n, err)
	}
	if n, err := e.wire.Rounds.CloseDue(ctx, s.deadline.EndExclusive()); err != nil || n != 1 {
		t.Fatalf("at the end of the deadline day: closed %d, %v", n, err)
	}
	r := e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil))
	if r.Body["status"] != "closed" || r.Body["mandatory_missing"].(float64) != 2 {
		t.Fatalf("round = %s", r.Raw)
	}
	var missing string
	e.db.Get(&missing, `SELECT data->>'missing_count' FROM notify_outbox WHERE template = 'deadline_missing'`)
	if missing != "2" {
		t.Fatalf("missing = %q", missing)
	}
}

func TestReviewTransitions(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	_, biz := e.mustUser("业务管理员", "bizadmin")
	review := "/api/v1/rounds/" + itoa(s.roundID) + "/review"
	e.refused(409, "round_state", e.do(biz, "POST", review, map[string]any{"decision": "approve"}))
	e.db.MustExec(`UPDATE rounds SET status = 'submitted' WHERE id = $1`, s.roundID)
	before := fingerprint(t, e.db)
	e.refused(403, "forbidden", e.do(s.acct, "POST", review, map[string]any{"decision": "approve"}))
	e.refused(400, "reason_required", e.do(biz, "POST", review, map[string]any{"decision": "reject"}))
	e.refused(400, "decision_invalid", e.do(biz, "POST", review, map[string]any{"decision": "maybe"}))
	// A business admin invited into the round cannot review it.
	partnerBizID, partnerBiz := e.mustUser("业务管理员兼合伙人", "bizadmin")
	e.db.MustExec(`INSERT INTO partners (kind, user_id, name) VALUES ('employee', $1, '业务管理员兼合伙人')`, partnerBizID)
	e.db.MustExec(`INSERT INTO invitations (round_id, partner_id, user_id, tier, min_amount, max_amount, deadline)
		SELECT $1, id, user_id, 'city', 100000, 200000, current_date + 10 FROM partners WHERE user_id = $2`, s.roundID, partnerBizID)
	before = fingerprint(t, e.db)
	e.refused(403, "own_line", e.do(partnerBiz, "POST", review, map[string]any{"decision": "approve"}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused reviews changed the database")
	}
	r := e.must(200, e.do(biz, "POST", review, map[string]any{"decision": "reject", "reason": "城市公司层级超额"}))
	if r.Body["status"] != "calculated" || r.Body["review_reason"] != "城市公司层级超额" {
		t.Fatalf("reject = %s", r.Raw)
	}
	e.db.MustExec(`UPDATE rounds SET status = 'submitted' WHERE id = $1`, s.roundID)
	r = e.must(200, e.do(biz, "POST", review, map[string]any{"decision": "approve"}))
	if r.Body["status"] != "reviewed" || r.Body["reviewed_by"] != "业务管理员" {
		t.Fatalf("approve = %s", r.Raw)
	}
	var results []string
	e.db.Select(&results, `SELECT data->>'result' FROM notify_outbox WHERE template = 'round_review' ORDER BY id`)
	if fmt.Sprint(results) != "[驳回 通过]" {
		t.Fatalf("review alerts = %v", results)
	}
}

func TestPartnerListImportAllOrNothing(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	e.roundPartner("101", "赵一", "M5")
	e.roundPartner("102", "钱二", "P5")
	sheet := func(rows ...[]any) []byte {
		f := excelize.NewFile()
		header := make([]any, len(round.ImportColumns))
		for i, c := range round.ImportColumns {
			header[i] = c
		}
		f.SetSheetRow("Sheet1", "A1", &header)
		for i, r := range rows {
			f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &r)
		}
		b, _ := f.WriteToBuffer()
		return b.Bytes()
	}
	d := s.deadline.String()
	path := "/api/v1/rounds/" + itoa(s.roundID) + "/invitations/import"
	before := fingerprint(t, e.db)
	r := e.upload(s.acct, path, sheet(
		[]any{"J101", "赵一", "城市公司", "是", "500000", "800000", d},
		[]any{"J102", "钱二", "城市公司", "否", "100000", "abc", d},
	))
	if r.Status != 400 || r.errCode() != "import_invalid" || !strings.Contains(r.Raw2(), `"row":3`) || !strings.Contains(r.Raw2(), `"column":"认购上限"`) {
		t.Fatalf("bad import = %d %s", r.Status, r.Raw)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused import changed the database")
	}
	r = e.upload(s.acct, path, sheet(
		[]any{"J101", "赵一", "城市公司", "是", "500000", "800000", d},
		[]any{"J102", "钱二", "其它", "否", "100000", "300000", d},
	))
	if r.Status != 200 || r.Body["imported"].(float64) != 2 {
		t.Fatalf("import = %d %s", r.Status, r.Raw)
	}
	tpl := e.do(s.acct, "GET", "/api/v1/invitations/import/template", nil)
	if tpl.Status != 200 {
		t.Fatalf("template: %d", tpl.Status)
	}
	if f, err := excelize.OpenReader(strings.NewReader(tpl.Raw2())); err != nil {
		t.Fatal(err)
	} else if row, _ := f.GetRows(f.GetSheetList()[0]); len(row) < 1 || row[0][0] != "工号" {
		t.Fatalf("template rows = %v", row)
	}
}

// Must show: 200 partners subscribe at once, some twice → every last amount
// kept, history complete, subscription_seq = number of changes.
func TestConcurrentSubscriptions(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	ctx := context.Background()
	const n = 200
	tokens := make([]string, n)
	invs := make([]int64, n)
	for i := range n {
		u, err := e.deps.Org.CreateUser(ctx, audit.System, org.UserInput{Name: fmt.Sprintf("合伙人%03d", i), DingTalkUserID: fmt.Sprintf("dt_p%03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := e.deps.Rounds.AddInvitation(ctx, audit.System, s.roundID, round.InvitationInput{UserID: u.ID, Tier: round.Tiers[i%4],
			MinAmount: "10000", MaxAmount: "1000000", Deadline: s.deadline})
		if err != nil {
			t.Fatal(err)
		}
		invs[i] = inv.ID
		if tokens[i], _, err = e.deps.Auth.SignInUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/notices/subscription", map[string]any{"test": false}))
	amount := func(i, k int) string { return fmt.Sprint(10000 + i*100 + k) }
	var wg sync.WaitGroup
	changes := 0
	for i := range n {
		times := 1 + i%3/2 // every third partner subscribes twice
		changes += times
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range times {
				r := e.do(tokens[i], "PUT", "/api/v1/me/invitations/"+itoa(invs[i])+"/subscription",
					map[string]any{"amount": amount(i, k), "risk_acknowledged": true})
				if r.Status != 200 {
					t.Errorf("partner %d: %d %s", i, r.Status, r.Raw)
				}
			}
		}()
	}
	wg.Wait()
	var rows []struct {
		ID     int64  `db:"id"`
		Amount string `db:"amount"`
		H      int    `db:"h"`
	}
	e.db.Select(&rows, `SELECT i.id, i.amount::text AS amount, (SELECT count(*) FROM subscription_history h WHERE h.invitation_id = i.id) AS h
		FROM invitations i WHERE round_id = $1 ORDER BY id`, s.roundID)
	byID := map[int64]int{}
	for i, v := range invs {
		byID[v] = i
	}
	total := 0
	for _, r := range rows {
		i := byID[r.ID]
		times := 1 + i%3/2
		if want := amount(i, times-1) + ".00"; r.Amount != want || r.H != times {
			t.Fatalf("partner %d: amount %s history %d, want %s and %d", i, r.Amount, r.H, want, times)
		}
		total += r.H
	}
	var seq int
	e.db.Get(&seq, `SELECT subscription_seq FROM rounds WHERE id = $1`, s.roundID)
	if seq != changes || total != changes {
		t.Fatalf("subscription_seq %d, history %d, want %d", seq, total, changes)
	}
	var distinct int
	e.db.Get(&distinct, `SELECT count(DISTINCT subscription_seq) FROM subscription_history WHERE round_id = $1`, s.roundID)
	if distinct != changes {
		t.Fatalf("%d distinct seqs in history, want %d", distinct, changes)
	}
}

// The establishment process goes only for a reviewed initial round on
// locked peak capital; each refusal changes nothing.
func TestEstablishmentProcessNeedsAReviewedRound(t *testing.T) {
	e := newEnv(t)
	s := newRoundSetup(t, e)
	launch := func(kind string) response {
		return e.do(s.acct, "POST", "/api/v1/projects/"+itoa(s.w.projA)+"/processes",
			map[string]any{"kind": kind, "subject_id": s.roundID, "form": map[string]string{"情况说明": "立项"}})
	}
	e.db.MustExec(`UPDATE rounds SET status = 'calculated' WHERE id = $1`, s.roundID)
	before := fingerprint(t, e.db)
	e.refused(422, "round_not_reviewed", launch("establishment"))
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused launch changed the database")
	}
	e.db.MustExec(`UPDATE rounds SET status = 'reviewed' WHERE id = $1`, s.roundID)
	e.refused(422, "round_kind_mismatch", launch("supplementary"))
	e.must(200, e.do(s.acct, "PUT", "/api/v1/projects/"+itoa(s.w.projA)+"/establishment", map[string]any{
		"peak_capital": "220000000", "tier_ratios": map[string]string{"holding": "0", "property": "0.0331", "city": "0.006", "other": "0"},
		"funding_date": s.deadline.String(), "financing_rate": "0.0435", "version": 0}))
	e.refused(422, "peak_not_locked", launch("establishment"))
	r := e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil))
	if r.Body["status"] != "reviewed" || r.Body["pools"].(map[string]any)["city"] != "1320000.00" {
		t.Fatalf("round = %s", r.Raw)
	}

	// Through review for real: one partner subscribes, the accountant calculates and submits, the business admin approves.
	e.db.MustExec(`UPDATE rounds SET status = 'draft' WHERE id = $1`, s.roundID)
	uid, token := e.roundPartner("dt_solo", "独行", "P5")
	inv := e.must(201, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/invitations", map[string]any{
		"user_id": uid, "tier": "city", "min_amount": "100000", "max_amount": "500000", "deadline": s.deadline.String()}))
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/notices/subscription", map[string]any{"test": false}))
	e.must(200, e.do(token, "PUT", "/api/v1/me/invitations/"+itoa(id(inv))+"/subscription", map[string]any{"amount": "300000", "risk_acknowledged": true}))
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/close", nil))
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/allocation", nil))
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/submit", nil))
	_, biz := e.mustUser("业务管理员", "bizadmin")
	e.must(200, e.do(biz, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/review", map[string]any{"decision": "approve"}))
	e.db.MustExec(`UPDATE establishments SET peak_locked_at = now() WHERE project_id = $1`, s.w.projA)
	// Launching freezes the funding date and rate, so it is refused before
	// DingTalk is asked when there is no rate (no override, no rate table).
	e.db.MustExec(`UPDATE establishments SET financing_rate = NULL WHERE project_id = $1`, s.w.projA)
	before = fingerprint(t, e.db)
	e.refused(422, "financing_rate_missing", launch("establishment"))
	if fingerprint(t, e.db) != before || len(e.sim.Approvals("")) != 0 {
		t.Fatal("a launch without a rate changed the database or reached DingTalk")
	}
	e.db.MustExec(`UPDATE establishments SET financing_rate = 0.0435 WHERE project_id = $1`, s.w.projA)
	p := e.must(201, launch("establishment"))
	r = e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil))
	if r.Body["status"] != "in_approval" {
		t.Fatalf("after launch: %s", r.Raw)
	}
	var form string
	e.db.Get(&form, `SELECT form::text FROM processes WHERE id = $1`, id(p))
	for _, want := range []string{"合伙人数", "城市公司跟投额（元）", "300000.00", "跟投总额（元）"} {
		if !strings.Contains(form, want) {
			t.Fatalf("form lacks %s: %s", want, form)
		}
	}
	var sheets int
	e.db.Get(&sheets, `SELECT count(*) FROM process_attachments WHERE process_id = $1 AND role = 'sheet'`, id(p))
	if sheets != 1 {
		t.Fatalf("%d calculation sheets on the form", sheets)
	}
}
