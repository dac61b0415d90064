package dtsim

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// The control API (/sim/...) drives the simulator from tests, scripts, the
// web page and the H5 shim. Errors are {"code","message"} with an HTTP 4xx.

func (s *Sim) controlRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /sim/users", s.ctlUsers)
	m.HandleFunc("POST /sim/users", s.ctlAddUser)
	m.HandleFunc("POST /sim/authcode", s.ctlAuthCode)
	m.HandleFunc("GET /sim/notices", s.ctlNotices)
	m.HandleFunc("GET /sim/robot-messages", s.ctlRobotMessages)
	m.HandleFunc("GET /sim/approvals", s.ctlApprovals)
	m.HandleFunc("POST /sim/approvals/{id}/{decision}", s.ctlDecide)
	m.HandleFunc("POST /sim/bot/messages", s.ctlBotMessage)
	m.HandleFunc("POST /sim/faults", s.ctlFaults)
	m.HandleFunc("GET /sim/faults", s.ctlGetFaults)
	m.HandleFunc("GET /sim/stats", s.ctlStats)
	m.HandleFunc("GET /sim/events", s.ctlEvents)
	m.HandleFunc("GET /sim/info", s.ctlInfo)
	m.HandleFunc("POST /sim/events/{id}/redeliver", s.ctlRedeliver)
	m.HandleFunc("POST /sim/tokens/expire", s.ctlExpireTokens)
	m.HandleFunc("GET /sim/robots", s.ctlRobots)
	m.HandleFunc("POST /sim/robots", s.ctlAddRobot)
	m.HandleFunc("POST /sim/jsapi/verify", s.ctlVerifyJSAPI)
	m.HandleFunc("GET /sim/cards", s.ctlCards)
	m.HandleFunc("POST /sim/cards/{id}/callback", s.ctlCardCallback)
}

func (s *Sim) ctlRedeliver(w http.ResponseWriter, r *http.Request) {
	if err := s.Redeliver(r.PathValue("id")); err != nil {
		ctlErr(w, http.StatusNotFound, "event_not_found", "没有这个事件："+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"event_id": r.PathValue("id")})
}

func (s *Sim) ctlExpireTokens(w http.ResponseWriter, r *http.Request) {
	s.ExpireTokens()
	writeJSON(w, http.StatusOK, map[string]bool{"expired": true})
}

func (s *Sim) ctlRobots(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": s.Robots()})
}

func (s *Sim) ctlAddRobot(w http.ResponseWriter, r *http.Request) {
	var rb Robot
	if !ctlDecode(w, r, &rb) {
		return
	}
	if rb.AccessToken == "" || rb.Name == "" {
		ctlErr(w, http.StatusBadRequest, "robot_token_required", "机器人名称和 access_token 不能为空")
		return
	}
	if rb.Conversation == "" {
		rb.Conversation = rb.Name
	}
	s.AddRobot(rb)
	writeJSON(w, http.StatusOK, map[string]string{"webhook": "/robot/send?access_token=" + rb.AccessToken})
}

// ctlVerifyJSAPI lets the H5 shim's dd.config check the server's signature.
func (s *Sim) ctlVerifyJSAPI(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL       string `json:"url"`
		NonceStr  string `json:"nonceStr"`
		TimeStamp string `json:"timeStamp"`
		Signature string `json:"signature"`
		CorpID    string `json:"corpId"`
		AgentID   string `json:"agentId"`
	}
	if !ctlDecode(w, r, &in) {
		return
	}
	switch {
	case in.CorpID != "" && in.CorpID != s.cfg.App.CorpID:
		ctlErr(w, http.StatusBadRequest, "jsapi_corp_mismatch", "jsapi ticket读取失败：corpId 与应用不符")
	case in.AgentID != "" && in.AgentID != s.cfg.App.AgentID:
		ctlErr(w, http.StatusBadRequest, "jsapi_agent_mismatch", "无效的agent_id")
	default:
		if err := s.VerifyJSAPI(in.URL, in.NonceStr, in.TimeStamp, in.Signature); err != nil {
			ctlErr(w, http.StatusBadRequest, "jsapi_signature_invalid", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
}

func (s *Sim) ctlCards(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": s.Cards()})
}

func (s *Sim) ctlCardCallback(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string            `json:"userid"`
		Params map[string]string `json:"params"`
	}
	if !ctlDecode(w, r, &in) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	resp, err := s.CardCallback(ctx, in.UserID, r.PathValue("id"), in.Params)
	if err != nil {
		ctlErr(w, http.StatusBadGateway, "card_callback_failed", "卡片回调失败："+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]json.RawMessage{"response": orNull(resp)})
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func ctlErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

func ctlDecode(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(dst); err != nil {
		ctlErr(w, http.StatusBadRequest, "invalid_json", "请求体不是合法的JSON")
		return false
	}
	return true
}

func (s *Sim) ctlUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": s.Users()})
}

func (s *Sim) ctlAddUser(w http.ResponseWriter, r *http.Request) {
	var u User
	if !ctlDecode(w, r, &u) {
		return
	}
	if u.UserID == "" || u.Name == "" {
		ctlErr(w, http.StatusBadRequest, "userid_name_required", "userid 和 name 不能为空")
		return
	}
	s.AddUser(u)
	got, _ := s.user(u.UserID)
	writeJSON(w, http.StatusOK, got)
}

func (s *Sim) ctlAuthCode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string `json:"userid"`
	}
	if !ctlDecode(w, r, &in) {
		return
	}
	code, err := s.AuthCode(in.UserID)
	if err != nil {
		ctlErr(w, http.StatusNotFound, "user_not_found", "模拟器中没有这个钉钉用户："+in.UserID)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"code": code})
}

