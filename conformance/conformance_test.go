package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hehuo/internal/dtsim"
	"hehuo/internal/dtsim/dtsimtest"
)

// Fixture the Node script is pointed at.
const (
	conversation   = "cid-conformance-group"
	processCode    = "PROC-HEHUO-CONFORMANCE"
	originator     = "conf-originator"
	originatorName = "张发起"
	webhookToken   = "conformance-webhook-token"
	webhookSecret  = "SECconformance0123456789abcdef"
	webhookGroup   = "cid-conformance-webhook"
	webhookRobot   = "跟投通知机器人"
	cardTrackID    = "hehuo-conformance-card-1"
)

var otoUsers = []string{"conf-u1", "conf-u2", "conf-u3"}

// wantChecks is every check run.mjs must report; a check missing from the
// summary fails the test as much as a failed one.
var wantChecks = []string{
	"oauth2.getAccessToken",
	"oauth2.getAccessToken bad secret",
	"oauth2.createJsapiTicket",
	"oauth2.getUserToken",
	"contact.getUser me",
	"robot.orgGroupSend",
	"robot.batchSendOTO",
	"robot.batchSendOTO over 20 users",
	"robot.batchSendOTO unknown user",
	"workflow.startProcessInstance",
	"workflow.startProcessInstance unknown originator",
	"workflow.getProcessInstance running",
	"workflow.getProcessInstance agreed",
	"invalid token",
	"card.createAndDeliver",
	"robot-sender text",
	"robot-sender markdown",
	"robot-sender wrong secret",
	"stream.getAccessToken",
	"stream.connect",
	"stream.events",
	"stream.bot message",
	"stream.card callback",
	"stream.reconnect",
	"throttled",
	"system busy",
	"token expiry",
}

type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	MS     int64  `json:"ms"`
}

type summary struct {
	OK     bool    `json:"ok"`
	Checks []check `json:"checks"`
}

// node returns the node binary, or skips outside CI when node or the
// installed SDKs are missing (CI must have both: make test runs
// scripts/conformance.sh first).
func node(t *testing.T) string {
	t.Helper()
	missing := ""
	bin, err := exec.LookPath("node")
	if err != nil {
		missing = "node on PATH"
	} else if _, err := os.Stat(filepath.Join("node_modules", "@alicloud", "dingtalk", "package.json")); err != nil {
		missing = "conformance/node_modules (bash scripts/conformance.sh)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("conformance test needs %s", missing)
		}
		t.Skipf("no %s", missing)
	}
	return bin
}

// patient makes the simulator wait long before redelivering an event, so
// "acked at the first delivery" holds on a loaded machine too: a redelivery
// within the run then means the SDK did not ack.
func patient(c *dtsim.Config) { c.RedeliveryDelay = time.Minute }

// seed adds the users and the custom robot the script needs.
func seed(s *dtsim.Sim) {
	s.AddUser(dtsim.User{UserID: originator, Name: originatorName, Mobile: "13800000100", Title: "投资经理"})
	for i, u := range otoUsers {
		s.AddUser(dtsim.User{UserID: u, Name: "跟投人" + string(rune('甲'+i)), Mobile: "1380000010" + string(rune('1'+i))})
	}
	s.AddRobot(dtsim.Robot{Name: webhookRobot, AccessToken: webhookToken, Secret: webhookSecret, Conversation: webhookGroup})
}

// run runs run.mjs against the simulator at url and returns its summary,
// its stderr and its exit error (nil on exit 0).
func run(t *testing.T, bin, url string, app dtsim.App, oauthCode string) (summary, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run.mjs")
	cmd.Env = append(os.Environ(),
		// axios honours proxy variables; the simulator is local.
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"DTSIM_URL="+url,
		"DTSIM_APP_KEY="+app.AppKey,
		"DTSIM_APP_SECRET="+app.AppSecret,
		"DTSIM_ROBOT_CODE="+app.RobotCode,
		"DTSIM_CONVERSATION="+conversation,
		"DTSIM_USERS="+strings.Join(otoUsers, ","),
		"DTSIM_ORIGINATOR="+originator,
		"DTSIM_ORIGINATOR_NAME="+originatorName,
		"DTSIM_PROCESS_CODE="+processCode,
		"DTSIM_CARD_TRACK_ID="+cardTrackID,
		"DTSIM_OAUTH_CODE="+oauthCode,
		"DTSIM_CORP_ID="+app.CorpID,
		"DTSIM_WEBHOOK_TOKEN="+webhookToken,
		"DTSIM_WEBHOOK_SECRET="+webhookSecret,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	runErr := cmd.Run()
	t.Logf("node run.mjs took %v", time.Since(started).Round(time.Millisecond))
	// The summary is the last line; anything an SDK printed goes before it.
	out := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	var sum summary
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("run.mjs printed no JSON summary (%v, exit %v)\nstdout: %s\nstderr: %s", err, runErr, stdout.String(), stderr.String())
	}
	return sum, stderr.String(), runErr
}

func byName(sum summary) map[string]check {
	m := make(map[string]check, len(sum.Checks))
	for _, c := range sum.Checks {
		m[c.Name] = c
	}
	return m
}

