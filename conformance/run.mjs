// Conformance run: DingTalk's own Node SDKs (@alicloud/dingtalk,
// dingtalk-robot-sender and dingtalk-stream), unchanged, against Hehuo's
// DingTalk simulator (internal/dtsim). See README.md.
//
// If the simulator answers what these SDKs send and they parse what it
// answers, the simulator speaks DingTalk's wire format and not just the
// dialect our Go client happens to use.
//
// Input (environment):
//   DTSIM_URL              simulator base URL, e.g. http://127.0.0.1:18080
//   DTSIM_APP_KEY          app key (Client ID) of the simulated app
//   DTSIM_APP_SECRET       its secret
//   DTSIM_ROBOT_CODE       robot code of the app robot (usually the app key)
//   DTSIM_CONVERSATION     openConversationId for the group message
//   DTSIM_USERS            comma-separated userids for the one-to-one batch
//   DTSIM_ORIGINATOR       userid that starts the approval
//   DTSIM_ORIGINATOR_NAME  that user's name (DingTalk titles an approval "<name>提交的…")
//   DTSIM_PROCESS_CODE     approval template code
//   DTSIM_CARD_TRACK_ID    outTrackId of the interactive card delivered to DTSIM_USERS[0]
//   DTSIM_OAUTH_CODE       a PC QR sign-in (OAuth) code of DTSIM_USERS[0]
//   DTSIM_CORP_ID          the organisation's corpId
//   DTSIM_WEBHOOK_TOKEN    access_token of a custom webhook robot
//   DTSIM_WEBHOOK_SECRET   its signing secret (SEC...)
//
// Output: one JSON line on stdout, {"ok":bool,"checks":[{"name","ok","detail","ms"}]};
// exit status 0 only when every check is ok.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const $OpenApi = require('@alicloud/openapi-client');
const $Util = require('@alicloud/tea-util');
const oauth2 = require('@alicloud/dingtalk/oauth2_1_0');
const robot = require('@alicloud/dingtalk/robot_1_0');
const workflow = require('@alicloud/dingtalk/workflow_1_0');
const card = require('@alicloud/dingtalk/card_1_0');
const contact = require('@alicloud/dingtalk/contact_1_0');
const ChatBot = require('dingtalk-robot-sender');
const { DWClient, EventAck, TOPIC_CARD, TOPIC_ROBOT } = require('dingtalk-stream');
// The stream SDK's own axios (it may be a different copy from ours): its
// gateway and token URLs are constants, so the simulator is put in place of
// DingTalk's hosts at this HTTP client, the way a hosts-file entry would.
const streamAxios = createRequire(require.resolve('dingtalk-stream'))('axios');

// The SDKs log to stdout (the stream SDK says "connect success"); stdout is
// kept for the JSON summary.
console.log = console.info = console.error;

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};

const base = env('DTSIM_URL').replace(/\/+$/, '');
const app = { key: env('DTSIM_APP_KEY'), secret: env('DTSIM_APP_SECRET') };
const robotCode = env('DTSIM_ROBOT_CODE');
const conversation = env('DTSIM_CONVERSATION');
const users = env('DTSIM_USERS').split(',').filter(Boolean);
const originator = env('DTSIM_ORIGINATOR');
const originatorName = env('DTSIM_ORIGINATOR_NAME');
const processCode = env('DTSIM_PROCESS_CODE');
const cardTrackId = env('DTSIM_CARD_TRACK_ID');
const oauthCode = env('DTSIM_OAUTH_CODE');
const corpId = env('DTSIM_CORP_ID');
const webhook = { token: env('DTSIM_WEBHOOK_TOKEN'), secret: env('DTSIM_WEBHOOK_SECRET') };

// The SDK builds its URL as protocol + "://" + endpoint + pathname, so the
// endpoint is the simulator's host:port.
const simURL = new URL(base);
const config = () => new $OpenApi.Config({
  protocol: simURL.protocol.replace(':', ''),
  endpoint: simURL.host,
  readTimeout: 10000,
  connectTimeout: 5000,
});

