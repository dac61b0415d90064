package dtsim_test

import (
	"bytes"
	"testing"

	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

// What a person sees survives a restart: users, inboxes, robots and their
// messages, and a running approval, which can still be decided afterwards
// (and a same-day duplicate notice is still dropped, as DingTalk would).
func TestSnapshotRestoresWhatAPersonSees(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三"})
	s.AddUser(dtsim.User{UserID: "lisi", Name: "李四"})
	tok := oldToken(t, s)
	sendNotice(t, s, tok, []string{"lisi"}, "## 缴款提醒")
	_, m := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances", map[string]any{"processCode": "PROC-PEAK", "originatorUserId": "zhangsan",
		"formComponentValues": []map[string]string{{"name": "项目", "value": "锦艺一期"}}})
	id := m["instanceId"].(string)
	state, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Snapshot(); !bytes.Equal(state, again) {
		t.Fatal("the same state gave different snapshots")
	}

	restarted := dtsimtest.Start(t)
	if err := restarted.Restore(state); err != nil {
		t.Fatal(err)
	}
	if us := restarted.Users(); len(us) != 2 || us[1].Name != "李四" {
		t.Fatalf("users after restart: %+v", us)
	}
	if ns := restarted.Notices("lisi"); len(ns) != 1 || !bytes.Contains(ns[0].Msg, []byte("缴款提醒")) {
		t.Fatalf("李四's inbox after restart: %+v", ns)
	}
	if running := restarted.Approvals("RUNNING"); len(running) != 1 || running[0].InstanceID != id {
		t.Fatalf("running approvals after restart: %+v", running)
	}
	if _, err := restarted.Decide(id, "agree"); err != nil {
		t.Fatalf("deciding the restored approval: %v", err)
	}
	tok2 := oldToken(t, restarted)
	sendNotice(t, restarted, tok2, []string{"lisi"}, "## 缴款提醒")
	if ns := restarted.Notices("lisi"); len(ns) != 2 || !ns[1].Dropped {
		t.Fatalf("the same notice the same day after restart: %+v", ns)
	}
	if err := restarted.Restore([]byte(`{"version":99}`)); err == nil {
		t.Fatal("a snapshot of another version was restored")
	}
}
