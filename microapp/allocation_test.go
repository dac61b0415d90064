package microapp_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"hehuo/internal/audit"
	"hehuo/internal/civil"
	"hehuo/internal/establishment"
	"hehuo/internal/round"
)

// mustAllocationFixture gives project projectID the terms of RULES R1 and
// round roundID an allocation (a preview while the round is open), so that
// allocation reads in the route matrix have something to return.
func (e *env) mustAllocationFixture(projectID, roundID int64) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.deps.Establishment.PutTerms(ctx, audit.System, projectID, establishment.TermsInput{
		PeakCapital: "220000000", TierRatios: establishment.TierRatios{Holding: "0", Property: "0.0331", City: "0.006", Other: "0"},
		FundingDate: civil.Date{Year: 2024, Month: 3, Day: 1}, FinancingRate: "0.0435",
	}); err != nil {
		e.t.Fatalf("terms: %v", err)
	}
	if _, err := e.deps.Rounds.Allocate(ctx, audit.System, roundID); err != nil {
		e.t.Fatalf("allocation: %v", err)
	}
}

// allocSetup is RULES R3's example over HTTP: terms with the city pool at
// 1,320,000, four partners A–D invited to the city tier, notices sent (the
// round is open) and, when subscribed, A 500,000, B 300,000, C 400,000 and
// D 300,000. The accountant is also invited, to the property tier, so that
// segregation of duties has a line to refuse.
type allocSetup struct {
	roundSetup
	bizadmin, auditor string
	acctInvitation    int64
}

func newAllocSetup(t *testing.T, e *env, perPersonCap string) *allocSetup {
	t.Helper()
	s := &allocSetup{roundSetup: newRoundSetup(t, e)}
	s.bizadmin = e.signIn("hhadmin", bizadminPassword)
	_, s.auditor = e.mustUser("审计丙", "auditor")
	e.must(200, e.do(s.acct, "PUT", "/api/v1/projects/"+itoa(s.w.projA)+"/establishment", with(r1Terms(0), "per_person_cap_ratio", perPersonCap)))
	s.invite(t, e)
	// Invited by someone else: the accountant may not put their own line on the list.
	inv, err := e.deps.Rounds.AddInvitation(context.Background(), audit.System, s.roundID, round.InvitationInput{UserID: s.acctID, Tier: "property",
		MinAmount: "100000", MaxAmount: "200000", Deadline: s.deadline})
	if err != nil {
		t.Fatal(err)
	}
	s.acctInvitation = inv.ID
	e.must(200, e.do(s.acct, "POST", "/api/v1/rounds/"+itoa(s.roundID)+"/notices/subscription", map[string]any{"test": false}))
	return s
}

func (s *allocSetup) subscribe(e *env, i int, amount string) {
	e.t.Helper()
	e.must(200, e.do(s.tokens[i], "PUT", "/api/v1/me/invitations/"+itoa(s.invitations[i])+"/subscription",
		map[string]any{"amount": amount, "risk_acknowledged": true}))
}

func (s *allocSetup) subscribeR3(e *env) {
	for i, amount := range []string{"500000", "300000", "400000", "300000"} {
		s.subscribe(e, i, amount)
	}
}

func (s *allocSetup) path(suffix string) string { return "/api/v1/rounds/" + itoa(s.roundID) + suffix }

// byUser maps the allocation's lines by user id: field → value.
func byUser(r response) map[int64]map[string]any {
	out := map[int64]map[string]any{}
	for _, l := range r.Body["lines"].([]any) {
		m := l.(map[string]any)
		out[int64(m["user_id"].(float64))] = m
	}
	return out
}

func (s *allocSetup) allocated(r response) []string {
	lines := byUser(r)
	out := make([]string, len(s.partners))
	for i, u := range s.partners {
		out[i], _ = lines[u]["allocated"].(string)
	}
	return out
}

func tierOf(r response, tier string) map[string]any {
	for _, t := range r.Body["per_tier"].([]any) {
		if m := t.(map[string]any); m["tier"] == tier {
			return m
		}
	}
	return nil
}