const oauth = new oauth2.default(config());
const robots = new robot.default(config());
const flows = new workflow.default(config());
const cards = new card.default(config());
const contacts = new contact.default(config());
const runtime = () => new $Util.RuntimeOptions({});

const checks = [];

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// check runs one named step; a thrown error fails it with the error's text.
async function check(name, fn) {
  const start = Date.now();
  try {
    const detail = await fn();
    checks.push({ name, ok: true, detail: detail ?? '', ms: Date.now() - start });
  } catch (err) {
    checks.push({ name, ok: false, detail: describe(err), ms: Date.now() - start });
  }
}

function describe(err) {
  if (!err) return String(err);
  const parts = [err.message || String(err)];
  if (err.code) parts.push(`code=${err.code}`);
  if (err.statusCode) parts.push(`status=${err.statusCode}`);
  return parts.join(' ');
}

// expectError runs fn, which must fail with DingTalk's error code and an HTTP
// status among statuses; it returns what the SDK raised.
async function expectError(fn, code, statuses) {
  let res;
  try {
    res = await fn();
  } catch (err) {
    assert(err.code === code, `err.code = ${JSON.stringify(err.code)}, want ${code} (${err.message})`);
    assert(statuses.includes(err.statusCode), `err.statusCode = ${err.statusCode}, want one of ${statuses}`);
    assert(typeof err.data?.message === 'string', `err.data.message missing: ${JSON.stringify(err.data)}`);
    return err;
  }
  throw new Error(`expected ${code}, got success ${JSON.stringify(res?.body ?? res)}`);
}

async function sim(path, init) {
  const res = await fetch(base + path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method || 'GET'} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

async function robotMessages() {
  const body = await sim('/sim/robot-messages');
  assert(Array.isArray(body.items), `/sim/robot-messages items not an array: ${JSON.stringify(body)}`);
  return body.items;
}

// msgOf returns a robot message's msg as an object whether the simulator
// reports it as JSON or as a JSON string.
function msgOf(item) {
  return typeof item.msg === 'string' ? JSON.parse(item.msg) : item.msg;
}

let token = '';

await check('oauth2.getAccessToken', async () => {
  const res = await oauth.getAccessToken(new oauth2.GetAccessTokenRequest({ appKey: app.key, appSecret: app.secret }));
  assert(res.statusCode === 200, `status ${res.statusCode}`);
  const b = res.body;
  assert(b instanceof oauth2.GetAccessTokenResponseBody, 'body not parsed into GetAccessTokenResponseBody');
  assert(typeof b.accessToken === 'string' && b.accessToken.length > 0, `accessToken ${JSON.stringify(b.accessToken)}`);
  assert(typeof b.expireIn === 'number' && b.expireIn > 0 && b.expireIn <= 7200, `expireIn ${JSON.stringify(b.expireIn)}`);
  token = b.accessToken;
  const again = await oauth.getAccessToken(new oauth2.GetAccessTokenRequest({ appKey: app.key, appSecret: app.secret }));
  assert(again.body.accessToken === token, 'refetch while valid returned a different token');
  return `expireIn=${b.expireIn}, same token on refetch`;
});

await check('oauth2.getAccessToken bad secret', async () => {
  const err = await expectError(
    () => oauth.getAccessToken(new oauth2.GetAccessTokenRequest({ appKey: app.key, appSecret: app.secret + '-wrong' })),
    'invalidClientIdOrSecret', [400, 401, 403]);
  return `code=${err.code} status=${err.statusCode}`;
});

await check('oauth2.createJsapiTicket', async () => {
  const headers = new oauth2.CreateJsapiTicketHeaders({ xAcsDingtalkAccessToken: token });
  const res = await oauth.createJsapiTicketWithOptions(headers, runtime());
  const b = res.body;
  assert(b instanceof oauth2.CreateJsapiTicketResponseBody, 'body not parsed into CreateJsapiTicketResponseBody');
  assert(typeof b.jsapiTicket === 'string' && b.jsapiTicket.length > 0, `jsapiTicket ${JSON.stringify(b.jsapiTicket)}`);
  assert(typeof b.expireIn === 'number' && b.expireIn > 0, `expireIn ${JSON.stringify(b.expireIn)}`);
  return `expireIn=${b.expireIn}`;
});

await check('robot.orgGroupSend', async () => {
  const text = `## 跟投通知 ${Date.now()}`;
  const req = new robot.OrgGroupSendRequest({
    robotCode,
    openConversationId: conversation,
    msgKey: 'sampleMarkdown',
    msgParam: JSON.stringify({ title: '跟投通知', text }),
  });
  const res = await robots.orgGroupSendWithOptions(req, new robot.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: token }), runtime());
  const b = res.body;
  assert(b instanceof robot.OrgGroupSendResponseBody, 'body not parsed into OrgGroupSendResponseBody');
  assert(typeof b.processQueryKey === 'string' && b.processQueryKey.length > 0, `processQueryKey ${JSON.stringify(b.processQueryKey)}`);
  const landed = (await robotMessages()).filter((m) => m.robot === robotCode && m.conversation === conversation &&
    JSON.stringify(msgOf(m)).includes(text));
  assert(landed.length === 1, `${landed.length} matching messages in /sim/robot-messages, want 1`);
  return `processQueryKey=${b.processQueryKey}`;
});

