package microapp_test

import (
	"fmt"
	"testing"

	"hehuo/internal/audit"
	"hehuo/internal/round"
	"hehuo/internal/workcal"
	"hehuo/internal/workflow"
)

// statesLabelled walks a JSON answer and fails for every object that
// carries a state without its Chinese name: "status" needs "status_label",
// "round_status" needs "round_status_label", each non-empty and not the code.
func statesLabelled(t *testing.T, where string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"status", "round_status"} {
			code, ok := v[k].(string)
			if !ok {
				continue
			}
			label, _ := v[k+"_label"].(string)
			if label == "" || label == code {
				t.Errorf("%s: %s %q has no Chinese %s_label (got %q)", where, k, code, k, label)
			}
		}
		for _, x := range v {
			statesLabelled(t, where, x)
		}
	case []any:
		for _, x := range v {
			statesLabelled(t, where, x)
		}
	}
}

// Every answer that carries a state names it in Chinese, with the one
// label Go gives it; the audit labels cover what the flow recorded.
func TestStatusLabelsServed(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	f := e.flowWorld()
	e.termsAndPeak(f)
	rid, partners := e.calculatedRound(f)
	e.must(200, e.do(f.acct, "POST", "/api/v1/rounds/"+rid+"/submit", nil))

	got := e.must(200, e.do(f.acct, "GET", "/api/v1/rounds/"+rid, nil)).Body
	if got["status"] != string(round.StatusSubmitted) || got["status_label"] != round.StatusSubmitted.Label() ||
		got["status_label"] != "待审核" {
		t.Fatalf("submitted round: status %v, status_label %v", got["status"], got["status_label"])
	}
	procs := e.must(200, e.do(f.acct, "GET", "/api/v1/projects/"+f.proj+"/processes", nil)).Body
	if want := workflow.StatusAgreed.Label(); !containsPair(procs, "agreed", want) {
		t.Fatalf("process list has no agreed process labelled %s: %v", want, procs)
	}
	for _, path := range []string{
		"/api/v1/projects/" + f.proj + "/rounds",
		"/api/v1/rounds/" + rid,
		"/api/v1/rounds/" + rid + "/allocation",
		"/api/v1/projects/" + f.proj + "/processes",
		"/api/v1/projects/" + f.proj + "/peak-changes",
		"/api/v1/projects/" + f.proj + "/adjustments",
		"/api/v1/notify/outbox",
		"/api/v1/reports/work-tracking",
	} {
		r := e.do(f.biz, "GET", path, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		statesLabelled(t, path, r.Body)
	}
	mine := e.must(200, e.do(partners[0].token, "GET", "/api/v1/me/invitations", nil))
	statesLabelled(t, "/api/v1/me/invitations", mine.Body)
	acc := e.must(200, e.do(partners[0].token, "GET", "/api/v1/me/payout-account", nil)).Body
	if acc["status"] != "none" || acc["status_label"] != "未填写" {
		t.Fatalf("payout account without one: %v", acc)
	}

	// The 系统日志's labels: every action the flow recorded has one, and
	// a round's states read as on every other screen.
	labels := e.must(200, e.do(f.admin, "GET", "/api/v1/audit-log/labels", nil)).Body
	actions := labels["actions"].(map[string]any)
	var recorded []string
	if err := e.db.Select(&recorded, `SELECT DISTINCT action FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	for _, a := range recorded {
		if l, _ := actions[a].(string); l == "" {
			t.Errorf("audit action %s has no label", a)
		} else if want, _ := audit.ActionLabel(a); l != want {
			t.Errorf("audit action %s: %q, want %q", a, l, want)
		}
	}
	if actions["round.open"] == nil || labels["entities"].(map[string]any)["invitation"] == nil {
		t.Fatalf("labels lack round.open or invitation: %v", labels)
	}
	states := labels["states"].(map[string]any)["round"].(map[string]any)
	for _, s := range round.Statuses {
		if states[string(s)] != s.Label() {
			t.Errorf("audit state round %s = %v, want %s", s, states[string(s)], s.Label())
		}
	}
	if states["approved"] != "已立项" {
		t.Errorf("approved round reads %v", states["approved"])
	}
	// Coded values of other fields read in Chinese too: a calendar day's kind.
	values, _ := labels["values"].(map[string]any)
	kinds, _ := values["work_calendar"].(map[string]any)
	if kind, _ := kinds["kind"].(map[string]any); kind["holiday"] != workcal.KindLabel(workcal.KindHoliday) || kind["holiday"] == "" {
		t.Errorf("work calendar kinds in the 系统日志 labels: %v", values["work_calendar"])
	}
}

// containsPair reports whether some object under v has status code and status_label label.
func containsPair(v any, code, label string) bool {
	switch v := v.(type) {
	case map[string]any:
		if fmt.Sprint(v["status"]) == code && fmt.Sprint(v["status_label"]) == label {
			return true
		}
		for _, x := range v {
			if containsPair(x, code, label) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if containsPair(x, code, label) {
				return true
			}
		}
	}
	return false
}
