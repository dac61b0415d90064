// Package dtsim is a test double of DingTalk: one HTTP handler serves the
// old (oapi) and new (api) OpenAPI paths Hehuo uses, the stream-mode
// gateway, custom and app robots, OA approvals, interactive cards, the PC QR
// sign-in page, a control API under /sim/ and a web page at / that shows
// what the employees' phones would see. The real client (internal/dingtalk),
// the official Go stream SDK and the official Node SDKs run against it
// unchanged; shapes and error codes follow ../../../shared/dingtalk-api.md
// and docs/dingtalk-extra.md. Set api_base = oapi_base = login_base = its URL.
//
// Where DingTalk's behaviour is unconfirmed the simulator chooses, and tests
// hold it to the choice:
//
//   - Invalid or revoked token: old family errcode 40014 不合法的access_token;
//     a token that lived out its TTL: 42001. New family: HTTP 401
//     {"code":"InvalidAuthentication"} for both (DingTalk has been seen
//     answering 400 too).
//
//   - Bad appKey/appSecret (accessToken, connections/open, userAccessToken):
//     HTTP 400 invalidClientIdOrSecret; gettoken: errcode 40089.
//
//   - asyncsend_v2: more than 100 userids or 20 dept ids, an empty recipient
//     list, a msg over 2048 bytes or without msgtype → errcode 40035 不合法的参数
//     (the real code for these was not found); a wrong agent_id → 40056.
//     Unknown userids go to invalid_user_id_list. Over-limit sends still
//     answer errcode 0: same content to the same user on the same day is
//     recorded Dropped with Reason 143106, the 501st notice of a day 143105,
//     and getsendresult lists them in forbidden_list.
//
//   - Faults (SetFaults, POST /sim/faults): "busy" is errcode -1 系统繁忙
//     (HTTP 200) on old paths and HTTP 500 {"code":"ServiceUnavailable"} on
//     /v1.0/ paths; "throttled" is errcode 90018 (HTTP 200) and HTTP 403
//     Forbidden.AccessDenied.QpsLimitForAppkeyAndApi. They never touch /sim/,
//     the page, the QR page, /connect or sessionWebhook replies. Outcomes come
//     from a seeded math/rand (Config.Seed, SetSeed), so runs repeat.
//     DropStream drops every stream connection once when set.
//
//   - Custom robots: unknown access_token 300001; bad sign or a timestamp
//     more than an hour off 310000; the 21st message within a minute 130101,
//     and the robot then stays throttled for 10 minutes. A message over 20000
//     bytes: 460101.
//
//   - App robots: robotCode must be the app's; msgKey must be known and
//     msgParam a JSON object with that key's fields, else HTTP 400
//     invalidParameter.*; batchSend over 20 userIds: invalidParameter.userIds.overMax.
//
//   - Approvals: creating an instance pushes bpms_instance_change type start;
//     Decide pushes bpms_task_change (finish) then bpms_instance_change
//     (finish, result); Terminate pushes type terminate. The approver is
//     "approver-<originator>".
//
//   - Stream: tickets are one-shot and live 90 s; an unknown ticket is HTTP 401
//     at the handshake. EVENTs wait for a connection subscribed to EVENT "*",
//     go to a random one, and are pushed again after RedeliveryDelay (2 s)
//     unless acked with code 200 and a status other than LATER, at most
//     MaxDeliveries (5) times. Each connection has one frame in flight at a
//     time (the next waits up to 2 s for the previous ack), because the Go SDK
//     writes acks from concurrent goroutines without a lock. Bot CALLBACKs
//     are fire and forget; card CALLBACKs wait for the ack and apply its
//     response to the card.
//
//   - Bot messages: one-to-one conversations are "cid-oto-<userid>", the
//     group is "cid-group-demo" (锦艺跟投群); group text keeps the leading space
//     DingTalk leaves where the @ was. The sessionWebhook is on the host the
//     stream client reached, and lives 90 minutes.
//
//   - JSAPI: the ticket is renewed while valid; VerifyJSAPI and
//     POST /sim/jsapi/verify check a dd.config signature as the DingTalk
//     client would (fragment cut, lowercase hex SHA-1), answering 52013
//     签名校验失败 otherwise.
//
// Not simulated: media upload, message recall for robots, readStatus, the
// HTTP-push event variant, card update (PUT /v1.0/card/instances), the
// 24-hour cap on a JSAPI ticket and the to_all_user and per-minute
// recipient limits of work notices.
package dtsim
