package dingtalk_test

import (
	"context"
	"testing"
	"time"

	"hehuo/internal/dingtalk"
	"hehuo/internal/dtsim"
)

// ApprovalIDs follows DingTalk's pages and finds exactly the originator's
// instances of one template.
func TestApprovalIDsFollowsPages(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 2)
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)
	var want []string
	for i := 0; i < 25; i++ {
		id, err := cl.StartApproval(ctx, dingtalk.ApprovalRequest{ProcessCode: "PROC-Q", OriginatorUserID: "u001"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if _, err := cl.StartApproval(ctx, dingtalk.ApprovalRequest{ProcessCode: "PROC-Q", OriginatorUserID: "u002"}); err != nil {
		t.Fatal(err)
	}
	got, err := cl.ApprovalIDs(ctx, dingtalk.ApprovalQuery{ProcessCode: "PROC-Q", Start: start, UserIDs: []string{"u001"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d ids, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("id %d = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := cl.ApprovalIDs(ctx, dingtalk.ApprovalQuery{ProcessCode: "PROC-Q"}); err == nil {
		t.Error("a query without a start time should be refused")
	}
}

// A busy answer to the create call is returned, not retried: DingTalk may
// have created the instance, and a retry would make a second one.
func TestStartApprovalBusyIsNotRetried(t *testing.T) {
	cl, srv := newClient(t)
	addUsers(srv, 1)
	if _, err := cl.AccessToken(context.Background()); err != nil { // the token call is not the one in doubt
		t.Fatal(err)
	}
	srv.SetFaults(dtsim.Faults{LostAnswerRate: 1})
	_, err := cl.StartApproval(context.Background(), dingtalk.ApprovalRequest{ProcessCode: "PROC-L", OriginatorUserID: "u001"})
	srv.SetFaults(dtsim.Faults{})
	if err == nil {
		t.Fatal("want the busy answer")
	}
	if n := len(srv.Approvals("")); n != 1 {
		t.Errorf("%d instances after one lost answer, want 1 (no retry)", n)
	}
}
