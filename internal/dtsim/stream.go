package dtsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Stream topics and types, as the official SDKs use them.
const (
	TopicBotMessage   = "/v1.0/im/bot/messages/get"
	TopicCardCallback = "/v1.0/card/instances/callback"
	typeSystem        = "SYSTEM"
	typeEvent         = "EVENT"
	typeCallback      = "CALLBACK"
	ticketTTL         = 90 * time.Second
	sessionTTL        = 90 * time.Minute
)

// ErrNoStream is returned when no stream connection subscribes to what is pushed.
var ErrNoStream = errors.New("dtsim: no stream connection subscribed")

// frame is a server → client data frame (§5c): headers are all strings and
// data is a string of JSON.
type frame struct {
	SpecVersion string            `json:"specVersion"`
	Type        string            `json:"type"`
	Headers     map[string]string `json:"headers"`
	Data        string            `json:"data"`
}

// ack is a client → server response (§5d).
type ack struct {
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Message string            `json:"message"`
	Data    string            `json:"data"`
}

type subscription struct{ Type, Topic string }

type ticket struct {
	subs []subscription
	exp  time.Time
}

// ackWait is how long a connection's next frame waits for the previous
// frame's ack. The official Go SDK writes acks from concurrent goroutines
// without a lock, so two frames in flight at once can break its socket
// writer and lose an ack; one frame in flight per connection keeps tests
// deterministic. A handler slower than this gets the next frame anyway.
const ackWait = 2 * time.Second

// conn is one stream connection of the app.
type conn struct {
	ws       *websocket.Conn
	wmu      sync.Mutex
	subs     map[subscription]bool
	host     string        // the Host the client reached us by, for sessionWebhook URLs
	inflight chan struct{} // holds a token while a frame awaits its ack
	mu       sync.Mutex
	pending  string    // messageId of the frame in flight
	lastAck  time.Time // when the last in-flight frame was acked
}

// ackGap separates an ack from the next frame: the SDK marks its socket
// writer idle only after the ack's bytes left, and a frame answered within
// that window would make it report a concurrent write and drop the ack.
const ackGap = 3 * time.Millisecond

// send writes f once the previous frame was acked (or ackWait passed).
func (c *conn) send(f frame) error {
	select {
	case c.inflight <- struct{}{}:
	case <-time.After(ackWait):
	}
	c.mu.Lock()
	c.pending = f.Headers["messageId"]
	gap := ackGap - time.Since(c.lastAck)
	c.mu.Unlock()
	if gap > 0 {
		time.Sleep(gap)
	}
	b, _ := json.Marshal(f)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// acked frees the connection for the next frame when id was in flight.
func (c *conn) acked(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id != c.pending {
		return
	}
	c.pending = ""
	c.lastAck = time.Now()
	select {
	case <-c.inflight:
	default:
	}
}

// Event is one EVENT pushed to the app, with its delivery bookkeeping.
type Event struct {
	ID         string          `json:"event_id"`
	Type       string          `json:"event_type"`
	Data       json.RawMessage `json:"data"`
	BornAt     time.Time       `json:"born_at"`
	Deliveries int             `json:"deliveries"` // frames sent, redeliveries included
	Acked      bool            `json:"acked"`      // a delivery was acked with SUCCESS
	GaveUp     bool            `json:"gave_up"`    // MaxDeliveries reached without success
}

// delivery is one pending push of an event (Redeliver starts another one).
type delivery struct {
	ev     *Event
	nextAt time.Time
	sent   int
	done   bool
}

type session struct {
	userID, conversation string
	exp                  time.Time
	replies              chan string
}

type streamHub struct {
	sim      *Sim
	upgrader websocket.Upgrader

	mu       sync.Mutex
	tickets  map[string]ticket
	conns    map[*conn]bool
	waiters  map[string]func(ack)
	events   map[string]*Event
	order    []*Event
	pending  []*delivery
	sessions map[string]*session
	seq      int64
	closed   bool
	stop     chan struct{}
	wake     chan struct{}
}

func newStreamHub(s *Sim) *streamHub {
	h := &streamHub{
		sim:      s,
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		tickets:  map[string]ticket{},
		conns:    map[*conn]bool{},
		waiters:  map[string]func(ack){},
		events:   map[string]*Event{},
		sessions: map[string]*session{},
		stop:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
	}
	go h.redeliverLoop()
	return h
}

// open registers a stream client (§5a) and hands out a one-shot ticket.
func (h *streamHub) open(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientID      string `json:"clientId"`
		ClientSecret  string `json:"clientSecret"`
		Subscriptions []subscription
	}
	if !decodeNew(w, r, &in) {
		return
	}
	app := h.sim.cfg.App
	if in.ClientID != app.AppKey || in.ClientSecret != app.AppSecret {
		writeNewErr(w, http.StatusBadRequest, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
		return
	}
	t := newID()
	h.mu.Lock()
	h.tickets[t] = ticket{subs: in.Subscriptions, exp: h.sim.now().Add(ticketTTL)}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"endpoint": "ws://" + r.Host + "/connect", "ticket": t})
}

