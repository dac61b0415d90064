package dtsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/card"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"

	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

// received collects the events an SDK handler saw.
type received struct {
	mu     sync.Mutex
	events []*event.EventHeader
	data   []string
	got    chan struct{}
}

func (r *received) add(h *event.EventHeader, data []byte) {
	r.mu.Lock()
	r.events = append(r.events, h)
	r.data = append(r.data, string(data))
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *received) wait(t *testing.T, n int) {
	t.Helper()
	for {
		r.mu.Lock()
		have := len(r.events)
		r.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("waited 5 s for %d events, have %d", n, have)
		}
	}
}

// startSDK connects the official stream SDK to the simulator with the given
// event handler, a chatbot that echoes and a card handler.
func startSDK(t *testing.T, s *dtsimtest.Server, onEvent event.IEventHandler) *client.StreamClient {
	t.Helper()
	a := s.App()
	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(a.AppKey, a.AppSecret)),
		client.WithOpenApiHost(s.URL),
	)
	cli.RegisterAllEventRouter(event.NewDefaultEventFrameHandler(onEvent).OnEventReceived)
	cli.RegisterChatBotCallbackRouter(func(ctx context.Context, m *chatbot.BotCallbackDataModel) ([]byte, error) {
		reply := "你好，" + m.SenderNick + "：" + strings.TrimSpace(m.Text.Content)
		if m.ConversationType == "2" && !m.IsInAtList {
			reply = "not at me"
		}
		return nil, chatbot.NewChatbotReplier().SimpleReplyText(ctx, m.SessionWebhook, []byte(reply))
	})
	cli.RegisterCardCallbackRouter(func(ctx context.Context, req *card.CardRequest) (*card.CardResponse, error) {
		return &card.CardResponse{
			CardUpdateOptions: &card.CardUpdateOptions{UpdateCardDataByKey: true, UpdatePrivateDataByKey: true},
			CardData:          &card.CardDataDto{CardParamMap: map[string]string{"status": req.GetActionString("action") + "d by " + req.UserId}},
			UserPrivateData:   &card.CardDataDto{CardParamMap: map[string]string{"canApprove": "false"}},
		}, nil
	})
	if err := cli.Start(context.Background()); err != nil {
		t.Fatalf("SDK start: %v", err)
	}
	t.Cleanup(func() {
		cli.AutoReconnect = false
		cli.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return cli
}

func fastRedelivery(c *dtsim.Config) { c.RedeliveryDelay = 150 * time.Millisecond }

func TestStreamEventIsAckedOnce(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	r := &received{got: make(chan struct{}, 100)}
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		r.add(h, data)
		return event.EventProcessStatusKSuccess, nil
	})
	id := s.PushEvent("bpms_instance_change", map[string]any{"processInstanceId": "p1", "type": "finish", "result": "agree"})
	r.wait(t, 1)
	h := r.events[0]
	if h.EventId != id || h.EventType != "bpms_instance_change" || h.EventCorpId != s.App().CorpID || h.EventBornTime == 0 {
		t.Fatalf("event header %+v, want id %s", h, id)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(r.data[0]), &data); err != nil || data["result"] != "agree" {
		t.Fatalf("event data %q", r.data[0])
	}
	time.Sleep(500 * time.Millisecond)
	evs := s.Events()
	if len(r.events) != 1 || len(evs) != 1 || !evs[0].Acked || evs[0].Deliveries != 1 {
		t.Fatalf("after a SUCCESS ack: handled %d times, events %+v; want one delivery", len(r.events), evs)
	}
}

