package dtsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Conversation ids the simulated bot chats use.
const (
	groupConversation      = "cid-group-demo"
	groupConversationTitle = "锦艺跟投群"
)

// BotMessage has userid send text to the app robot — conversationType "1"
// one-to-one, "2" in the demo group (@-ing the robot) — as a stream CALLBACK on
// /v1.0/im/bot/messages/get, and waits for the reply the handler posts to
// the sessionWebhook. It returns the reply's text (text.content or markdown.text).
func (s *Sim) BotMessage(ctx context.Context, userid, conversationType, text string) (string, error) {
	u, ok := s.user(userid)
	if !ok {
		return "", fmt.Errorf("bot message from %q: %w", userid, ErrUnknownUser)
	}
	if conversationType != "1" && conversationType != "2" {
		return "", fmt.Errorf("bot message: conversation type %q, want \"1\" or \"2\"", conversationType)
	}
	h := s.streams
	h.mu.Lock()
	c := h.pick(typeCallback, TopicBotMessage)
	if c == nil {
		h.mu.Unlock()
		return "", fmt.Errorf("bot message: %w to %s", ErrNoStream, TopicBotMessage)
	}
	sid := newID()
	now := s.now()
	conv, title, content, atList := "cid-oto-"+userid, "", text, false
	if conversationType == "2" {
		// Groups deliver only messages that @ the robot, with the @ cut out
		// and the space after it left in.
		conv, title, content, atList = groupConversation, groupConversationTitle, " "+text, true
	}
	ses := &session{userID: userid, conversation: conv, exp: now.Add(sessionTTL), replies: make(chan string, 8)}
	h.sessions[sid] = ses
	data := map[string]any{
		"conversationId": conv, "conversationType": conversationType, "conversationTitle": title,
		"msgId": "msg" + newID(), "msgtype": "text", "text": map[string]string{"content": content},
		"senderNick": u.Name, "senderStaffId": u.UserID, "senderId": "$:LWCP_v1:$" + u.UserID,
		"senderCorpId": s.cfg.App.CorpID, "isAdmin": u.Admin, "chatbotCorpId": s.cfg.App.CorpID,
		"chatbotUserId": "$:LWCP_v1:$bot-" + s.cfg.App.RobotCode, "robotCode": s.cfg.App.RobotCode,
		"isInAtList": atList, "atUsers": []map[string]string{},
		"sessionWebhook":            "http://" + c.host + "/robot/sendBySession?session=" + sid,
		"sessionWebhookExpiredTime": ses.exp.UnixMilli(), "createAt": now.UnixMilli(),
	}
	if atList {
		data["atUsers"] = []map[string]string{{"dingtalkId": "$:LWCP_v1:$bot-" + s.cfg.App.RobotCode}}
	}
	f := h.newFrame(typeCallback, TopicBotMessage, h.nextMessageID(), data)
	h.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": text}, "from": userid})
	s.recordRobot(u.Name, conv, msg)
	// Bot callbacks are fire and forget: the ack is not waited for.
	if err := c.send(f); err != nil {
		return "", fmt.Errorf("bot message: send frame: %w", err)
	}
	select {
	case r := <-ses.replies:
		return r, nil
	case <-ctx.Done():
		return "", fmt.Errorf("bot message: wait for reply: %w", ctx.Err())
	}
}

// sendBySession takes a bot's reply to a sessionWebhook (§5g).
func (s *Sim) sendBySession(w http.ResponseWriter, r *http.Request) {
	sid := r.URL.Query().Get("session")
	h := s.streams
	h.mu.Lock()
	ses := h.sessions[sid]
	h.mu.Unlock()
	if ses == nil || !s.now().Before(ses.exp) {
		writeOld(w, 300001, "token is not exist", nil)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var msg struct {
		MsgType    string `json:"msgtype"`
		Text       struct{ Content string }
		Markdown   struct{ Title, Text string }
		ActionCard struct{ Text string }
		Link       struct{ Text string }
	}
	if json.Unmarshal(body, &msg) != nil || msg.MsgType == "" {
		writeOld(w, 40035, "缺少参数 json", nil)
		return
	}
	var reply string
	switch msg.MsgType {
	case "text":
		reply = msg.Text.Content
	case "markdown":
		reply = msg.Markdown.Text
	case "actionCard":
		reply = msg.ActionCard.Text
	case "link":
		reply = msg.Link.Text
	default:
		reply = string(compactJSON(body))
	}
	s.recordRobot(s.cfg.App.RobotCode, ses.conversation, compactJSON(body))
	select {
	case ses.replies <- reply:
	default:
	}
	writeOld(w, 0, "ok", nil)
}

// Card is an interactive card delivered with createAndDeliver.
type Card struct {
	OutTrackID     string                       `json:"out_track_id"`
	TemplateID     string                       `json:"card_template_id"`
	OpenSpaceID    string                       `json:"open_space_id"`
	CallbackType   string                       `json:"callback_type"`
	CardParamMap   map[string]string            `json:"card_param_map"`
	PrivateData    map[string]map[string]string `json:"private_data"` // userid → cardParamMap
	Callbacks      int                          `json:"callbacks"`
	LastUpdateFrom string                       `json:"last_update_from,omitempty"`
	created        time.Time
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Cards returns every delivered card.
func (s *Sim) Cards() []Card {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Card, 0, len(s.cards))
	for _, c := range s.cards {
		cp := *c
		cp.CardParamMap = copyMap(c.CardParamMap)
		cp.PrivateData = map[string]map[string]string{}
		for u, m := range c.PrivateData {
			cp.PrivateData[u] = copyMap(m)
		}
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

type cardData struct {
	CardParamMap map[string]string `json:"cardParamMap"`
}

func (s *Sim) createAndDeliver(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CardTemplateID string              `json:"cardTemplateId"`
		OutTrackID     string              `json:"outTrackId"`
		CallbackType   string              `json:"callbackType"`
		CardData       cardData            `json:"cardData"`
		PrivateData    map[string]cardData `json:"privateData"`
		OpenSpaceID    string              `json:"openSpaceId"`
	}
	if !decodeNew(w, r, &in) {
		return
	}
	if in.CardTemplateID == "" || in.OutTrackID == "" || in.OpenSpaceID == "" {
		writeNewErr(w, http.StatusBadRequest, "param.error", "cardTemplateId、outTrackId、openSpaceId不能为空")
		return
	}
	spaceType, spaceID, ok := parseSpace(in.OpenSpaceID)
	if !ok {
		writeNewErr(w, http.StatusBadRequest, "param.openSpaceId.invalid", "openSpaceId不合法")
		return
	}
	card := &Card{OutTrackID: in.OutTrackID, TemplateID: in.CardTemplateID, OpenSpaceID: in.OpenSpaceID,
		CallbackType: in.CallbackType, CardParamMap: map[string]string{}, PrivateData: map[string]map[string]string{},
		created: time.Now()}
	for k, v := range in.CardData.CardParamMap {
		card.CardParamMap[k] = v
	}
	for u, d := range in.PrivateData {
		card.PrivateData[u] = d.CardParamMap
	}
	s.mu.Lock()
	s.cards[in.OutTrackID] = card
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": map[string]any{
		"outTrackId": in.OutTrackID, "deliverResults": []map[string]any{{
			"spaceType": spaceType, "spaceId": spaceID, "success": true, "carrierId": newID(), "errorMsg": "",
		}}}})
}

