package dtsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Robot is a custom (webhook) group robot.
type Robot struct {
	Name        string `json:"name"`
	AccessToken string `json:"access_token"`
	// Secret turns on 加签: requests must carry timestamp and sign.
	Secret string `json:"secret"`
	// Conversation names the group the robot posts into.
	Conversation string `json:"conversation"`
}

// RobotMessage is one message a robot posted: a custom robot's webhook body,
// an app robot's {"msgKey","msgParam"} (msgParam parsed), or a reply through
// a sessionWebhook.
type RobotMessage struct {
	Robot        string          `json:"robot"`
	Conversation string          `json:"conversation"`
	Msg          json.RawMessage `json:"msg"`
	At           time.Time       `json:"at"`
}

// Limits of robots.
const (
	robotPerMinute   = 20
	robotPenalty     = 10 * time.Minute
	signWindow       = time.Hour
	maxBatchSend     = 20
	maxWebhookBytes  = 20000
	maxMsgParamBytes = 15000
)

// AddRobot registers a custom webhook robot.
func (s *Sim) AddRobot(rb Robot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.robots[rb.AccessToken] = &rb
}

// Robots returns the custom robots, secrets included (it is a simulator).
func (s *Sim) Robots() []Robot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Robot, 0, len(s.robots))
	for _, rb := range s.robots {
		out = append(out, *rb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RobotMessages returns every robot message, oldest first.
func (s *Sim) RobotMessages() []RobotMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RobotMessage(nil), s.robotMsg...)
}

func (s *Sim) recordRobot(robot, conv string, msg json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.robotMsg = append(s.robotMsg, RobotMessage{Robot: robot, Conversation: conv, Msg: msg, At: s.now()})
}

// Sign computes a custom robot's sign for timestamp ms, as DingTalk checks it
// (before URL encoding).
func Sign(secret string, timestampMS int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Sim) robotSend(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	rb := s.robots[q.Get("access_token")]
	s.mu.Unlock()
	if rb == nil {
		writeOld(w, 300001, "token is not exist", nil)
		return
	}
	if rb.Secret != "" {
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		// Query().Get already URL-decoded the sign.
		if err != nil || q.Get("sign") != Sign(rb.Secret, ts) {
			writeOld(w, 310000, "sign not match, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]", nil)
			return
		}
		if d := s.now().Sub(time.UnixMilli(ts)); d > signWindow || d < -signWindow {
			writeOld(w, 310000, "invalid timestamp", nil)
			return
		}
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(body) > maxWebhookBytes {
		writeOld(w, 460101, "message too long, exceed 20000 bytes", nil)
		return
	}
	var msg struct {
		MsgType string `json:"msgtype"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.MsgType == "" {
		writeOld(w, 40035, "缺少参数 json", nil)
		return
	}
	if !s.robotAllowed(rb.AccessToken) {
		writeOld(w, 130101, "send too fast, exceed 20 times per minute", nil)
		return
	}
	s.recordRobot(rb.Name, rb.Conversation, compactJSON(body))
	writeOld(w, 0, "ok", nil)
}

// robotAllowed counts one message against the robot's 20-a-minute limit;
// going over throttles the robot for 10 minutes, as DingTalk does.
func (s *Sim) robotAllowed(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Before(s.robotBan[key]) {
		return false
	}
	var recent []time.Time
	for _, t := range s.robotLog[key] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= robotPerMinute {
		s.robotBan[key] = now.Add(robotPenalty)
		s.robotLog[key] = recent
		return false
	}
	s.robotLog[key] = append(recent, now)
	return true
}

func compactJSON(b []byte) json.RawMessage {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return json.RawMessage(b)
	}
	out, _ := json.Marshal(v)
	return out
}

// msgKeys are the app robot's message templates and their required params.
var msgKeys = map[string][]string{
	"sampleText":        {"content"},
	"sampleMarkdown":    {"title", "text"},
	"sampleImageMsg":    {"photoURL"},
	"sampleLink":        {"text", "title", "messageUrl"},
	"sampleActionCard":  {"title", "text", "singleTitle", "singleURL"},
	"sampleActionCard2": {"title", "text"},
	"sampleActionCard3": {"title", "text"},
	"sampleActionCard4": {"title", "text"},
	"sampleActionCard5": {"title", "text"},
	"sampleActionCard6": {"title", "text"},
	"sampleAudio":       {"mediaId", "duration"},
	"sampleFile":        {"mediaId", "fileName", "fileType"},
	"sampleVideo":       {"duration", "videoMediaId", "videoType"},
}

// appRobotMsg validates robotCode, msgKey and msgParam; it returns the
// recorded form of the message or writes the HTTP 400 DingTalk gives.
func (s *Sim) appRobotMsg(w http.ResponseWriter, robotCode, msgKey, msgParam string) (json.RawMessage, bool) {
	if robotCode != s.cfg.App.RobotCode {
		writeNewErr(w, http.StatusBadRequest, "invalidParameter.robotCode.auth", "robotCode无权限或不存在")
		return nil, false
	}
	required, ok := msgKeys[msgKey]
	if !ok {
		writeNewErr(w, http.StatusBadRequest, "invalidParameter.msgKey.invalid", "msgKey不合法")
		return nil, false
	}
	var param map[string]any
	if len(msgParam) > maxMsgParamBytes || json.Unmarshal([]byte(msgParam), &param) != nil {
		writeNewErr(w, http.StatusBadRequest, "invalidParameter.msgParam.invalid", "msgParam不合法")
		return nil, false
	}
	for _, k := range required {
		if _, ok := param[k]; !ok {
			writeNewErr(w, http.StatusBadRequest, "invalidParameter.msgParam.invalid", "msgParam缺少"+k)
			return nil, false
		}
	}
	out, _ := json.Marshal(map[string]any{"msgKey": msgKey, "msgParam": param})
	return out, true
}

func (s *Sim) groupSend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RobotCode, OpenConversationID, MsgKey, MsgParam string
	}
	if !decodeNew(w, r, &in) {
		return
	}
	if in.OpenConversationID == "" {
		writeNewErr(w, http.StatusBadRequest, "invalidParameter.openConversationId.empty", "openConversationId不能为空")
		return
	}
	msg, ok := s.appRobotMsg(w, in.RobotCode, in.MsgKey, in.MsgParam)
	if !ok {
		return
	}
	s.recordRobot(in.RobotCode, in.OpenConversationID, msg)
	writeJSON(w, http.StatusOK, map[string]any{"processQueryKey": newID()})
}

func (s *Sim) batchSend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RobotCode        string
		UserIDs          []string `json:"userIds"`
		MsgKey, MsgParam string
	}
	if !decodeNew(w, r, &in) {
		return
	}
	if len(in.UserIDs) > maxBatchSend {
		writeNewErr(w, http.StatusBadRequest, "invalidParameter.userIds.overMax", "userIds超过最大值20")
		return
	}
	if len(in.UserIDs) == 0 {
		writeNewErr(w, http.StatusBadRequest, "invalidParameter.userIds.empty", "userIds不能为空")
		return
	}
	msg, ok := s.appRobotMsg(w, in.RobotCode, in.MsgKey, in.MsgParam)
	if !ok {
		return
	}
	invalid := []string{}
	for _, u := range in.UserIDs {
		if _, ok := s.user(u); !ok {
			invalid = append(invalid, u)
			continue
		}
		s.recordRobot(in.RobotCode, "oto:"+u, msg)
	}
	writeJSON(w, http.StatusOK, map[string]any{"processQueryKey": newID(), "invalidStaffIdList": invalid,
		"flowControlledStaffIdList": []string{}})
}