await check('robot.batchSendOTO', async () => {
  const content = `一对一提醒 ${Date.now()}`;
  const req = new robot.BatchSendOTORequest({
    robotCode, userIds: users, msgKey: 'sampleText', msgParam: JSON.stringify({ content }),
  });
  const res = await robots.batchSendOTOWithOptions(req, new robot.BatchSendOTOHeaders({ xAcsDingtalkAccessToken: token }), runtime());
  const b = res.body;
  assert(b instanceof robot.BatchSendOTOResponseBody, 'body not parsed into BatchSendOTOResponseBody');
  assert(typeof b.processQueryKey === 'string' && b.processQueryKey.length > 0, `processQueryKey ${JSON.stringify(b.processQueryKey)}`);
  for (const list of ['invalidStaffIdList', 'flowControlledStaffIdList']) {
    assert(b[list] === undefined || (Array.isArray(b[list]) && b[list].length === 0), `${list} ${JSON.stringify(b[list])}`);
  }
  const items = await robotMessages();
  for (const u of users) {
    const got = items.filter((m) => m.conversation === `oto:${u}` && JSON.stringify(msgOf(m)).includes(content));
    assert(got.length === 1, `${got.length} one-to-one messages for ${u}, want 1`);
  }
  return `${users.length} users, processQueryKey=${b.processQueryKey}`;
});

await check('robot.batchSendOTO over 20 users', async () => {
  const many = Array.from({ length: 21 }, (_, i) => `${users[0]}-${i}`);
  const req = new robot.BatchSendOTORequest({
    robotCode, userIds: many, msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'x' }),
  });
  const err = await expectError(
    () => robots.batchSendOTOWithOptions(req, new robot.BatchSendOTOHeaders({ xAcsDingtalkAccessToken: token }), runtime()),
    'invalidParameter.userIds.overMax', [400]);
  return `code=${err.code} status=${err.statusCode}`;
});

let userToken = '';

const userTokenRequest = () => new oauth2.GetUserTokenRequest({
  clientId: app.key, clientSecret: app.secret, code: oauthCode, grantType: 'authorization_code',
});

await check('oauth2.getUserToken', async () => {
  const res = await oauth.getUserToken(userTokenRequest());
  const b = res.body;
  assert(b instanceof oauth2.GetUserTokenResponseBody, 'body not parsed into GetUserTokenResponseBody');
  assert(typeof b.accessToken === 'string' && b.accessToken.length > 0, `accessToken ${JSON.stringify(b.accessToken)}`);
  assert(typeof b.refreshToken === 'string' && b.refreshToken.length > 0, `refreshToken ${JSON.stringify(b.refreshToken)}`);
  assert(typeof b.expireIn === 'number' && b.expireIn > 0, `expireIn ${JSON.stringify(b.expireIn)}`);
  assert(b.corpId === corpId, `corpId ${JSON.stringify(b.corpId)}, want ${corpId}`);
  userToken = b.accessToken;
  // The code is single use: the same exchange again is a new-family 400.
  let again;
  try {
    again = await oauth.getUserToken(userTokenRequest());
  } catch (err) {
    assert(err.statusCode === 400 && typeof err.code === 'string' && err.code.length > 0,
      `reused code: code=${err.code} status=${err.statusCode}`);
    return `corpId=${b.corpId}; reused code → ${err.code} ${err.statusCode}`;
  }
  throw new Error(`reused code accepted: ${JSON.stringify(again.body)}`);
});

