package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/db"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/notify"
)

func childOrgUnit(t *testing.T, d *db.DB, parent int64, name string) int64 {
	t.Helper()
	var id int64
	if err := d.Get(&id, `INSERT INTO org_units (parent_id, name, kind) VALUES ($1, $2, 'city') RETURNING id`, parent, name); err != nil {
		t.Fatal(err)
	}
	return id
}

func robotNotice(key string, orgUnit int64) notify.Notice {
	return notify.Notice{Kind: notify.KindRobot, OrgUnitID: &orgUnit, Template: "approval_result", DedupeKey: key,
		Data: map[string]any{"project_name": "常州项目", "process_name": "资金峰值审批", "result": "通过", "finished_at": key, "link": "/m/"}}
}

func TestRobotNoticeGoesToNearestRobot(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	s := newService(t, d, sim)
	ctx := context.Background()
	group := mustOrgUnit(t, d, "锦艺集团")
	city := childOrgUnit(t, d, group, "常州城市公司")
	lonely := mustOrgUnit(t, d, "无机器人集团")
	sim.AddRobot(dtsim.Robot{Name: "集团群", AccessToken: "tok-group", Secret: "SECgroupsecret123", Conversation: "集团经营会计群"})
	sim.AddRobot(dtsim.Robot{Name: "错密钥", AccessToken: "tok-wrong", Secret: "SECrealsecret999", Conversation: "错群"})
	str := func(v string) *string { return &v }
	if _, err := s.CreateRobot(ctx, audit.System, notify.RobotInput{OrgUnitID: &group, Name: str("集团群"),
		WebhookURL: str(sim.URL + "/robot/send?access_token=tok-group"), Secret: str("SECgroupsecret123")}); err != nil {
		t.Fatal(err)
	}
	wrongUnit := mustOrgUnit(t, d, "错密钥集团")
	if _, err := s.CreateRobot(ctx, audit.System, notify.RobotInput{OrgUnitID: &wrongUnit, Name: str("错密钥"),
		WebhookURL: str(sim.URL + "/robot/send?access_token=tok-wrong"), Secret: str("SECnotthesecret0")}); err != nil {
		t.Fatal(err)
	}
	ok, _ := enqueue(t, d, robotNotice("2026-11-26 10:30", city))
	noRobot, _ := enqueue(t, d, robotNotice("2026-11-26 10:31", lonely))
	badSign, _ := enqueue(t, d, robotNotice("2026-11-26 10:32", wrongUnit))

	disp := newDispatcher(s)
	sent, err := disp.DrainOnce(ctx)
	if err != nil || sent != 1 {
		t.Fatalf("sent %d, %v; want 1", sent, err)
	}
	msgs := sim.RobotMessages()
	if len(msgs) != 1 || msgs[0].Conversation != "集团经营会计群" {
		t.Fatalf("robot messages: got %+v, want one in 集团经营会计群", msgs)
	}
	var body struct {
		Markdown struct{ Text string } `json:"markdown"`
	}
	if err := json.Unmarshal(msgs[0].Msg, &body); err != nil || !strings.Contains(body.Markdown.Text, "资金峰值审批") {
		t.Fatalf("robot message: %s (%v)", msgs[0].Msg, err)
	}
	if st := outboxStatus(t, d, ok); st != notify.StatusSent {
		t.Fatalf("robot notice: got %s, want sent", st)
	}
	// No robot up the tree, and a refused signature: neither will get
	// better by waiting, so both are dead after one attempt.
	for id, cause := range map[int64]string{noRobot: "robot_not_configured", badSign: "310000"} {
		det, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if det.Status != notify.StatusDead || det.Attempts != 1 || !strings.Contains(det.LastError, cause) {
			t.Fatalf("notice %d: got %s after %d attempts (%q), want dead after 1 for %s", id, det.Status, det.Attempts, det.LastError, cause)
		}
	}
	if n := len(sim.RobotMessages()); n != 1 {
		t.Fatalf("robot messages after the refusals: got %d, want 1", n)
	}
}