// parseSpace splits "dtv1.card//IM_GROUP.cid==" into IM_GROUP and cid==.
func parseSpace(id string) (string, string, bool) {
	rest, ok := strings.CutPrefix(id, "dtv1.card//")
	if !ok {
		return "", "", false
	}
	typ, sid, ok := strings.Cut(rest, ".")
	return typ, sid, ok && sid != ""
}

// CardCallback has userid press a button on the card outTrackID: a stream
// CALLBACK on /v1.0/card/instances/callback carrying params; the ack's
// response (cardData, userPrivateData) is applied to the card and returned.
func (s *Sim) CardCallback(ctx context.Context, userid, outTrackID string, params map[string]string) (json.RawMessage, error) {
	s.mu.Lock()
	card := s.cards[outTrackID]
	s.mu.Unlock()
	if card == nil {
		return nil, fmt.Errorf("card callback: no card %q", outTrackID)
	}
	if _, ok := s.user(userid); !ok {
		return nil, fmt.Errorf("card callback from %q: %w", userid, ErrUnknownUser)
	}
	spaceType, spaceID, _ := parseSpace(card.OpenSpaceID)
	actionIDs := []string{}
	if a := params["action"]; a != "" {
		actionIDs = append(actionIDs, "btn_"+a)
	}
	content, _ := json.Marshal(map[string]any{"cardPrivateData": map[string]any{"actionIds": actionIDs, "params": params}})
	data := map[string]any{"type": "actionCallback", "corpId": s.cfg.App.CorpID, "userId": userid, "userIdType": 1,
		"outTrackId": outTrackID, "spaceType": spaceType, "spaceId": spaceID, "extension": "{}",
		"content": string(content), "value": string(content)}
	h := s.streams
	h.mu.Lock()
	c := h.pick(typeCallback, TopicCardCallback)
	if c == nil {
		h.mu.Unlock()
		return nil, fmt.Errorf("card callback: %w to %s", ErrNoStream, TopicCardCallback)
	}
	f := h.newFrame(typeCallback, TopicCardCallback, h.nextMessageID(), data)
	h.mu.Unlock()
	a, err := h.request(ctx, c, f)
	if err != nil {
		return nil, fmt.Errorf("card callback: %w", err)
	}
	if a.Code != http.StatusOK {
		return nil, fmt.Errorf("card callback: ack code %d: %s", a.Code, a.Message)
	}
	var body struct {
		Response json.RawMessage `json:"response"`
	}
	json.Unmarshal([]byte(a.Data), &body)
	var resp struct {
		CardUpdateOptions struct{ UpdateCardDataByKey, UpdatePrivateDataByKey bool }
		CardData          *cardData
		UserPrivateData   *cardData
	}
	json.Unmarshal(body.Response, &resp)
	s.mu.Lock()
	card.Callbacks++
	card.LastUpdateFrom = userid
	if resp.CardData != nil {
		if !resp.CardUpdateOptions.UpdateCardDataByKey {
			card.CardParamMap = map[string]string{}
		}
		for k, v := range resp.CardData.CardParamMap {
			card.CardParamMap[k] = v
		}
	}
	if resp.UserPrivateData != nil {
		if card.PrivateData[userid] == nil || !resp.CardUpdateOptions.UpdatePrivateDataByKey {
			card.PrivateData[userid] = map[string]string{}
		}
		for k, v := range resp.UserPrivateData.CardParamMap {
			card.PrivateData[userid][k] = v
		}
	}
	s.mu.Unlock()
	return body.Response, nil
}