await check('contact.getUser me', async () => {
  assert(userToken, 'no user token');
  const res = await contacts.getUserWithOptions('me', new contact.GetUserHeaders({ xAcsDingtalkAccessToken: userToken }), runtime());
  const b = res.body;
  assert(b instanceof contact.GetUserResponseBody, 'body not parsed into GetUserResponseBody');
  assert(b.unionId === `union-${users[0]}`, `unionId ${JSON.stringify(b.unionId)}`);
  assert(typeof b.nick === 'string' && b.nick.length > 0, `nick ${JSON.stringify(b.nick)}`);
  assert(typeof b.openId === 'string' && b.openId.length > 0, `openId ${JSON.stringify(b.openId)}`);
  // The app token is not a user token.
  const err = await expectError(
    () => contacts.getUserWithOptions('me', new contact.GetUserHeaders({ xAcsDingtalkAccessToken: token }), runtime()),
    'InvalidAuthentication', [400, 401]);
  return `nick=${b.nick} unionId=${b.unionId}; app token → ${err.code}`;
});

await check('robot.batchSendOTO unknown user', async () => {
  const stranger = `${users[0]}-left-the-company`;
  const req = new robot.BatchSendOTORequest({
    robotCode, userIds: [users[0], stranger], msgKey: 'sampleText', msgParam: JSON.stringify({ content: `离职测试 ${Date.now()}` }),
  });
  const res = await robots.batchSendOTOWithOptions(req, new robot.BatchSendOTOHeaders({ xAcsDingtalkAccessToken: token }), runtime());
  const bad = res.body.invalidStaffIdList;
  assert(Array.isArray(bad) && bad.length === 1 && bad[0] === stranger, `invalidStaffIdList ${JSON.stringify(bad)}, want [${stranger}]`);
  return `invalidStaffIdList=${JSON.stringify(bad)}`;
});

let instanceId = '';

await check('workflow.startProcessInstance', async () => {
  const req = new workflow.StartProcessInstanceRequest({
    processCode,
    originatorUserId: originator,
    deptId: -1,
    formComponentValues: [
      new workflow.StartProcessInstanceRequestFormComponentValues({ name: '项目名称', value: '合伙一号' }),
      new workflow.StartProcessInstanceRequestFormComponentValues({ name: '跟投金额', value: '100000.00' }),
    ],
  });
  const res = await flows.startProcessInstanceWithOptions(req, new workflow.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }), runtime());
  const b = res.body;
  assert(b instanceof workflow.StartProcessInstanceResponseBody, 'body not parsed into StartProcessInstanceResponseBody');
  assert(typeof b.instanceId === 'string' && b.instanceId.length > 0, `instanceId ${JSON.stringify(b.instanceId)}`);
  instanceId = b.instanceId;
  return `instanceId=${instanceId}`;
});

await check('workflow.startProcessInstance unknown originator', async () => {
  const req = new workflow.StartProcessInstanceRequest({
    processCode, originatorUserId: 'nobody-here', deptId: -1,
    formComponentValues: [new workflow.StartProcessInstanceRequestFormComponentValues({ name: '项目名称', value: '合伙一号' })],
  });
  const err = await expectError(
    () => flows.startProcessInstanceWithOptions(req, new workflow.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }), runtime()),
    'staff.not.found', [400]);
  return `code=${err.code} status=${err.statusCode}`;
});