// Must show, all against the simulator: the official OpenAPI SDK gets a
// token and a JSAPI ticket, signs a user in by QR code, sends group and
// one-to-one robot messages, starts and reads approvals, delivers a card and
// sees DingTalk's error codes (bad secret, bad token, over 20 users, unknown
// originator, throttled, busy); dingtalk-robot-sender's signed text and
// markdown land while a wrong secret gets 310000; the official stream SDK
// connects, acks each approval event once, answers bot messages through the
// sessionWebhook, updates a card from its click callback and reconnects
// after its socket is dropped.
func TestOfficialNodeSDKsAgainstSimulator(t *testing.T) {
	bin := node(t)
	s := dtsimtest.Start(t, patient)
	seed(s.Sim)
	app := s.App()

	code, err := s.OAuthCode(otoUsers[0])
	if err != nil {
		t.Fatal(err)
	}
	sum, stderr, runErr := run(t, bin, s.URL, app, code)
	got := byName(sum)
	for _, name := range wantChecks {
		c, ok := got[name]
		switch {
		case !ok:
			t.Errorf("check %q missing from the summary", name)
		case !c.OK:
			t.Errorf("check %q failed: %s", name, c.Detail)
		default:
			t.Logf("ok  %-48s %5d ms  %s", name, c.MS, c.Detail)
		}
	}
	if runErr != nil {
		t.Errorf("run.mjs exit: %v (summary ok=%v)\nstderr: %s", runErr, sum.OK, stderr)
	}
	if !sum.OK {
		t.Errorf("summary ok = false")
	}

	// The simulator saw what the SDKs sent: one group message, one per
	// one-to-one user, two signed webhook messages and nothing for the
	// wrong secret or the invalid token, and for each of the two bot chats
	// the user's message and the stream client's sessionWebhook reply.
	count := map[string]int{}
	for _, m := range s.RobotMessages() {
		count[m.Robot+" → "+m.Conversation]++
	}
	want := map[string]int{app.RobotCode + " → " + conversation: 1, webhookRobot + " → " + webhookGroup: 2}
	for _, u := range otoUsers {
		want[app.RobotCode+" → oto:"+u] = 1
	}
	want[app.RobotCode+" → oto:"+otoUsers[0]]++ // the batch with a stranger in it
	chatter := userName(s.Users(), otoUsers[0])
	for _, conv := range []string{"cid-oto-" + otoUsers[0], "cid-group-demo"} {
		want[chatter+" → "+conv] = 1
		want[app.RobotCode+" → "+conv] = 1
	}
	// and one more chat after the stream reconnected
	want[userName(s.Users(), otoUsers[1])+" → cid-oto-"+otoUsers[1]] = 1
	want[app.RobotCode+" → cid-oto-"+otoUsers[1]] = 1
	for k, n := range want {
		if count[k] != n {
			t.Errorf("robot messages %s: got %d, want %d (all: %v)", k, count[k], n, count)
		}
	}
	if len(count) != len(want) {
		t.Errorf("robot messages went to %v, want exactly %v", count, want)
	}
	// The card the SDK delivered, after one click answered by the stream SDK.
	cards := s.Cards()
	if len(cards) != 1 || cards[0].OutTrackID != cardTrackID || cards[0].CallbackType != "STREAM" || cards[0].Callbacks != 1 ||
		cards[0].CardParamMap["status"] != "agreed" || cards[0].CardParamMap["title"] != "跟投确认" ||
		cards[0].PrivateData[otoUsers[0]]["canApprove"] != "false" {
		t.Errorf("cards = %+v, want %s agreed once, title kept, %s's canApprove false", cards, cardTrackID, otoUsers[0])
	}
	// Two approvals started through the SDK: one agreed, one refused.
	results := map[string]int{}
	for _, a := range s.Approvals("COMPLETED") {
		if a.ProcessCode == processCode && a.Originator == originator {
			results[a.Result]++
		}
	}
	if len(results) != 2 || results["agree"] != 1 || results["refuse"] != 1 {
		t.Errorf("completed approvals of %s by %s: %v, want one agree and one refuse", processCode, originator, results)
	}
	// The stream SDK registered twice: at start and after the drop.
	if n := s.Stats()["/v1.0/gateway/connections/open"]; n != 2 {
		t.Errorf("connections/open called %d times, want 2", n)
	}
	for _, e := range s.Events() {
		if !e.Acked || e.Deliveries != 1 {
			t.Errorf("event %s (%s): acked %v after %d deliveries, want acked after 1", e.ID, e.Type, e.Acked, e.Deliveries)
		}
	}
}

// userName returns the name of userid among users ("" if absent).
func userName(users []dtsim.User, userid string) string {
	for _, u := range users {
		if u.UserID == userid {
			return u.Name
		}
	}
	return ""
}

// Must show: the harness can fail — a simulator that answers the workflow
// paths with a plain 404 page makes those checks (and the stream check that
// starts an approval) fail and the script exit non-zero, while the other
// checks still pass.
func TestConformanceReportsABrokenSimulator(t *testing.T) {
	bin := node(t)
	cfg := dtsim.Config{App: dtsim.DemoApp()}
	patient(&cfg)
	sim := dtsim.New(cfg)
	t.Cleanup(sim.Close)
	seed(sim)
	h := sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0/workflow/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	code, err := sim.OAuthCode(otoUsers[0])
	if err != nil {
		t.Fatal(err)
	}
	sum, _, runErr := run(t, bin, srv.URL, sim.App(), code)
	var exit *exec.ExitError
	if !errors.As(runErr, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("run.mjs exit = %v, want exit status 1", runErr)
	}
	if sum.OK {
		t.Errorf("summary ok = true for a simulator without workflow paths")
	}
	for _, c := range sum.Checks {
		wantOK := !strings.HasPrefix(c.Name, "workflow.") && c.Name != "stream.events"
		if c.OK != wantOK {
			t.Errorf("check %q ok = %v, want %v (%s)", c.Name, c.OK, wantOK, c.Detail)
		}
	}
	if len(sum.Checks) != len(wantChecks) {
		t.Errorf("%d checks reported, want %d", len(sum.Checks), len(wantChecks))
	}
}
