package directory_test

import (
	"context"
	"strings"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/cache/cachetest"
	"hehuo/internal/db/dbtest"
	"hehuo/internal/dingtalk"
	"hehuo/internal/directory"
	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
	"hehuo/internal/org"
)

// DingTalk's values are fitted into Hehuo's columns: a long name is cut, a
// +86 mobile loses its prefix, and a mobile Hehuo cannot use never
// overwrites the one it has.
func TestSyncFitsDingTalkValues(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	svc := directory.NewService(d, dingtalk.New(sim.DingTalkConfig(), cachetest.New(t)))
	orgs := org.NewService(d)

	long := strings.Repeat("长", 50)
	sim.AddUser(dtsim.User{UserID: "long", Name: long, Mobile: "+86-13900000001", Title: strings.Repeat("职", 70)})
	sim.AddUser(dtsim.User{UserID: "hk", Name: "香港同事", Mobile: "852-61234567"})
	hk, err := orgs.CreateUser(ctx, audit.System, org.UserInput{Name: "香港同事", DingTalkUserID: "hk", Mobile: "13900000002"})
	if err != nil {
		t.Fatal(err)
	}

	rep, err := svc.Sync(ctx, audit.System)
	if err != nil {
		t.Fatal(err)
	}
	// The hand-made user is updated all the same: their DingTalk department is recorded.
	if rep != (directory.Report{Created: 1, Updated: 1, Departments: 1}) {
		t.Fatalf("report %+v, want 1 created, 1 updated, 1 department", rep)
	}
	var got org.User
	if err := d.Get(&got, `SELECT name, mobile, title FROM users WHERE dingtalk_userid = 'long'`); err != nil {
		t.Fatal(err)
	}
	if got.Name != strings.Repeat("长", 40) || got.Mobile != "13900000001" || len([]rune(got.Title)) != 60 {
		t.Fatalf("stored %q / %q / %d-character title", got.Name, got.Mobile, len([]rune(got.Title)))
	}
	after, err := orgs.User(ctx, hk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Mobile != "13900000002" {
		t.Fatalf("a foreign DingTalk mobile changed the user: %+v", after)
	}
}

// Two syncs at once take turns: the new employee is created once.
func TestConcurrentSyncsCreateOnce(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	sim := dtsimtest.Start(t)
	svc := directory.NewService(d, dingtalk.New(sim.DingTalkConfig(), cachetest.New(t)))
	sim.AddUser(dtsim.User{UserID: "zhangsan", Name: "张三"})

	errs := make(chan error, 4)
	reps := make(chan directory.Report, 4)
	for range 4 {
		go func() {
			rep, err := svc.Sync(ctx, audit.System)
			errs <- err
			reps <- rep
		}()
	}
	created := 0
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		created += (<-reps).Created
	}
	var n int
	d.Get(&n, `SELECT count(*) FROM users WHERE dingtalk_userid = 'zhangsan'`)
	if created != 1 || n != 1 {
		t.Fatalf("%d syncs reported a creation and %d users exist, want 1 and 1", created, n)
	}
}