async function getInstance() {
  const req = new workflow.GetProcessInstanceRequest({ processInstanceId: instanceId });
  const res = await flows.getProcessInstanceWithOptions(req, new workflow.GetProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }), runtime());
  assert(res.body instanceof workflow.GetProcessInstanceResponseBody, 'body not parsed into GetProcessInstanceResponseBody');
  const r = res.body.result;
  assert(r instanceof workflow.GetProcessInstanceResponseBodyResult, 'result not parsed into GetProcessInstanceResponseBodyResult');
  assert(dtTime.test(r.createTime), `createTime ${JSON.stringify(r.createTime)}, want yyyy-MM-ddTHH:mmZ`);
  assert(Array.isArray(r.tasks) && r.tasks.length > 0, `tasks ${JSON.stringify(r.tasks)}`);
  for (const task of r.tasks) {
    assert(task instanceof workflow.GetProcessInstanceResponseBodyResultTasks, 'task not parsed');
    assert(typeof task.taskId === 'number', `taskId ${JSON.stringify(task.taskId)}, want a number`);
  }
  return r;
}

// dtTime is DingTalk's workflow time format: UTC to the minute.
const dtTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/;

await check('workflow.getProcessInstance running', async () => {
  assert(instanceId, 'no instance started');
  const r = await getInstance();
  assert(r.status === 'RUNNING', `status ${JSON.stringify(r.status)}, want RUNNING`);
  assert(!r.result, `result ${JSON.stringify(r.result)}, want empty while running`);
  assert(typeof r.title === 'string' && r.title.length > 0, `title ${JSON.stringify(r.title)}`);
  assert(r.title.includes(originatorName), `title ${JSON.stringify(r.title)}, want the originator's name in it`);
  assert(r.originatorUserId === originator, `originatorUserId ${JSON.stringify(r.originatorUserId)}`);
  const form = Object.fromEntries((r.formComponentValues || []).map((f) => [f.name, f.value]));
  assert(form['跟投金额'] === '100000.00', `form ${JSON.stringify(r.formComponentValues)}`);
  return `status=${r.status} title=${r.title}`;
});

await check('workflow.getProcessInstance agreed', async () => {
  assert(instanceId, 'no instance started');
  await sim(`/sim/approvals/${encodeURIComponent(instanceId)}/agree`, { method: 'POST' });
  const r = await getInstance();
  assert(r.status === 'COMPLETED', `status ${JSON.stringify(r.status)}, want COMPLETED`);
  assert(r.result === 'agree', `result ${JSON.stringify(r.result)}, want agree`);
  assert(dtTime.test(r.finishTime), `finishTime ${JSON.stringify(r.finishTime)}, want yyyy-MM-ddTHH:mmZ`);
  assert(r.tasks.some((task) => task.status === 'COMPLETED' && task.result === 'AGREE'), `tasks ${JSON.stringify(r.tasks)}`);
  assert(typeof r.title === 'string' && r.title.length > 0, `title ${JSON.stringify(r.title)}`);
  return `status=${r.status} result=${r.result}`;
});

await check('invalid token', async () => {
  const before = (await robotMessages()).length;
  const req = new robot.OrgGroupSendRequest({
    robotCode, openConversationId: conversation, msgKey: 'sampleText', msgParam: JSON.stringify({ content: '不应送达' }),
  });
  const err = await expectError(
    () => robots.orgGroupSendWithOptions(req, new robot.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: 'not-a-token' }), runtime()),
    'InvalidAuthentication', [400, 401]);
  const after = (await robotMessages()).length;
  assert(after === before, `a message landed despite the invalid token (${before} → ${after})`);
  return `code=${err.code} status=${err.statusCode}`;
});

