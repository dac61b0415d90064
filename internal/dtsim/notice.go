package dtsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Notice is one work notice as a user's phone would have it.
type Notice struct {
	TaskID int64           `json:"task_id"`
	UserID string          `json:"userid"`
	Msg    json.RawMessage `json:"msg"`
	At     time.Time       `json:"at"`
	// Dropped means DingTalk accepted the call but did not deliver this one;
	// Reason is the forbidden code: 143106 same content today, 143105 daily cap.
	Dropped  bool   `json:"dropped"`
	Reason   string `json:"reason,omitempty"`
	Recalled bool   `json:"recalled,omitempty"`
}

// TaskResult is what getsendresult reports for one asyncsend_v2 task.
type TaskResult struct {
	TaskID    int64
	Invalid   []string // unknown userids
	Read      []string
	Unread    []string
	Forbidden []Forbidden
	Recalled  bool
}

// Forbidden is one recipient DingTalk refused to deliver to.
type Forbidden struct {
	Code   string `json:"code"`
	Count  int    `json:"count"`
	UserID string `json:"userid"`
}

// Limits of work notices (internal app).
const (
	maxNoticeUsers   = 100
	maxNoticeDepts   = 20
	maxNoticeBytes   = 2048
	maxNoticesPerDay = 500
)

// Notices returns the work notices sent to userid, oldest first, dropped ones included.
func (s *Sim) Notices(userid string) []Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Notice
	for _, n := range s.notices {
		if n.UserID == userid || userid == "" {
			out = append(out, n)
		}
	}
	return out
}

// TaskResult returns getsendresult's view of a task.
func (s *Sim) TaskResult(taskID int64) (TaskResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[taskID]
	if !ok {
		return TaskResult{}, false
	}
	return *t, true
}

// MarkRead marks userid's notices of taskID read (the phone opened them).
func (s *Sim) MarkRead(taskID int64, userid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[taskID]
	if t == nil {
		return
	}
	for i, u := range t.Unread {
		if u == userid {
			t.Unread = append(t.Unread[:i:i], t.Unread[i+1:]...)
			t.Read = append(t.Read, userid)
			return
		}
	}
}

// agentMatches accepts agent_id as a JSON number or string, as DingTalk does.
func (s *Sim) agentMatches(raw json.RawMessage) bool {
	v := strings.Trim(string(raw), `"`)
	return v != "" && v == s.cfg.App.AgentID
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Sim) asyncSend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AgentID    json.RawMessage `json:"agent_id"`
		UserIDList string          `json:"userid_list"`
		DeptIDList string          `json:"dept_id_list"`
		ToAllUser  bool            `json:"to_all_user"`
		Msg        json.RawMessage `json:"msg"`
	}
	if !decodeOld(w, r, &in) {
		return
	}
	if !s.agentMatches(in.AgentID) {
		writeOld(w, 40056, "不合法的agentid", nil)
		return
	}
	userIDs, deptIDs := splitList(in.UserIDList), splitList(in.DeptIDList)
	if len(userIDs) > maxNoticeUsers || len(deptIDs) > maxNoticeDepts {
		writeOld(w, 40035, "不合法的参数：userid_list最多100个，dept_id_list最多20个", nil)
		return
	}
	if len(userIDs) == 0 && len(deptIDs) == 0 && !in.ToAllUser {
		writeOld(w, 40035, "不合法的参数：接收者为空", nil)
		return
	}
	var msg struct {
		MsgType string `json:"msgtype"`
	}
	if len(in.Msg) == 0 || json.Unmarshal(in.Msg, &msg) != nil || msg.MsgType == "" {
		writeOld(w, 40035, "不合法的参数：msg", nil)
		return
	}
	if len(in.Msg) > maxNoticeBytes {
		writeOld(w, 40035, "不合法的参数：消息内容超过2048字节", nil)
		return
	}
	var compact bytes.Buffer
	json.Compact(&compact, in.Msg)
	sum := sha256.Sum256(compact.Bytes())
	digest := hex.EncodeToString(sum[:])

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	day := now.Format("2006-01-02")
	s.seqTask++
	task := &TaskResult{TaskID: s.seqTask}
	s.tasks[task.TaskID] = task
	recipients := map[string]bool{}
	var order []string
	add := func(id string) {
		if !recipients[id] {
			recipients[id] = true
			order = append(order, id)
		}
	}
	for _, id := range userIDs {
		if s.users[id] == nil {
			task.Invalid = append(task.Invalid, id)
			continue
		}
		add(id)
	}
	for _, d := range deptIDs {
		id, _ := strconv.ParseInt(d, 10, 64)
		for _, uid := range s.userSeq {
			if s.inDept(s.users[uid].DeptID, id) {
				add(uid)
			}
		}
	}
	if in.ToAllUser {
		for _, uid := range s.userSeq {
			add(uid)
		}
	}
	for _, uid := range order {
		n := Notice{TaskID: task.TaskID, UserID: uid, Msg: append(json.RawMessage(nil), compact.Bytes()...), At: now}
		dupKey := uid + "|" + day + "|" + digest
		capKey := uid + "|" + day
		switch {
		case s.seenMsg[dupKey]:
			n.Dropped, n.Reason = true, "143106"
		case s.daily[capKey] >= maxNoticesPerDay:
			n.Dropped, n.Reason = true, "143105"
		default:
			s.seenMsg[dupKey] = true
			s.daily[capKey]++
			task.Unread = append(task.Unread, uid)
		}
		if n.Dropped {
			task.Forbidden = append(task.Forbidden, Forbidden{Code: n.Reason, Count: 1, UserID: uid})
		}
		s.notices = append(s.notices, n)
	}
	writeOld(w, 0, "ok", map[string]any{"task_id": task.TaskID})
}

