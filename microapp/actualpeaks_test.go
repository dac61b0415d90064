package microapp_test

import (
	"strings"
	"testing"
)

// 实际资金峰值确认 through the API: bad inputs refused (nothing stored), one
// open at a time, the record is the subject of an actual_peak process
// ({kind, subject_id}), agreed in DingTalk it reads 已确认; the auditor may
// read, not record.
func TestActualPeakThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	e.startBot()
	f := e.flowWorld()
	path := "/api/v1/projects/" + f.proj + "/actual-peaks"

	before := fingerprint(t, e.db)
	e.refused(400, "actual_peak_capital_invalid", e.do(f.acct, "POST", path, map[string]any{"actual_peak_capital": "abc"}))
	e.refused(400, "amount_too_precise", e.do(f.acct, "POST", path, map[string]any{"actual_peak_capital": "1.001"}))
	e.refused(400, "actual_peak_capital_invalid", e.do(f.acct, "POST", path, map[string]any{"actual_peak_capital": "0"}))
	if fingerprint(t, e.db) != before {
		t.Fatal("refused inputs changed the database")
	}
	peak := e.must(201, e.do(f.acct, "POST", path, map[string]any{"actual_peak_capital": "215000000.50", "reason": "按实际投入确认"})).Body
	if peak["status"] != "draft" || peak["status_label"] != "待发起" || peak["actual_peak_capital"] != "215000000.50" {
		t.Fatalf("created %v", peak)
	}
	e.refused(409, "actual_peak_open", e.do(f.acct, "POST", path, map[string]any{"actual_peak_capital": "1"}))

	proc := e.must(201, e.do(f.acct, "POST", "/api/v1/projects/"+f.proj+"/processes",
		map[string]any{"kind": "actual_peak", "subject_id": num(peak["id"])})).Body
	detail := e.process(f.acct, num(proc["id"]))
	var form []string
	for _, x := range detail["form"].([]any) {
		fv := x.(map[string]any)
		form = append(form, str(fv["name"])+"="+str(fv["value"]))
	}
	if s := strings.Join(form, ";"); !strings.Contains(s, "资金峰值-实际=215000000.50") || !strings.Contains(s, "情况说明=按实际投入确认") {
		t.Errorf("form %s", s)
	}
	e.decide(f.acct, num(proc["id"]), str(proc["instance_id"]), "agree")
	items := e.must(200, e.do(f.biz, "GET", path, nil)).Body["items"].([]any)
	got := items[0].(map[string]any)
	if len(items) != 1 || got["status"] != "agreed" || got["status_label"] != "已确认" || got["agreed_at"] == nil {
		t.Fatalf("after agreement %v", items)
	}
	e.drain()
	if e.robotMessages(flowConv, "实际资金峰值确认", "同意") != 1 {
		t.Errorf("no robot alert of the agreement")
	}
}
