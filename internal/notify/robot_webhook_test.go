package notify_test

import (
	"context"
	"strings"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/notify"
)

// The webhook's access_token lets anyone post to the group: the database
// row holds it sealed (like the signing secret), every read shows it masked,
// and the robot still sends — also for a row stored in clear before
// migration 00016, once the server has sealed it at start.
func TestRobotWebhookIsSealed(t *testing.T) {
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	s := newService(t, d, sim)
	ctx := context.Background()
	const token = "tok0sealed0webhook0123456789abcdef"
	sim.AddRobot(dtsim.Robot{Name: "封存群", AccessToken: token, Secret: "SECsealedsecret123", Conversation: "封存群"})
	unit := mustOrgUnit(t, d, "封存集团")
	str := func(v string) *string { return &v }
	hook := sim.URL + "/robot/send?access_token=" + token
	r, err := s.CreateRobot(ctx, audit.System, notify.RobotInput{OrgUnitID: &unit, Name: str("封存群"), WebhookURL: str(hook), Secret: str("SECsealedsecret123")})
	if err != nil {
		t.Fatal(err)
	}
	inClear := func() int {
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM dingtalk_robots r WHERE r::text LIKE '%' || $1 || '%'`, token); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := inClear(); n != 0 {
		t.Fatalf("%d robot rows hold the access_token in clear", n)
	}
	var logged int
	d.Get(&logged, `SELECT count(*) FROM audit_log WHERE after::text LIKE '%' || $1 || '%'`, token)
	if logged != 0 {
		t.Fatal("the audit log holds the access_token in clear")
	}
	shown, err := s.Robot(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(shown.WebhookURL, token) || !strings.Contains(shown.WebhookURL, "access_token=tok0****cdef") {
		t.Fatalf("robot shows webhook %q, want it masked", shown.WebhookURL)
	}
	wh, err := s.RobotWebhook(ctx, unit)
	if err != nil || wh.URL != hook {
		t.Fatalf("webhook to send with: %q, %v; want %q", wh.URL, err, hook)
	}
	if _, err := s.TestRobot(ctx, audit.System, r.ID); err != nil {
		t.Fatalf("the sealed robot cannot send: %v", err)
	}

	// A row stored in clear before the migration keeps working, and is sealed at start.
	if _, err := d.Exec(`UPDATE dingtalk_robots SET webhook_url = $1, webhook_enc = NULL WHERE id = $2`, hook, r.ID); err != nil {
		t.Fatal(err)
	}
	if wh, err := s.RobotWebhook(ctx, unit); err != nil || wh.URL != hook {
		t.Fatalf("legacy row: %q, %v", wh.URL, err)
	}
	if n, err := s.SealWebhooks(ctx); err != nil || n != 1 {
		t.Fatalf("sealed %d legacy webhooks, %v; want 1", n, err)
	}
	if n := inClear(); n != 0 {
		t.Fatalf("after sealing, %d robot rows hold the access_token in clear", n)
	}
	if wh, err := s.RobotWebhook(ctx, unit); err != nil || wh.URL != hook {
		t.Fatalf("sealed legacy row: %q, %v", wh.URL, err)
	}
	if n, err := s.SealWebhooks(ctx); err != nil || n != 0 {
		t.Fatalf("second start sealed %d, %v; want 0", n, err)
	}
}