// With two connections of the app (two server instances), each event goes
// to one of them, as DingTalk does: never to both, and both get some.
func TestStreamEventGoesToOneOfTwoConnections(t *testing.T) {
	s := dtsimtest.Start(t)
	ra := &received{got: make(chan struct{}, 100)}
	rb := &received{got: make(chan struct{}, 100)}
	for _, r := range []*received{ra, rb} {
		startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
			r.add(h, data)
			return event.EventProcessStatusKSuccess, nil
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	const n = 24
	for i := range n {
		s.PushEvent("bpms_instance_change", map[string]any{"processInstanceId": fmt.Sprintf("p%d", i), "type": "finish", "result": "agree"})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ra.mu.Lock()
		rb.mu.Lock()
		got := len(ra.events) + len(rb.events)
		rb.mu.Unlock()
		ra.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second copy would have arrived by now
	seen := map[string]int{}
	for _, r := range []*received{ra, rb} {
		r.mu.Lock()
		for _, h := range r.events {
			seen[h.EventId]++
		}
		r.mu.Unlock()
	}
	for _, ev := range s.Events() {
		if seen[ev.ID] != 1 || ev.Deliveries != 1 || !ev.Acked {
			t.Errorf("event %s: handled %d times, %d deliveries, acked %v; want once", ev.ID, seen[ev.ID], ev.Deliveries, ev.Acked)
		}
	}
	if len(seen) != n || len(ra.events) == 0 || len(rb.events) == 0 {
		t.Fatalf("%d events handled (%d by the first connection, %d by the second), want %d spread over both",
			len(seen), len(ra.events), len(rb.events), n)
	}
}

func TestStreamEventIsRedeliveredAfterLaterOrError(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	r := &received{got: make(chan struct{}, 100)}
	var calls atomic.Int32
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		r.add(h, data)
		switch calls.Add(1) {
		case 1:
			return event.EventProcessStatusKLater, nil
		case 2:
			return event.EventProcessStatusKSuccess, context.DeadlineExceeded // an error is LATER too
		}
		return event.EventProcessStatusKSuccess, nil
	})
	id := s.PushEvent("bpms_instance_change", map[string]string{"processInstanceId": "p2"})
	r.wait(t, 3)
	for i, h := range r.events {
		if h.EventId != id {
			t.Fatalf("delivery %d has event id %s, want %s", i, h.EventId, id)
		}
	}
	time.Sleep(400 * time.Millisecond)
	if ev := s.Events()[0]; !ev.Acked || ev.Deliveries != 3 || len(r.events) != 3 {
		t.Fatalf("event %+v handled %d times; want acked after 3 deliveries", ev, len(r.events))
	}
}

func TestStreamEventGivesUpAfterMaxDeliveries(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery, func(c *dtsim.Config) { c.MaxDeliveries = 2 })
	r := &received{got: make(chan struct{}, 100)}
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		r.add(h, data)
		return event.EventProcessStatusKLater, nil
	})
	s.PushEvent("bpms_task_change", map[string]string{})
	r.wait(t, 2)
	time.Sleep(600 * time.Millisecond)
	if ev := s.Events()[0]; ev.Acked || !ev.GaveUp || ev.Deliveries != 2 || len(r.events) != 2 {
		t.Fatalf("event %+v handled %d times; want given up after 2", ev, len(r.events))
	}
}

func TestStreamEventWaitsForAConnection(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	id := s.PushEvent("bpms_instance_change", map[string]string{"processInstanceId": "early"})
	time.Sleep(200 * time.Millisecond)
	r := &received{got: make(chan struct{}, 100)}
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		r.add(h, data)
		return event.EventProcessStatusKSuccess, nil
	})
	r.wait(t, 1)
	if r.events[0].EventId != id {
		t.Fatalf("got %s, want the event pushed before connecting %s", r.events[0].EventId, id)
	}
}

func TestApprovalLifecycleEmitsEvents(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	s.AddUser(dtsim.User{UserID: "lisi", Name: "李四"})
	r := &received{got: make(chan struct{}, 100)}
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		if h.EventType == "bpms_instance_change" {
			r.add(h, data)
		}
		return event.EventProcessStatusKSuccess, nil
	})
	tok := oldToken(t, s)
	status, m := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances", map[string]any{
		"processCode": "PROC-PEAK", "originatorUserId": "lisi", "deptId": -1, "microappAgentId": 100001,
		"formComponentValues": []map[string]string{{"name": "项目", "value": "锦艺一期"}, {"name": "金额", "value": "100000.00"}},
	})
	id, _ := m["instanceId"].(string)
	if status != 200 || id == "" {
		t.Fatalf("create instance: %d %v", status, m)
	}
	status, m = newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances", map[string]any{"processCode": "PROC-PEAK", "originatorUserId": "ghost"})
	if status != 400 || m["code"] != "staff.not.found" {
		t.Fatalf("unknown originator: %d %v", status, m)
	}
	running := s.Approvals(dtsim.StatusRunning)
	if len(running) != 1 || running[0].InstanceID != id || running[0].Form[1].Value != "100000.00" || running[0].Title != "李四提交的审批" {
		t.Fatalf("running approvals %+v", running)
	}
	eventID, err := s.Decide(id, "agree")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(id, "refuse"); err == nil {
		t.Fatal("deciding a finished instance succeeded")
	}
	r.wait(t, 2)
	var start, finish map[string]any
	json.Unmarshal([]byte(r.data[0]), &start)
	json.Unmarshal([]byte(r.data[1]), &finish)
	if start["type"] != "start" || finish["type"] != "finish" || finish["result"] != "agree" || finish["processInstanceId"] != id || finish["staffId"] != "lisi" {
		t.Fatalf("events: start %v finish %v", start, finish)
	}
	if r.events[1].EventId != eventID {
		t.Fatalf("finish event id %s, Decide said %s", r.events[1].EventId, eventID)
	}
	status, m = newCall(t, s, tok, "GET", "/v1.0/workflow/processInstances?processInstanceId="+id, nil)
	res, _ := m["result"].(map[string]any)
	if status != 200 || res["status"] != "COMPLETED" || res["result"] != "agree" || m["success"] != true {
		t.Fatalf("get instance: %d %v", status, m)
	}
	// DingTalk may deliver an event twice: same eventId.
	if err := s.Redeliver(eventID); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 3)
	if r.events[2].EventId != eventID {
		t.Fatalf("redelivered id %s, want %s", r.events[2].EventId, eventID)
	}
}

