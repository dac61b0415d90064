package dtsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Approval is one OA approval instance.
type Approval struct {
	InstanceID  string      `json:"instance_id"`
	ProcessCode string      `json:"process_code"`
	Title       string      `json:"title"`
	Form        []FormValue `json:"form"`
	Originator  string      `json:"originator"`
	// Status is RUNNING, COMPLETED or TERMINATED; Result agree, refuse or "".
	Status     string    `json:"status"`
	Result     string    `json:"result"`
	BusinessID string    `json:"business_id"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// FormValue is one form component's label and value.
type FormValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Approval statuses.
const (
	StatusRunning    = "RUNNING"
	StatusCompleted  = "COMPLETED"
	StatusTerminated = "TERMINATED"
)

// Approvals returns the instances with status ("" for all), oldest first.
func (s *Sim) Approvals(status string) []Approval {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Approval
	for _, a := range s.approvals {
		if status == "" || a.Status == status {
			out = append(out, *a)
		}
	}
	return out
}

// approval finds an instance; s.mu must be held.
func (s *Sim) approval(id string) *Approval {
	for _, a := range s.approvals {
		if a.InstanceID == id {
			return a
		}
	}
	return nil
}

// Decide finishes a running instance with "agree" or "refuse" and pushes
// bpms_task_change and bpms_instance_change (type finish); it returns the
// instance event's eventId.
func (s *Sim) Decide(instanceID, result string) (string, error) {
	if result != "agree" && result != "refuse" {
		return "", fmt.Errorf("decide %s: result %q, want agree or refuse", instanceID, result)
	}
	return s.finish(instanceID, StatusCompleted, result, "finish")
}

// Terminate revokes a running instance (撤销) and pushes bpms_instance_change
// type terminate; it returns the eventId.
func (s *Sim) Terminate(instanceID string) (string, error) {
	return s.finish(instanceID, StatusTerminated, "", "terminate")
}

func (s *Sim) finish(id, status, result, eventType string) (string, error) {
	s.mu.Lock()
	a := s.approval(id)
	if a == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%s %s: no such approval instance", eventType, id)
	}
	if a.Status != StatusRunning {
		s.mu.Unlock()
		return "", fmt.Errorf("%s %s: instance is %s, not RUNNING", eventType, id, a.Status)
	}
	a.Status, a.Result, a.FinishedAt = status, result, s.now()
	snap := *a
	s.mu.Unlock()
	if eventType == "finish" {
		task := instanceEvent(snap, "finish")
		task["taskId"] = 811165
		task["staffId"] = "approver-" + snap.Originator
		task["remark"] = ""
		s.PushEvent("bpms_task_change", task)
	}
	return s.PushEvent("bpms_instance_change", instanceEvent(snap, eventType)), nil
}

// instanceEvent is bpms_instance_change's data (§6).
func instanceEvent(a Approval, typ string) map[string]any {
	ev := map[string]any{
		"processInstanceId": a.InstanceID, "processCode": a.ProcessCode, "bizCategoryId": "",
		"businessId": a.BusinessID, "title": a.Title, "type": typ, "staffId": a.Originator,
		"createTime": a.CreatedAt.UnixMilli(), "businessType": "",
		"url": "https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm?procInstId=" + a.InstanceID,
	}
	if typ == "finish" {
		ev["result"] = a.Result
	}
	if !a.FinishedAt.IsZero() {
		ev["finishTime"] = a.FinishedAt.UnixMilli()
	}
	return ev
}

func (s *Sim) createInstance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ProcessCode         string          `json:"processCode"`
		OriginatorUserID    string          `json:"originatorUserId"`
		DeptID              json.RawMessage `json:"deptId"`
		FormComponentValues []FormValue     `json:"formComponentValues"`
	}
	if !decodeNew(w, r, &in) {
		return
	}
	if in.ProcessCode == "" {
		writeNewErr(w, http.StatusBadRequest, "processInstanceStartFailed", "processCode不能为空")
		return
	}
	if len(in.FormComponentValues) > 150 {
		writeNewErr(w, http.StatusBadRequest, "processInstanceStartFailed", "表单组件最多150个")
		return
	}
	for _, f := range in.FormComponentValues {
		if len(f.Value) > 65535 {
			writeNewErr(w, http.StatusBadRequest, "processInstanceStartFailed", "表单值超过65535字符")
			return
		}
	}
	u, ok := s.user(in.OriginatorUserID)
	if !ok {
		writeNewErr(w, http.StatusBadRequest, "staff.not.found", "发起人不存在")
		return
	}
	now := s.now()
	s.mu.Lock()
	a := &Approval{
		InstanceID: newUUID(), ProcessCode: in.ProcessCode, Title: u.Name + "提交的审批",
		Form: in.FormComponentValues, Originator: u.UserID, Status: StatusRunning, CreatedAt: now,
		BusinessID: fmt.Sprintf("%s%06d", now.Format("200601021504"), len(s.approvals)+1),
	}
	s.approvals = append(s.approvals, a)
	snap := *a
	s.mu.Unlock()
	s.PushEvent("bpms_instance_change", instanceEvent(snap, "start"))
	writeJSON(w, http.StatusOK, map[string]any{"instanceId": a.InstanceID})
}

// executeInstance is an approver's agree or refuse through the API.
func (s *Sim) executeInstance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ProcessInstanceID string `json:"processInstanceId"`
		Result            string `json:"result"`
		ActionerUserID    string `json:"actionerUserId"`
	}
	if !decodeNew(w, r, &in) {
		return
	}
	if _, ok := s.user(in.ActionerUserID); !ok {
		writeNewErr(w, http.StatusBadRequest, "staff.not.found", "操作人不存在")
		return
	}
	if _, err := s.Decide(in.ProcessInstanceID, in.Result); err != nil {
		writeNewErr(w, http.StatusBadRequest, "processInstanceExecuteFailed", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": true})
}

// terminateInstance revokes an instance through the API (撤销).
func (s *Sim) terminateInstance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ProcessInstanceID string `json:"processInstanceId"`
	}
	if !decodeNew(w, r, &in) {
		return
	}
	if _, err := s.Terminate(in.ProcessInstanceID); err != nil {
		writeNewErr(w, http.StatusBadRequest, "processInstanceTerminateFailed", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": true})
}

// dtTime is DingTalk's workflow time format (UTC, minutes).
func dtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

func (s *Sim) getInstance(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("processInstanceId")
	s.mu.Lock()
	p := s.approval(id)
	var a Approval
	if p != nil {
		a = *p
	}
	s.mu.Unlock()
	if p == nil {
		writeNewErr(w, http.StatusBadRequest, "InvalidParameter.processInstanceId", "审批实例不存在")
		return
	}
	form := []map[string]string{}
	for i, f := range a.Form {
		form = append(form, map[string]string{"id": fmt.Sprintf("TextField-%d", i+1), "name": f.Name, "value": f.Value, "componentType": "TextField"})
	}
	records := []map[string]any{{"userId": a.Originator, "date": dtTime(a.CreatedAt), "type": "START_PROCESS_INSTANCE", "result": "NONE"}}
	tasks := []map[string]any{}
	approver := "approver-" + a.Originator
	switch a.Status {
	case StatusCompleted:
		records = append(records, map[string]any{"userId": approver, "date": dtTime(a.FinishedAt), "type": "EXECUTE_TASK_NORMAL", "result": map[string]string{"agree": "AGREE", "refuse": "REFUSE"}[a.Result], "remark": ""})
		tasks = append(tasks, map[string]any{"taskId": 811165, "userId": approver, "status": "COMPLETED", "result": map[string]string{"agree": "AGREE", "refuse": "REFUSE"}[a.Result]})
	case StatusTerminated:
		records = append(records, map[string]any{"userId": a.Originator, "date": dtTime(a.FinishedAt), "type": "TERMINATE_PROCESS_INSTANCE", "result": "NONE"})
		tasks = append(tasks, map[string]any{"taskId": 811165, "userId": approver, "status": "CANCELED", "result": "NONE"})
	default:
		tasks = append(tasks, map[string]any{"taskId": 811165, "userId": approver, "status": "RUNNING", "result": "NONE"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": map[string]any{
		"title": a.Title, "createTime": dtTime(a.CreatedAt), "finishTime": dtTime(a.FinishedAt),
		"originatorUserId": a.Originator, "originatorDeptId": "-1", "originatorDeptName": "锦艺集团",
		"status": a.Status, "result": a.Result, "businessId": a.BusinessID,
		"approverUserIds": []string{approver}, "ccUserIds": []string{},
		"formComponentValues": form, "operationRecords": records, "tasks": tasks,
	}})
}

// newUUID returns a random version-4-looking UUID, like DingTalk's instance ids.
func newUUID() string {
	h := newID()
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// queryInstanceIDs lists the ids of a template's instances created in a
// time window (获取审批实例ID列表), oldest first, 20 a page at most.
func (s *Sim) queryInstanceIDs(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ProcessCode string   `json:"processCode"`
		StartTime   int64    `json:"startTime"`
		EndTime     int64    `json:"endTime"`
		NextToken   int64    `json:"nextToken"`
		MaxResults  int      `json:"maxResults"`
		UserIDs     []string `json:"userIds"`
		Statuses    []string `json:"statuses"`
	}
	if !decodeNew(w, r, &in) {
		return
	}
	switch {
	case in.ProcessCode == "" || in.StartTime <= 0:
		writeNewErr(w, http.StatusBadRequest, "InvalidParameter", "processCode和startTime不能为空")
		return
	case in.MaxResults > 20:
		writeNewErr(w, http.StatusBadRequest, "InvalidParameter.maxResults", "maxResults不能超过20")
		return
	case len(in.UserIDs) > 10:
		writeNewErr(w, http.StatusBadRequest, "InvalidParameter.userIds", "userIds不能超过10个")
		return
	}
	end := in.EndTime
	if end == 0 {
		end = s.now().UnixMilli()
	}
	if end-in.StartTime > 120*24*3600*1000 {
		writeNewErr(w, http.StatusBadRequest, "InvalidParameter.timeRange", "时间范围不能超过120天")
		return
	}
	size := in.MaxResults
	if size <= 0 {
		size = 20
	}
	s.mu.Lock()
	var ids []string
	for _, a := range s.approvals {
		ms := a.CreatedAt.UnixMilli()
		if a.ProcessCode != in.ProcessCode || ms < in.StartTime || ms > end {
			continue
		}
		if len(in.UserIDs) > 0 && !slices.Contains(in.UserIDs, a.Originator) {
			continue
		}
		if len(in.Statuses) > 0 && !slices.Contains(in.Statuses, a.Status) {
			continue
		}
		ids = append(ids, a.InstanceID)
	}
	s.mu.Unlock()
	from := min(int(in.NextToken), len(ids))
	to := min(from+size, len(ids))
	out := map[string]any{"list": append([]string{}, ids[from:to]...)}
	if to < len(ids) {
		out["nextToken"] = to
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": out})
}