// inDept reports whether dept is root or under it; s.mu must be held.
func (s *Sim) inDept(dept, root int64) bool {
	for i := 0; i < 64 && dept != 0; i++ {
		if dept == root {
			return true
		}
		d := s.depts[dept]
		if d == nil || d.ID == 1 {
			return false
		}
		dept = d.ParentID
	}
	return false
}

type taskRequest struct {
	AgentID   json.RawMessage `json:"agent_id"`
	TaskID    int64           `json:"task_id"`
	MsgTaskID int64           `json:"msg_task_id"`
}

// lookupTask decodes a task request and finds the task; nil means answered.
func (s *Sim) lookupTask(w http.ResponseWriter, r *http.Request) *TaskResult {
	var in taskRequest
	if !decodeOld(w, r, &in) {
		return nil
	}
	if !s.agentMatches(in.AgentID) {
		writeOld(w, 40056, "不合法的agentid", nil)
		return nil
	}
	id := in.TaskID
	if id == 0 {
		id = in.MsgTaskID
	}
	s.mu.Lock()
	t := s.tasks[id]
	s.mu.Unlock()
	if t == nil {
		writeOld(w, 40035, "不合法的参数：task_id不存在", nil)
	}
	return t
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (s *Sim) getSendResult(w http.ResponseWriter, r *http.Request) {
	t := s.lookupTask(w, r)
	if t == nil {
		return
	}
	s.mu.Lock()
	forbidden := append([]Forbidden{}, t.Forbidden...)
	res := map[string]any{
		"invalid_user_id_list": orEmpty(t.Invalid), "forbidden_user_id_list": []string{},
		"failed_user_id_list": []string{}, "read_user_id_list": orEmpty(append([]string(nil), t.Read...)),
		"unread_user_id_list": orEmpty(append([]string(nil), t.Unread...)), "invalid_dept_id_list": []int64{},
		"forbidden_list": forbidden,
	}
	s.mu.Unlock()
	writeOld(w, 0, "ok", map[string]any{"send_result": res})
}

func (s *Sim) getSendProgress(w http.ResponseWriter, r *http.Request) {
	if t := s.lookupTask(w, r); t != nil {
		writeOld(w, 0, "ok", map[string]any{"progress": map[string]any{"progress_in_percent": 100, "status": 2}})
	}
}

func (s *Sim) recall(w http.ResponseWriter, r *http.Request) {
	t := s.lookupTask(w, r)
	if t == nil {
		return
	}
	s.mu.Lock()
	t.Recalled = true
	for i := range s.notices {
		if s.notices[i].TaskID == t.TaskID {
			s.notices[i].Recalled = true
		}
	}
	s.mu.Unlock()
	writeOld(w, 0, "ok", nil)
}
