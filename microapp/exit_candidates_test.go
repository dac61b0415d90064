package microapp_test

import (
	"strings"
	"testing"

	"hehuo/internal/dtsim"
	"hehuo/internal/holding/holdingtest"
)

// A user who leaves DingTalk still holding principal is an exit to start:
// the sync that disables them posts one robot alert in the city company's
// group naming them (no amounts), and GET /api/v1/exit-candidates lists them
// for the accountants of their projects; a leaver without stakes is not
// listed, and a later sync alerts nobody again.
func TestSyncListsLeaversHoldingStakes(t *testing.T) {
	e := newEnv(t)
	e.withSecretKey()
	admin := e.admin()
	w := e.mustWorld(admin)
	e.sim.AddRobot(dtsim.Robot{Name: "环沪会计群机器人", AccessToken: "leaverrobottoken0123456789", Secret: "SECleaver0123456789abcdef", Conversation: flowConv})
	e.must(201, e.do(admin, "POST", "/api/v1/dingtalk/robots", map[string]any{
		"org_unit_id": w.cityA, "name": flowConv, "secret": "SECleaver0123456789abcdef",
		"webhook_url": e.sim.URL + "/robot/send?access_token=leaverrobottoken0123456789",
	}))
	acctA, tokA := e.mustUser("环沪会计", "accountant")
	acctB, tokB := e.mustUser("昆明会计", "accountant")
	_, partnerTok := e.mustUser("合伙人丁")
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityA)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctA}}}}))
	e.must(200, e.do(admin, "PUT", "/api/v1/org-units/"+itoa(w.cityB)+"/grants",
		map[string]any{"grants": []map[string]any{{"role": "accountant", "user_ids": []int64{acctB}}}}))

	// Three employees in DingTalk, synced into Hehuo.
	e.sim.AddUser(dtsim.User{UserID: "zhang_leaves", Name: "张离职"})
	e.sim.AddUser(dtsim.User{UserID: "li_leaves", Name: "李无份额"})
	e.sim.AddUser(dtsim.User{UserID: "wang_stays", Name: "王在职"})
	e.must(200, e.do(admin, "POST", "/api/v1/users/sync", nil))
	zhang, wang := holdingtest.Partner(t, e.db, e.userID("zhang_leaves")), holdingtest.Partner(t, e.db, e.userID("wang_stays"))
	// 张 paid 300,000 in project A (city A) and got 100,000 back; 王 paid too and stays.
	holdingtest.Round(t, e.db, w.projA, "approved", map[int64]string{zhang: "300000", wang: "100000"})
	holdingtest.Pay(t, e.db, w.projA, zhang, "300000.00")
	holdingtest.ReturnPrincipal(t, e.db, w.projA, zhang, "100000.00")
	holdingtest.Pay(t, e.db, w.projA, wang, "100000.00")

	empty := e.must(200, e.do(admin, "GET", "/api/v1/exit-candidates", nil))
	if n := len(empty.Body["items"].([]any)); n != 0 {
		t.Fatalf("candidates before anyone left: %v", empty.Body)
	}

	// 张 and 李 leave: DingTalk no longer lists them (moved out of every department).
	e.sim.AddUser(dtsim.User{UserID: "zhang_leaves", Name: "张离职", DeptID: 999})
	e.sim.AddUser(dtsim.User{UserID: "li_leaves", Name: "李无份额", DeptID: 999})
	rep := e.must(200, e.do(admin, "POST", "/api/v1/users/sync", nil)).Body
	if num(rep["disabled"]) != 2 || num(rep["exit_candidates"]) != 1 {
		t.Fatalf("sync report = %v", rep)
	}
	e.drain()
	if n := e.robotMessages(flowConv, "张离职", "退出"); n != 1 {
		t.Fatalf("robot alerts naming 张离职: %d, want 1: %+v", n, e.sim.RobotMessages())
	}
	for _, m := range e.sim.RobotMessages() {
		if s := string(m.Msg); strings.Contains(s, "李无份额") || strings.Contains(s, "王在职") || strings.Contains(s, "200,000") ||
			strings.Contains(s, "200000") {
			t.Fatalf("the alert names more than the leaver holding stakes: %s", s)
		}
	}

	list := e.must(200, e.do(tokA, "GET", "/api/v1/exit-candidates", nil)).Body["items"].([]any)
	if len(list) != 1 {
		t.Fatalf("city A's accountant sees %v", list)
	}
	c := list[0].(map[string]any)
	ps := c["projects"].([]any)
	if c["name"] != "张离职" || num(c["user_id"]) != e.userID("zhang_leaves") || len(ps) != 1 ||
		num(ps[0].(map[string]any)["project_id"]) != w.projA || ps[0].(map[string]any)["held"] != "200000.00" {
		t.Fatalf("candidate = %v", c)
	}
	if got := e.must(200, e.do(admin, "GET", "/api/v1/exit-candidates", nil)).Body["items"].([]any); len(got) != 1 {
		t.Fatalf("admin sees %v", got)
	}
	if got := e.must(200, e.do(tokB, "GET", "/api/v1/exit-candidates", nil)).Body["items"].([]any); len(got) != 0 {
		t.Fatalf("city B's accountant sees %v", got)
	}
	if r := e.do(partnerTok, "GET", "/api/v1/exit-candidates", nil); r.Status != 403 {
		t.Fatalf("partner: %d", r.Status)
	}

	// A second sync changes nothing and alerts nobody again.
	before := len(e.sim.RobotMessages())
	rep = e.must(200, e.do(admin, "POST", "/api/v1/users/sync", nil)).Body
	e.drain()
	if num(rep["exit_candidates"]) != 0 || len(e.sim.RobotMessages()) != before {
		t.Fatalf("second sync: %v, robot messages %d → %d", rep, before, len(e.sim.RobotMessages()))
	}

	// Once the stake is gone (here: returned in full), the candidate leaves the list.
	holdingtest.ReturnPrincipal(t, e.db, w.projA, zhang, "200000.00")
	if got := e.must(200, e.do(admin, "GET", "/api/v1/exit-candidates", nil)).Body["items"].([]any); len(got) != 0 {
		t.Fatalf("after the stake is gone: %v", got)
	}
}