// connect upgrades to the websocket after checking the ticket.
func (h *streamHub) connect(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("ticket")
	h.mu.Lock()
	tk, ok := h.tickets[t]
	delete(h.tickets, t)
	closed := h.closed
	h.mu.Unlock()
	if closed {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	if !ok || !h.sim.now().Before(tk.exp) {
		http.Error(w, `{"code":"InvalidTicket","message":"ticket无效或已过期"}`, http.StatusUnauthorized)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, subs: map[subscription]bool{}, host: r.Host, inflight: make(chan struct{}, 1)}
	for _, s := range tk.subs {
		c.subs[s] = true
	}
	h.mu.Lock()
	h.conns[c] = true
	h.mu.Unlock()
	go h.read(c)
	h.kick()
}

// read takes acks off one connection until it breaks.
func (h *streamHub) read(c *conn) {
	defer h.drop(c)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var a ack
		if json.Unmarshal(b, &a) != nil {
			continue
		}
		id := a.Headers["messageId"]
		c.acked(id)
		h.mu.Lock()
		f := h.waiters[id]
		delete(h.waiters, id)
		h.mu.Unlock()
		if f != nil {
			f(a)
		}
	}
}

func (h *streamHub) drop(c *conn) {
	c.ws.Close()
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// pick chooses a random connection subscribed to (typ, topic); h.mu held.
func (h *streamHub) pick(typ, topic string) *conn {
	var cands []*conn
	for c := range h.conns {
		if c.subs[subscription{typ, topic}] {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	h.sim.mu.Lock()
	i := h.sim.rnd.Intn(len(cands))
	h.sim.mu.Unlock()
	return cands[i]
}

func (h *streamHub) nextMessageID() string {
	h.seq++
	return fmt.Sprintf("%s_%d_%x", newID()[:8], h.seq, time.Now().UnixMilli())
}

func (h *streamHub) newFrame(typ, topic, messageID string, data any) frame {
	var s string
	switch d := data.(type) {
	case string:
		s = d
	case json.RawMessage:
		s = string(d)
	default:
		b, _ := json.Marshal(d)
		s = string(b)
	}
	return frame{SpecVersion: "1.0", Type: typ, Data: s, Headers: map[string]string{
		"topic": topic, "messageId": messageID, "contentType": "application/json",
		"time": strconv.FormatInt(h.sim.now().UnixMilli(), 10), "appId": h.sim.cfg.App.AppKey,
	}}
}

// request sends a frame on c and waits for its ack.
func (h *streamHub) request(ctx context.Context, c *conn, f frame) (ack, error) {
	got := make(chan ack, 1)
	id := f.Headers["messageId"]
	h.mu.Lock()
	h.waiters[id] = func(a ack) { got <- a }
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.waiters, id)
		h.mu.Unlock()
	}()
	if err := c.send(f); err != nil {
		return ack{}, fmt.Errorf("send %s frame: %w", f.Type, err)
	}
	select {
	case a := <-got:
		return a, nil
	case <-ctx.Done():
		return ack{}, fmt.Errorf("wait for ack of %s: %w", id, ctx.Err())
	}
}

// PushEvent queues an EVENT for the app and returns its eventId. It is pushed
// to one connection at once if there is one, else as soon as one connects;
// un-acked or LATER/500-acked deliveries are pushed again after
// RedeliveryDelay, at most MaxDeliveries times.
func (s *Sim) PushEvent(eventType string, data any) string {
	b, err := json.Marshal(data)
	if err != nil {
		b = []byte("{}")
	}
	if raw, ok := data.(json.RawMessage); ok {
		b = raw
	}
	h := s.streams
	ev := &Event{ID: newID(), Type: eventType, Data: b, BornAt: s.now()}
	h.mu.Lock()
	h.events[ev.ID] = ev
	h.order = append(h.order, ev)
	h.pending = append(h.pending, &delivery{ev: ev})
	h.mu.Unlock()
	h.kick()
	return ev.ID
}

// Redeliver pushes an event again with the same eventId, as DingTalk may do
// even after a successful ack.
func (s *Sim) Redeliver(eventID string) error {
	h := s.streams
	h.mu.Lock()
	ev := h.events[eventID]
	if ev != nil {
		h.pending = append(h.pending, &delivery{ev: ev})
	}
	h.mu.Unlock()
	if ev == nil {
		return fmt.Errorf("redeliver %s: no such event", eventID)
	}
	h.kick()
	return nil
}

// kick makes the delivery loop look at pending events now.
func (h *streamHub) kick() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Events returns every pushed event with its delivery state.
func (s *Sim) Events() []Event {
	h := s.streams
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Event, 0, len(h.order))
	for _, e := range h.order {
		out = append(out, *e)
	}
	return out
}

