package dtsim_test

import (
	"net/http"
	"testing"
	"time"

	"hehuo/internal/dtsim"
)

// The instance-id query pages by 20 within the window and the template; a
// lost answer creates the instance although the caller sees "busy".
func TestApprovalIDsQueryAndLostAnswer(t *testing.T) {
	s, clk := startWithClock(t)
	s.AddUser(dtsim.User{UserID: "u1", Name: "甲"})
	s.AddUser(dtsim.User{UserID: "u2", Name: "乙"})
	tok := oldToken(t, s)
	start := clk.Now().UnixMilli()
	create := func(code, user string) int {
		st, _ := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances",
			map[string]any{"processCode": code, "originatorUserId": user, "formComponentValues": []any{}})
		clk.Add(time.Second)
		return st
	}
	for i := 0; i < 23; i++ {
		create("PROC-A", "u1")
	}
	create("PROC-A", "u2")
	create("PROC-B", "u1")
	query := func(body map[string]any) (int, []any, any) {
		st, m := newCall(t, s, tok, "POST", "/v1.0/workflow/processes/instanceIds/query", body)
		r, _ := m["result"].(map[string]any)
		list, _ := r["list"].([]any)
		return st, list, r["nextToken"]
	}
	st, list, next := query(map[string]any{"processCode": "PROC-A", "startTime": start, "userIds": []string{"u1"}, "maxResults": 20})
	if st != http.StatusOK || len(list) != 20 || next != float64(20) {
		t.Fatalf("first page: %d, %d ids, next %v", st, len(list), next)
	}
	_, list, next = query(map[string]any{"processCode": "PROC-A", "startTime": start, "userIds": []string{"u1"}, "maxResults": 20, "nextToken": 20})
	if len(list) != 3 || next != nil {
		t.Fatalf("second page: %d ids, next %v", len(list), next)
	}
	_, list, _ = query(map[string]any{"processCode": "PROC-A", "startTime": clk.Now().UnixMilli()})
	if len(list) != 0 {
		t.Errorf("window after every creation: %d ids", len(list))
	}
	if st, _, _ := query(map[string]any{"processCode": "PROC-A", "startTime": start, "maxResults": 21}); st != http.StatusBadRequest {
		t.Errorf("maxResults 21: HTTP %d, want 400", st)
	}

	before := len(s.Approvals(""))
	s.SetFaults(dtsim.Faults{LostAnswerRate: 1})
	if st := create("PROC-C", "u1"); st != http.StatusInternalServerError {
		t.Fatalf("lost answer: HTTP %d, want 500", st)
	}
	s.SetFaults(dtsim.Faults{})
	if n := len(s.Approvals("")); n != before+1 {
		t.Errorf("after a lost answer %d instances, want %d (it took effect)", n, before+1)
	}
}
