package main

import (
	"os"
	"path/filepath"
	"testing"

	"hehuo/internal/config"
	"hehuo/internal/dtsim"
)

func TestSimAppFallsBackToTheDemoApp(t *testing.T) {
	if got := simApp(config.DingTalk{}); got != dtsim.DemoApp() {
		t.Fatalf("no app key: %+v, want the demo app", got)
	}
	d := config.DingTalk{CorpID: "dingcorp", AppKey: "dingkey", AppSecret: "s", AgentID: "9", RobotCode: "dingkey"}
	if got := simApp(d); got.AppKey != "dingkey" || got.AppSecret != "s" || got.AgentID != "9" || got.CorpID != "dingcorp" {
		t.Fatalf("configured app: %+v", got)
	}
}

func TestLoadSimUsers(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full.json")
	os.WriteFile(full, []byte(`{"departments":[{"dept_id":10,"name":"财务部"}],
		"users":[{"userid":"zhangsan","name":"张三","dept_id":10,"mobile":"13800000001"}]}`), 0o600)
	list := filepath.Join(dir, "list.json")
	os.WriteFile(list, []byte(`[{"userid":"lisi","name":"李四"}]`), 0o600)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"users": 3}`), 0o600)

	sim := dtsim.New(dtsim.Config{})
	defer sim.Close()
	if err := loadSimUsers(sim, full); err != nil {
		t.Fatal(err)
	}
	if err := loadSimUsers(sim, list); err != nil {
		t.Fatal(err)
	}
	users := sim.Users()
	if len(users) != 2 || users[0].UserID != "zhangsan" || users[0].DeptID != 10 || users[1].UserID != "lisi" || users[1].DeptID != 1 {
		t.Fatalf("users %+v", users)
	}
	if err := loadSimUsers(sim, bad); err == nil {
		t.Fatal("a malformed users file was accepted")
	}
	if err := loadSimUsers(sim, filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("a missing users file was accepted")
	}
}