func TestTerminateEmitsTerminateEvent(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	s.AddUser(dtsim.User{UserID: "lisi", Name: "李四"})
	tok := oldToken(t, s)
	_, m := newCall(t, s, tok, "POST", "/v1.0/workflow/processInstances", map[string]any{"processCode": "P", "originatorUserId": "lisi"})
	id := m["instanceId"].(string)
	if _, err := s.Terminate(id); err != nil {
		t.Fatal(err)
	}
	evs := s.Events()
	var last map[string]any
	json.Unmarshal(evs[len(evs)-1].Data, &last)
	if last["type"] != "terminate" || last["result"] != nil || s.Approvals(dtsim.StatusTerminated)[0].InstanceID != id {
		t.Fatalf("terminate event %v", last)
	}
}

func TestStreamReconnectsAfterDrop(t *testing.T) {
	s := dtsimtest.Start(t, fastRedelivery)
	r := &received{got: make(chan struct{}, 100)}
	startSDK(t, s, func(_ context.Context, h *event.EventHeader, data []byte) (event.EventProcessStatusType, error) {
		r.add(h, data)
		return event.EventProcessStatusKSuccess, nil
	})
	s.DropStreams()
	deadline := time.Now().Add(2 * time.Second)
	for s.Connections() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if err := s.WaitConnected(ctx, 1); err != nil {
		t.Fatalf("SDK did not reconnect: %v", err)
	}
	s.PushEvent("bpms_instance_change", map[string]string{"processInstanceId": "after-drop"})
	r.wait(t, 1)
	if st := s.Stats()["/v1.0/gateway/connections/open"]; st < 2 {
		t.Fatalf("connections/open called %d times, want a fresh registration on reconnect", st)
	}
}