await check('card.createAndDeliver', async () => {
  const user = users[0];
  const req = new card.CreateAndDeliverRequest({
    cardTemplateId: 'hehuo-approval.schema',
    outTrackId: cardTrackId,
    callbackType: 'STREAM',
    cardData: new card.CreateAndDeliverRequestCardData({ cardParamMap: { title: '跟投确认', status: 'pending' } }),
    privateData: { [user]: new card.PrivateDataValue({ cardParamMap: { canApprove: 'true' } }) },
    openSpaceId: `dtv1.card//IM_ROBOT.${user}`,
    imRobotOpenSpaceModel: new card.CreateAndDeliverRequestImRobotOpenSpaceModel({ supportForward: false }),
    imRobotOpenDeliverModel: new card.CreateAndDeliverRequestImRobotOpenDeliverModel({ spaceType: 'IM_ROBOT', robotCode }),
    userIdType: 1,
  });
  const res = await cards.createAndDeliverWithOptions(req, new card.CreateAndDeliverHeaders({ xAcsDingtalkAccessToken: token }), runtime());
  const b = res.body;
  assert(b instanceof card.CreateAndDeliverResponseBody, 'body not parsed into CreateAndDeliverResponseBody');
  assert(b.success === true, `success ${JSON.stringify(b.success)}`);
  assert(b.result?.outTrackId === cardTrackId, `outTrackId ${JSON.stringify(b.result?.outTrackId)}`);
  const d = b.result.deliverResults;
  assert(Array.isArray(d) && d.length === 1 && d[0].success === true && d[0].spaceType === 'IM_ROBOT' && d[0].spaceId === user,
    `deliverResults ${JSON.stringify(d)}`);
  return `outTrackId=${b.result.outTrackId} → ${d[0].spaceType}.${d[0].spaceId}`;
});

const webhookBase = `${base}/robot/send`;

await check('robot-sender text', async () => {
  const bot = new ChatBot({ baseUrl: webhookBase, accessToken: webhook.token, secret: webhook.secret });
  const content = `认购截止提醒 ${Date.now()}`;
  const res = await bot.text(content);
  assert(res.status === 200, `HTTP ${res.status}`);
  assert(res.data?.errcode === 0, `reply ${JSON.stringify(res.data)}`);
  const got = (await robotMessages()).filter((m) => {
    const msg = msgOf(m);
    return msg?.msgtype === 'text' && msg?.text?.content === content;
  });
  assert(got.length === 1, `${got.length} text messages in /sim/robot-messages, want 1`);
  return `errcode=0 errmsg=${res.data.errmsg}`;
});

await check('robot-sender markdown', async () => {
  const bot = new ChatBot({ baseUrl: webhookBase, accessToken: webhook.token, secret: webhook.secret });
  const text = `#### 打款确认\n- 项目：合伙一号 ${Date.now()}`;
  const res = await bot.markdown('打款确认', text);
  assert(res.status === 200, `HTTP ${res.status}`);
  assert(res.data?.errcode === 0, `reply ${JSON.stringify(res.data)}`);
  const got = (await robotMessages()).filter((m) => {
    const msg = msgOf(m);
    return msg?.msgtype === 'markdown' && msg?.markdown?.title === '打款确认' && msg?.markdown?.text === text;
  });
  assert(got.length === 1, `${got.length} markdown messages in /sim/robot-messages, want 1`);
  return `errcode=0 errmsg=${res.data.errmsg}`;
});

await check('robot-sender wrong secret', async () => {
  const before = (await robotMessages()).length;
  const bot = new ChatBot({ baseUrl: webhookBase, accessToken: webhook.token, secret: webhook.secret + 'x' });
  const res = await bot.text('不应送达');
  // Custom robots answer HTTP 200 with an errcode, so the sender resolves.
  assert(res.status === 200, `HTTP ${res.status}`);
  assert(res.data?.errcode === 310000, `reply ${JSON.stringify(res.data)}, want errcode 310000`);
  const after = (await robotMessages()).length;
  assert(after === before, `a message landed despite the wrong secret (${before} → ${after})`);
  return `errcode=${res.data.errcode} errmsg=${res.data.errmsg}`;
});

// faults sets the simulator's fault injection through its control API.
const faults = (f) => sim('/sim/faults', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f),
});

// The stream SDK (dingtalk-stream) registers at connections/open, opens the
// websocket, acks EVENT frames and answers bot CALLBACKs by the sessionWebhook.
streamAxios.interceptors.request.use((cfg) => {
  cfg.url = cfg.url.replace(/^https:\/\/(api|oapi)\.dingtalk\.com/, base);
  return cfg;
});