func (h *streamHub) redeliverLoop() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.flush()
		case <-h.wake:
			h.flush()
		}
	}
}

// flush, run only by redeliverLoop, sends every due delivery to a connection subscribed to EVENT "*".
func (h *streamHub) flush() {
	type out struct {
		c *conn
		f frame
	}
	var sends []out
	now := time.Now()
	max := h.sim.cfg.MaxDeliveries
	h.mu.Lock()
	keep := h.pending[:0]
	for _, d := range h.pending {
		if d.done {
			continue
		}
		if d.sent >= max {
			if now.Before(d.nextAt) {
				keep = append(keep, d) // the last delivery may still be acked
				continue
			}
			d.ev.GaveUp = !d.ev.Acked
			continue
		}
		keep = append(keep, d)
		if now.Before(d.nextAt) {
			continue
		}
		c := h.pick(typeEvent, "*")
		if c == nil {
			continue
		}
		d.sent++
		d.ev.Deliveries++
		d.nextAt = now.Add(h.sim.cfg.RedeliveryDelay)
		f := h.newFrame(typeEvent, "*", h.nextMessageID(), d.ev.Data)
		f.Headers["eventId"] = d.ev.ID
		f.Headers["eventType"] = d.ev.Type
		f.Headers["eventCorpId"] = h.sim.cfg.App.CorpID
		f.Headers["eventBornTime"] = strconv.FormatInt(d.ev.BornAt.UnixMilli(), 10)
		f.Headers["eventUnifiedAppId"] = h.sim.cfg.App.AppKey
		d := d
		h.waiters[f.Headers["messageId"]] = func(a ack) {
			var res struct{ Status string }
			json.Unmarshal([]byte(a.Data), &res)
			if a.Code == http.StatusOK && res.Status != "LATER" {
				h.mu.Lock()
				d.done, d.ev.Acked, d.ev.GaveUp = true, true, false
				h.mu.Unlock()
			}
		}
		sends = append(sends, out{c, f})
	}
	h.pending = keep
	h.mu.Unlock()
	for _, o := range sends {
		if err := o.c.send(o.f); err != nil {
			o.c.ws.Close() // the reader drops it; the delivery is retried
		}
	}
}

// Connections returns how many stream connections are open.
func (s *Sim) Connections() int {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	return len(s.streams.conns)
}

// WaitConnected waits until at least n stream connections are open.
func (s *Sim) WaitConnected(ctx context.Context, n int) error {
	for {
		if s.Connections() >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d stream connections (have %d): %w", n, s.Connections(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (h *streamHub) all() []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

// DropStreams abruptly closes every stream connection (no close frame), as a
// network failure would; clients are expected to reconnect.
func (s *Sim) DropStreams() {
	for _, c := range s.streams.all() {
		c.ws.Close()
	}
}

// Ping sends a SYSTEM ping to every connection and checks each echoes the opaque data.
func (s *Sim) Ping(ctx context.Context) error {
	h := s.streams
	for _, c := range h.all() {
		opaque := newID()[:12]
		h.mu.Lock()
		f := h.newFrame(typeSystem, "ping", h.nextMessageID(), map[string]string{"opaque": opaque})
		h.mu.Unlock()
		a, err := h.request(ctx, c, f)
		if err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		var echo struct{ Opaque string }
		json.Unmarshal([]byte(a.Data), &echo)
		if a.Code != http.StatusOK || echo.Opaque != opaque {
			return fmt.Errorf("ping: ack code %d data %q, want 200 echoing opaque %q", a.Code, a.Data, opaque)
		}
	}
	return nil
}

// Disconnect sends SYSTEM disconnect to every connection and closes each
// DisconnectDelay later, as DingTalk does when it rebalances.
func (s *Sim) Disconnect() {
	h := s.streams
	for _, c := range h.all() {
		h.mu.Lock()
		f := h.newFrame(typeSystem, "disconnect", h.nextMessageID(), map[string]string{"reason": "connection is expired"})
		h.mu.Unlock()
		c.send(f)
		time.AfterFunc(s.cfg.DisconnectDelay, func() { c.ws.Close() })
	}
}

func (h *streamHub) close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.stop)
	}
	h.mu.Unlock()
	for _, c := range h.all() {
		c.ws.Close()
	}
}