func (s *Sim) ctlNotices(w http.ResponseWriter, r *http.Request) {
	items := s.Notices(r.URL.Query().Get("userid"))
	if items == nil {
		items = []Notice{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Sim) ctlRobotMessages(w http.ResponseWriter, r *http.Request) {
	items := s.RobotMessages()
	if items == nil {
		items = []RobotMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Sim) ctlApprovals(w http.ResponseWriter, r *http.Request) {
	items := s.Approvals(r.URL.Query().Get("status"))
	if items == nil {
		items = []Approval{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Sim) ctlDecide(w http.ResponseWriter, r *http.Request) {
	id, decision := r.PathValue("id"), r.PathValue("decision")
	var (
		eventID string
		err     error
	)
	switch decision {
	case "agree", "refuse":
		eventID, err = s.Decide(id, decision)
	case "terminate":
		eventID, err = s.Terminate(id)
	default:
		ctlErr(w, http.StatusNotFound, "unknown_decision", "只能同意(agree)、拒绝(refuse)或撤销(terminate)")
		return
	}
	if err != nil {
		ctlErr(w, http.StatusConflict, "approval_not_running", "审批实例不存在或已结束："+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"event_id": eventID})
}

func (s *Sim) ctlBotMessage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID           string `json:"userid"`
		ConversationType string `json:"conversation_type"`
		Text             string `json:"text"`
	}
	if !ctlDecode(w, r, &in) {
		return
	}
	if in.ConversationType == "" {
		in.ConversationType = "1"
	}
	if in.Text == "" {
		ctlErr(w, http.StatusBadRequest, "text_required", "消息内容不能为空")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	reply, err := s.BotMessage(ctx, in.UserID, in.ConversationType, in.Text)
	if err != nil {
		ctlErr(w, http.StatusBadGateway, "bot_no_reply", "机器人没有回复："+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"reply": reply})
}

type faultsJSON struct {
	ErrorRate      float64 `json:"error_rate"`
	ThrottleRate   float64 `json:"throttle_rate"`
	LatencyMS      int     `json:"latency_ms"`
	DropStream     bool    `json:"drop_stream"`
	LostAnswerRate float64 `json:"lost_answer_rate"`
}

func (s *Sim) ctlFaults(w http.ResponseWriter, r *http.Request) {
	var in faultsJSON
	if !ctlDecode(w, r, &in) {
		return
	}
	if in.ErrorRate < 0 || in.ErrorRate > 1 || in.ThrottleRate < 0 || in.ThrottleRate > 1 || in.LatencyMS < 0 ||
		in.LostAnswerRate < 0 || in.LostAnswerRate > 1 {
		ctlErr(w, http.StatusBadRequest, "invalid_faults", "比例须在0到1之间，延迟不能为负")
		return
	}
	s.SetFaults(Faults(in))
	writeJSON(w, http.StatusOK, in)
}

func (s *Sim) ctlGetFaults(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := faultsJSON(s.faults)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f)
}

func (s *Sim) ctlStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Sim) ctlEvents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": s.Events(), "connections": s.Connections()})
}

// ctlInfo tells the web page what it needs: the app (no secret) and the Hehuo URL.
func (s *Sim) ctlInfo(w http.ResponseWriter, r *http.Request) {
	a := s.cfg.App
	writeJSON(w, http.StatusOK, map[string]any{"corp_id": a.CorpID, "app_key": a.AppKey, "agent_id": a.AgentID,
		"robot_code": a.RobotCode, "app_url": s.cfg.AppURL, "connections": s.Connections()})
}