const received = []; // EVENT frames the stream client got
const stream = new DWClient({ clientId: app.key, clientSecret: app.secret, ua: 'hehuo-conformance', keepAlive: false });
stream.registerAllEventListener((msg) => {
  received.push(msg);
  return { status: EventAck.SUCCESS, message: 'OK' };
});
stream.registerCallbackListener(TOPIC_ROBOT, async (res) => {
  const msg = JSON.parse(res.data);
  const text = msg.text.content.trim();
  // As DingTalk's own example does: reply through the sessionWebhook, then ack.
  await streamAxios({
    url: msg.sessionWebhook,
    method: 'POST',
    responseType: 'json',
    data: { msgtype: 'text', text: { content: `收到：${text}` }, at: { atUserIds: [msg.senderStaffId] } },
    headers: { 'x-acs-dingtalk-access-token': token },
  });
  stream.socketCallBackResponse(res.headers.messageId, { ok: true });
});

const cardClicks = []; // card CALLBACKs the stream client answered
stream.registerCallbackListener(TOPIC_CARD, (res) => {
  const d = JSON.parse(res.data);
  const { params } = JSON.parse(d.content).cardPrivateData;
  cardClicks.push({ outTrackId: d.outTrackId, userId: d.userId, action: params.action });
  // The ack's response updates the card (§7): shared data and the clicker's private data.
  stream.socketCallBackResponse(res.headers.messageId, {
    cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
    cardData: { cardParamMap: { status: params.action === 'agree' ? 'agreed' : 'refused' } },
    userPrivateData: { cardParamMap: { canApprove: 'false' } },
  });
});

async function waitFor(what, cond, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const simEvents = () => sim('/sim/events');

await check('stream.getAccessToken', async () => {
  // The stream SDK's token helper uses the old family: GET oapi /gettoken.
  const t = await stream.getAccessToken();
  assert(typeof t === 'string' && t.length > 0, `access_token ${JSON.stringify(t)}`);
  return 'old-family /gettoken answered with an access_token';
});

await check('stream.connect', async () => {
  await stream.connect();
  await waitFor('the stream connection', () => stream.connected);
  const ev = await waitFor('the simulator to count the connection', async () => {
    const e = await simEvents();
    return e.connections >= 1 && e;
  });
  return `connected; simulator sees ${ev.connections} connection(s)`;
});

await check('stream.events', async () => {
  assert(stream.connected, 'not connected');
  // A fresh approval, decided at once: its start and finish events arrive
  // along with any pushed before the client connected.
  const req = new workflow.StartProcessInstanceRequest({
    processCode, originatorUserId: originator, deptId: -1,
    formComponentValues: [new workflow.StartProcessInstanceRequestFormComponentValues({ name: '项目名称', value: '合伙二号' })],
  });
  const started = await flows.startProcessInstanceWithOptions(req, new workflow.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }), runtime());
  const id = started.body.instanceId;
  await sim(`/sim/approvals/${encodeURIComponent(id)}/refuse`, { method: 'POST' });
  const items = await waitFor('every event acked', async () => {
    const e = await simEvents();
    return e.items.length > 0 && e.items.every((x) => x.acked) && e.items;
  });
  for (const it of items) {
    assert(it.deliveries === 1, `event ${it.event_id} delivered ${it.deliveries} times, want once`);
    const got = received.filter((m) => m.headers.eventId === it.event_id);
    assert(got.length === 1, `the client got event ${it.event_id} ${got.length} times`);
    const m = got[0];
    for (const [k, v] of Object.entries(m.headers)) assert(typeof v === 'string', `header ${k} is ${typeof v}`);
    assert(m.type === 'EVENT' && m.headers.topic === '*' && m.headers.eventType === it.event_type, `frame ${JSON.stringify(m.headers)}`);
    assert(typeof m.data === 'string', `data is ${typeof m.data}, want a string of JSON`);
  }
  const finish = received.map((m) => ({ h: m.headers, d: JSON.parse(m.data) }))
    .find((x) => x.h.eventType === 'bpms_instance_change' && x.d.processInstanceId === id && x.d.type === 'finish');
  assert(finish, `no bpms_instance_change finish for ${id}`);
  assert(finish.d.result === 'refuse', `finish result ${JSON.stringify(finish.d.result)}, want refuse`);
  return `${items.length} events acked once each; finish of ${id} result=${finish.d.result}`;
});