// Must show: RULES R3's example reproduced exactly through the API.
func TestAllocationR3ExampleOverHTTP(t *testing.T) {
	e := newEnv(t)
	s := newAllocSetup(t, e, "0.01")
	s.subscribeR3(e)
	e.must(200, e.do(s.acct, "POST", s.path("/close"), nil))

	r := e.must(200, e.do(s.acct, "POST", s.path("/allocation"), nil))
	want := []string{"500000.00", "300000.00", "297143.00", "222857.00"}
	if got := s.allocated(r); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("allocated = %v, want %v\n%s", got, want, r.Raw)
	}
	if r.Body["preview"] != false || r.Body["stale"] != false || r.Body["balanced"] != true {
		t.Errorf("preview/stale/balanced = %v/%v/%v", r.Body["preview"], r.Body["stale"], r.Body["balanced"])
	}
	if pools := r.Body["pools"].(map[string]any); pools["city"] != "1320000.00" || pools["property"] != "7282000.00" {
		t.Errorf("pools = %v", pools)
	}
	if city := tierOf(r, "city"); city["allocated"] != "1320000.00" || city["effective_ratio"] != "0.006" || city["balanced"] != true {
		t.Errorf("city tier = %v", city)
	}
	// Every line carries the contract's fields; C's trace shows the leftover yuan.
	c := byUser(r)[s.partners[2]]
	for _, f := range []string{"partner_id", "user_id", "tier", "mandatory", "requested", "allocated", "edited", "reason"} {
		if _, ok := c[f]; !ok {
			t.Errorf("line lacks %q: %v", f, c)
		}
	}
	if c["requested"] != "400000.00" || c["mandatory"] != false || c["tier"] != "city" || c["edited"] != false {
		t.Errorf("C's line = %v", c)
	}
	figure := fmt.Sprintf("city.allocated[%d]", int64(c["partner_id"].(float64)))
	var step map[string]any
	for _, st := range r.Body["trace"].([]any) {
		if m := st.(map[string]any); m["figure"] == figure {
			step = m
		}
	}
	if in, _ := step["inputs"].(map[string]any); step["value"] != "297143" || in["精确份额"] != "297142.857143" || in["余数补位"] != "1" {
		t.Errorf("C's trace step = %v", step)
	}
	if g := e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil)); g.Body["status"] != "calculated" {
		t.Fatalf("round status = %v, want calculated", g.Body["status"])
	}
	// GET returns the same; the auditor and the business admin may read it.
	for _, token := range []string{s.acct, s.auditor, s.bizadmin} {
		g := e.must(200, e.do(token, "GET", s.path("/allocation"), nil))
		if got := s.allocated(g); fmt.Sprint(got) != fmt.Sprint(want) || g.Body["stale"] != false {
			t.Fatalf("GET allocated = %v stale %v", got, g.Body["stale"])
		}
	}
	x := e.do(s.acct, "GET", s.path("/allocation.xlsx"), nil)
	if x.Status != 200 || !strings.Contains(x.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: %d %s", x.Status, x.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(x.Raw))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("认购明细")
	if len(rows) != 3+5+1 || rows[len(rows)-1][8] != "1,320,000.00" {
		t.Errorf("xlsx rows = %v", rows)
	}

	sub := e.must(200, e.do(s.acct, "POST", s.path("/submit"), nil))
	if sub.Body["status"] != "submitted" {
		t.Fatalf("submit = %s", sub.Raw)
	}
	e.refused(409, "round_state", e.do(s.acct, "POST", s.path("/submit"), nil))
	e.refused(409, "round_state", e.do(s.acct, "POST", s.path("/allocation"), nil))
}