func TestPingAndDisconnect(t *testing.T) {
	s := dtsimtest.Start(t, func(c *dtsim.Config) { c.DisconnectDelay = 100 * time.Millisecond })
	startSDK(t, s, func(context.Context, *event.EventHeader, []byte) (event.EventProcessStatusType, error) {
		return event.EventProcessStatusKSuccess, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	opens := s.Stats()["/v1.0/gateway/connections/open"]
	s.Disconnect()
	for s.Stats()["/v1.0/gateway/connections/open"] == opens {
		if ctx.Err() != nil {
			t.Fatal("SDK did not register again after a disconnect frame")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

func TestBotMessageRoundTrip(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "wangwu", Name: "王五"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.BotMessage(ctx, "wangwu", "1", "帮助"); err == nil {
		t.Fatal("BotMessage without a stream connection succeeded")
	}
	startSDK(t, s, func(context.Context, *event.EventHeader, []byte) (event.EventProcessStatusType, error) {
		return event.EventProcessStatusKSuccess, nil
	})
	reply, err := s.BotMessage(ctx, "wangwu", "1", "帮助")
	if err != nil || reply != "你好，王五：帮助" {
		t.Fatalf("one-to-one reply %q, %v", reply, err)
	}
	reply, err = s.BotMessage(ctx, "wangwu", "2", "我的跟投")
	if err != nil || reply != "你好，王五：我的跟投" {
		t.Fatalf("group reply %q, %v (group messages must be @ the robot)", reply, err)
	}
	msgs := s.RobotMessages()
	if len(msgs) != 4 || msgs[1].Conversation != "cid-oto-wangwu" || msgs[3].Conversation != "cid-group-demo" || msgs[3].Robot != s.App().RobotCode {
		t.Fatalf("robot messages %+v", msgs)
	}
	if _, err := s.BotMessage(ctx, "ghost", "1", "x"); err == nil {
		t.Fatal("a message from an unknown user was sent")
	}
}

func TestCardCallbackAppliesResponse(t *testing.T) {
	s := dtsimtest.Start(t)
	s.AddUser(dtsim.User{UserID: "zhaoliu", Name: "赵六"})
	startSDK(t, s, func(context.Context, *event.EventHeader, []byte) (event.EventProcessStatusType, error) {
		return event.EventProcessStatusKSuccess, nil
	})
	tok := oldToken(t, s)
	status, m := newCall(t, s, tok, "POST", "/v1.0/card/instances/createAndDeliver", map[string]any{
		"cardTemplateId": "tpl.schema", "outTrackId": "card-1", "callbackType": "STREAM",
		"cardData":    map[string]any{"cardParamMap": map[string]string{"title": "审批单", "status": "pending"}},
		"openSpaceId": "dtv1.card//IM_ROBOT.zhaoliu", "imRobotOpenDeliverModel": map[string]string{"spaceType": "IM_ROBOT"},
	})
	if status != 200 || m["success"] != true {
		t.Fatalf("createAndDeliver: %d %v", status, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := s.CardCallback(ctx, "zhaoliu", "card-1", map[string]string{"action": "agree"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp), `"status":"agreed by zhaoliu"`) {
		t.Fatalf("callback response %s", resp)
	}
	c := s.Cards()[0]
	if c.CardParamMap["status"] != "agreed by zhaoliu" || c.CardParamMap["title"] != "审批单" || c.PrivateData["zhaoliu"]["canApprove"] != "false" {
		t.Fatalf("card after callback %+v", c)
	}
}

func TestStreamTicketIsOneShot(t *testing.T) {
	s := dtsimtest.Start(t)
	a := s.App()
	status, m := call(t, "POST", s.URL+"/v1.0/gateway/connections/open", nil, map[string]any{"clientId": a.AppKey, "clientSecret": "wrong"})
	if status != 400 {
		t.Fatalf("open with a wrong secret: %d %v", status, m)
	}
	status, m = call(t, "POST", s.URL+"/v1.0/gateway/connections/open", nil, map[string]any{"clientId": a.AppKey, "clientSecret": a.AppSecret,
		"subscriptions": []map[string]string{{"type": "EVENT", "topic": "*"}}})
	ep, _ := m["endpoint"].(string)
	if status != 200 || !strings.HasPrefix(ep, "ws://127.0.0.1:") || !strings.HasSuffix(ep, "/connect") || m["ticket"] == "" {
		t.Fatalf("open: %d %v", status, m)
	}
	u := ep + "?ticket=" + m["ticket"].(string)
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("second use of a ticket: %v %v, want 401", resp, err)
	}
	// A raw frame carries string headers and data as a JSON string.
	s.PushEvent("bpms_instance_change", map[string]string{"k": "v"})
	var f struct {
		SpecVersion, Type string
		Headers           map[string]any
		Data              any
	}
	ws.SetReadDeadline(time.Now().Add(3 * time.Second))
	if err := ws.ReadJSON(&f); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Data.(string); !ok || f.Type != "EVENT" || f.Headers["topic"] != "*" || f.SpecVersion != "1.0" {
		t.Fatalf("frame %+v", f)
	}
	for k, v := range f.Headers {
		if _, ok := v.(string); !ok {
			t.Fatalf("header %s is %T, want a string", k, v)
		}
	}
}

func TestStreamTicketExpiresAfter90Seconds(t *testing.T) {
	s, clk := startWithClock(t)
	a := s.App()
	_, m := call(t, "POST", s.URL+"/v1.0/gateway/connections/open", nil, map[string]any{"clientId": a.AppKey, "clientSecret": a.AppSecret})
	clk.Add(91 * time.Second)
	_, resp, err := websocket.DefaultDialer.Dial(m["endpoint"].(string)+"?ticket="+m["ticket"].(string), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ticket 91 s old: %v %v, want 401", resp, err)
	}
}