await check('stream.bot message', async () => {
  assert(stream.connected, 'not connected');
  const one = await sim('/sim/bot/messages', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userid: users[0], conversation_type: '1', text: '帮助' }),
  });
  assert(one.reply === '收到：帮助', `1:1 reply ${JSON.stringify(one)}`);
  const group = await sim('/sim/bot/messages', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userid: users[0], conversation_type: '2', text: '我的跟投' }),
  });
  assert(group.reply === '收到：我的跟投', `group reply ${JSON.stringify(group)}`);
  return `1:1 and group replies through the sessionWebhook`;
});

await check('stream.card callback', async () => {
  assert(stream.connected, 'not connected');
  const user = users[0];
  const r = await sim(`/sim/cards/${encodeURIComponent(cardTrackId)}/callback`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userid: user, params: { action: 'agree' } }),
  });
  assert(r.response?.cardData?.cardParamMap?.status === 'agreed', `callback response ${JSON.stringify(r)}`);
  assert(cardClicks.length === 1 && cardClicks[0].outTrackId === cardTrackId && cardClicks[0].userId === user &&
    cardClicks[0].action === 'agree', `clicks seen by the SDK ${JSON.stringify(cardClicks)}`);
  const { items } = await sim('/sim/cards');
  const c = items.find((x) => x.out_track_id === cardTrackId);
  assert(c, `card ${cardTrackId} not in /sim/cards`);
  assert(c.card_param_map.status === 'agreed' && c.card_param_map.title === '跟投确认', `card data ${JSON.stringify(c.card_param_map)}`);
  assert(c.private_data[user]?.canApprove === 'false', `private data ${JSON.stringify(c.private_data)}`);
  return 'the ack\'s response updated the card by key';
});

await check('stream.reconnect', async () => {
  assert(stream.connected, 'not connected');
  const socket = stream.socket;
  // drop_stream closes every connection abruptly, as a network failure would.
  await faults({ drop_stream: true });
  await faults({});
  await waitFor('the SDK to reconnect on a new socket', () => stream.connected && stream.socket !== socket);
  await waitFor('the simulator to count the new connection', async () => (await simEvents()).connections === 1);
  const r = await sim('/sim/bot/messages', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userid: users[1], conversation_type: '1', text: '进度 合伙一号' }),
  });
  assert(r.reply === '收到：进度 合伙一号', `reply after reconnect ${JSON.stringify(r)}`);
  return 'reconnected with a fresh ticket; bot message answered';
});

stream.disconnect();

const ticket = () => oauth.createJsapiTicketWithOptions(new oauth2.CreateJsapiTicketHeaders({ xAcsDingtalkAccessToken: token }), runtime());

await check('throttled', async () => {
  await faults({ throttle_rate: 1 });
  try {
    const err = await expectError(ticket, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', [403]);
    return `code=${err.code} status=${err.statusCode}`;
  } finally {
    await faults({});
  }
});

await check('system busy', async () => {
  await faults({ error_rate: 1 });
  try {
    const err = await expectError(ticket, 'ServiceUnavailable', [500, 503]);
    return `code=${err.code} status=${err.statusCode}`;
  } finally {
    await faults({});
  }
});

await check('token expiry', async () => {
  await sim('/sim/tokens/expire', { method: 'POST' });
  const err = await expectError(ticket, 'InvalidAuthentication', [400, 401]);
  const res = await oauth.getAccessToken(new oauth2.GetAccessTokenRequest({ appKey: app.key, appSecret: app.secret }));
  assert(res.body.accessToken && res.body.accessToken !== token, 'an expired token was handed out again');
  token = res.body.accessToken;
  const t = await ticket();
  assert(t.body.jsapiTicket, `jsapiTicket with the new token ${JSON.stringify(t.body)}`);
  return `expired token → ${err.code} ${err.statusCode}; a new token works`;
});

const ok = checks.every((c) => c.ok);
process.stdout.write(JSON.stringify({ ok, checks }) + '\n');
process.exitCode = ok ? 0 : 1;
// Should a socket or a reconnect timer of an SDK outlive the run, do not hang.
setTimeout(() => process.exit(), 3000).unref();