// On an open round the calculation is a preview; the next subscription
// change makes it stale, and submit refuses an open round and a stale
// allocation without changing anything.
func TestAllocationPreviewGoesStaleOverHTTP(t *testing.T) {
	e := newEnv(t)
	s := newAllocSetup(t, e, "0.01")
	s.subscribeR3(e)

	r := e.must(200, e.do(s.acct, "POST", s.path("/allocation"), nil))
	if r.Body["preview"] != true || r.Body["stale"] != false {
		t.Fatalf("preview/stale = %v/%v", r.Body["preview"], r.Body["stale"])
	}
	if g := e.must(200, e.do(s.acct, "GET", "/api/v1/rounds/"+itoa(s.roundID), nil)); g.Body["status"] != "open" {
		t.Fatalf("a preview changed the round to %v", g.Body["status"])
	}
	before := fingerprint(t, e.db)
	e.refused(409, "round_not_closed", e.do(s.acct, "POST", s.path("/submit"), nil))
	e.refused(409, "round_state", e.do(s.acct, "PATCH", s.path(fmt.Sprintf("/allocation/lines/%d", partnerOf(r, s.partners[2]))),
		map[string]any{"allocated": "290000", "reason": "预览不可调整"}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused requests changed the database")
	}

	s.subscribe(e, 3, "350000") // D changes their mind
	if g := e.must(200, e.do(s.acct, "GET", s.path("/allocation"), nil)); g.Body["stale"] != true {
		t.Fatalf("after a new subscription stale = %v", g.Body["stale"])
	}
	// Closing runs the first allocation (初次自动测算); a late subscription
	// recorded on D's behalf (R2 follow-up) makes it stale again.
	if c := e.must(200, e.do(s.acct, "POST", s.path("/close"), nil)); c.Body["status"] != "calculated" {
		t.Fatalf("after close: status %v, want calculated", c.Body["status"])
	}
	if g := e.must(200, e.do(s.acct, "GET", s.path("/allocation"), nil)); g.Body["stale"] != false || g.Body["preview"] != false {
		t.Fatalf("the automatic allocation: stale %v preview %v", g.Body["stale"], g.Body["preview"])
	}
	e.must(200, e.do(s.acct, "PUT", fmt.Sprintf("/api/v1/rounds/%d/invitations/%d/subscription", s.roundID, s.invitations[3]),
		map[string]any{"amount": "350000", "reason": "截止后补录"}))
	before = fingerprint(t, e.db)
	e.refused(409, "allocation_stale", e.do(s.acct, "POST", s.path("/submit"), nil))
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused submit changed the database")
	}
	r = e.must(200, e.do(s.acct, "POST", s.path("/allocation"), nil))
	// 520,000 split 400:350 → C 277,333.33… D 242,666.66… → 277,333 + 242,667.
	if got := s.allocated(r); got[2] != "277333.00" || got[3] != "242667.00" || r.Body["preview"] != false {
		t.Fatalf("after close: %v preview %v", got, r.Body["preview"])
	}
}

func partnerOf(r response, userID int64) int64 {
	return int64(byUser(r)[userID]["partner_id"].(float64))
}

// Editing lines: R3's bounds, a reason, whole yuan, roles and scope, and
// segregation of duties; then submit refuses an unbalanced tier naming it
// and its excess, and accepts once balanced.
func TestAllocationEditsAndSubmitOverHTTP(t *testing.T) {
	e := newEnv(t)
	s := newAllocSetup(t, e, "0.003") // per-person cap 660,000: below A's max of 800,000
	s.subscribeR3(e)
	e.must(200, e.do(s.acct, "POST", s.path("/close"), nil))
	r := e.must(200, e.do(s.acct, "POST", s.path("/allocation"), nil))
	if r.Body["per_person_cap"] != "660000.00" {
		t.Fatalf("per_person_cap = %v", r.Body["per_person_cap"])
	}
	line := func(i int) string {
		return s.path(fmt.Sprintf("/allocation/lines/%d", partnerOf(r, s.partners[i])))
	}
	own := s.path(fmt.Sprintf("/allocation/lines/%d", partnerOf(r, s.acctID)))

	before := fingerprint(t, e.db)
	for _, tt := range []struct {
		name   string
		token  string
		path   string
		body   any
		status int
		code   string
	}{
		{"above the partner's max", s.acct, line(3), map[string]any{"allocated": "400001", "reason": "调整"}, 422, "allocation_above_max"},
		{"above the per-person cap", s.acct, line(0), map[string]any{"allocated": "660001", "reason": "调整"}, 422, "allocation_above_cap"},
		{"fractional yuan", s.acct, line(2), map[string]any{"allocated": "297142.50", "reason": "调整"}, 400, "allocation_not_whole_yuan"},
		{"more than fen", s.acct, line(2), map[string]any{"allocated": "1.001", "reason": "调整"}, 400, "amount_too_precise"},
		{"a number, not a string", s.acct, line(2), `{"allocated": 297142, "reason": "调整"}`, 400, "amount_invalid"},
		{"negative", s.acct, line(2), map[string]any{"allocated": "-1", "reason": "调整"}, 400, "allocation_negative"},
		{"no reason", s.acct, line(2), map[string]any{"allocated": "297142"}, 400, "required"},
		{"angle brackets in the reason", s.acct, line(2), map[string]any{"allocated": "297142", "reason": "<b>"}, 400, "angle_brackets"},
		{"own line", s.acct, own, map[string]any{"allocated": "200000", "reason": "给自己"}, 403, "own_line"},
		{"partner not in the round", s.acct, s.path("/allocation/lines/999999"), map[string]any{"allocated": "1", "reason": "调整"}, 404, "allocation_line_not_found"},
		{"stale version", s.acct, line(2), map[string]any{"allocated": "297142", "reason": "调整", "version": 0}, 409, "stale_version"},
		{"ungranted accountant", s.other, line(2), map[string]any{"allocated": "297142", "reason": "调整"}, 404, "round_not_found"},
		{"business admin", s.bizadmin, line(2), map[string]any{"allocated": "297142", "reason": "调整"}, 403, "forbidden"},
		{"partner", s.tokens[2], line(2), map[string]any{"allocated": "297142", "reason": "调整"}, 403, "forbidden"},
		{"auditor", s.auditor, line(2), map[string]any{"allocated": "297142", "reason": "调整"}, 403, "forbidden"},
	} {
		if got := e.do(tt.token, "PATCH", tt.path, tt.body); got.Status != tt.status || got.errCode() != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, got.Status, got.Raw, tt.status, tt.code)
		}
	}
	for _, tt := range []struct {
		name   string
		token  string
		method string
		path   string
		status int
	}{
		{"ungranted accountant computes", s.other, "POST", s.path("/allocation"), 404},
		{"ungranted accountant reads", s.other, "GET", s.path("/allocation"), 404},
		{"ungranted accountant exports", s.other, "GET", s.path("/allocation.xlsx"), 404},
		{"ungranted accountant submits", s.other, "POST", s.path("/submit"), 404},
		{"partner reads", s.tokens[0], "GET", s.path("/allocation"), 403},
		{"business admin computes", s.bizadmin, "POST", s.path("/allocation"), 403},
		{"business admin submits", s.bizadmin, "POST", s.path("/submit"), 403},
		{"no such round", s.acct, "GET", "/api/v1/rounds/999999/allocation", 404},
	} {
		if got := e.do(tt.token, tt.method, tt.path, nil); got.Status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, got.Status, got.Raw, tt.status)
		}
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("refused requests changed the database")
	}

	// C up to their max: the city tier is 102,857 over its pool; edits may leave it so.
	ed := e.must(200, e.do(s.acct, "PATCH", line(2), map[string]any{"allocated": "400000", "reason": "集团特批"}))
	c := byUser(ed)[s.partners[2]]
	if c["allocated"] != "400000.00" || c["edited"] != true || c["reason"] != "集团特批" || c["edited_by"] != "城市会计" || c["calculated"] != "297143.00" {
		t.Errorf("edited line = %v", c)
	}
	if ed.Body["balanced"] != false || tierOf(ed, "city")["excess"] != "102857.00" {
		t.Errorf("balanced %v, city %v", ed.Body["balanced"], tierOf(ed, "city"))
	}
	before = fingerprint(t, e.db)
	res := e.do(s.acct, "POST", s.path("/submit"), nil)
	e.refused(422, "allocation_unbalanced", res)
	if msg := res.Body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "城市公司") || !strings.Contains(msg, "102,857.00") {
		t.Errorf("message %q does not name the tier and the excess", msg)
	}
	if fingerprint(t, e.db) != before {
		t.Fatal("a refused submit changed the database")
	}

	// D down by the excess balances the tier; submit goes through.
	e.must(200, e.do(s.acct, "PATCH", line(3), map[string]any{"allocated": "120000", "reason": "让渡给丙"}))
	sub := e.must(200, e.do(s.acct, "POST", s.path("/submit"), nil))
	if sub.Body["status"] != "submitted" {
		t.Fatalf("submit = %s", sub.Raw)
	}
	e.refused(409, "round_state", e.do(s.acct, "PATCH", line(2), map[string]any{"allocated": "297143", "reason": "送审后"}))
}
