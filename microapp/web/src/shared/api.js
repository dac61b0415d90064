// The one client of the Hehuo JSON API (/api/v1), shared by the PC console
// and the H5 micro-app. Every call returns the decoded JSON body or throws an
// ApiError carrying the server's error shape:
//   {"error": {"code", "message", "field", "details"?}}
// where message is Chinese and meant for the user.

const BASE = '/api/v1'

/** ApiError is what every failed call throws. */
export class ApiError extends Error {
  constructor(status, error = {}) {
    super(error.message || defaultMessage(status))
    this.name = 'ApiError'
    this.status = status
    this.code = error.code || `http_${status}`
    this.field = error.field || ''
    this.details = error.details || null
  }

  /** True when the record changed since it was read (409 stale_version). */
  get isStale() {
    return this.code === 'stale_version'
  }
}

function defaultMessage(status) {
  switch (status) {
    case 0: return '网络异常，请检查网络后重试'
    case 401: return '登录已过期，请重新登录'
    case 403: return '没有权限执行此操作'
    case 404: return '数据不存在或无权查看'
    case 409: return '数据已被修改，请刷新后重试'
    case 413: return '文件过大'
    default: return status >= 500 ? '服务器繁忙，请稍后重试' : '请求失败'
  }
}

const config = {
  // getToken returns a bearer token (the H5 app keeps one); the console relies
  // on the HttpOnly session cookie instead.
  getToken: () => null,
  // onUnauthorized is called on any 401 unless the call passed silent401.
  onUnauthorized: null,
}

/** configureApi sets the token source and the 401 handler of this app. */
export function configureApi(opts) {
  Object.assign(config, opts)
}

function queryString(query) {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.append(k, String(v))
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

/**
 * request sends one API call.
 * opts: query (object), body (JSON), form (FormData), headers, silent401.
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) }
  const token = config.getToken()
  if (token) headers.Authorization = `Bearer ${token}`
  let body
  if (opts.form) {
    body = opts.form
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }

  let res
  try {
    res = await fetch(BASE + path + queryString(opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
    })
  } catch {
    throw new ApiError(0, { code: 'network' })
  }

  const text = res.status === 204 ? '' : await res.text()
  let data = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && data.error)
    if (res.status === 401 && !opts.silent401 && config.onUnauthorized) {
      config.onUnauthorized(err)
    }
    throw err
  }
  return data
}

const get = (path, query, opts) => request('GET', path, { ...opts, query })
const post = (path, body, opts) => request('POST', path, { ...opts, body })
const patch = (path, body, opts) => request('PATCH', path, { ...opts, body })
const put = (path, body, opts) => request('PUT', path, { ...opts, body })

export const auth = {
  /** password signs in with a bootstrap account; → {token, user}. */
  password: (username, password) =>
    post('/auth/password', { username, password }, { silent401: true }),
  logout: () => post('/auth/logout'),
  /** me returns the signed-in user; 401 when nobody is signed in. */
  me: (opts = { silent401: true }) => get('/me', undefined, opts),
  /** dingtalk signs in with a DingTalk 免登 auth code; → {token, user}. */
  dingtalk: (authCode) => post('/auth/dingtalk', { auth_code: authCode }, { silent401: true }),
  /** dingtalkQRURL starts the PC sign-in by DingTalk QR code (a page, not an XHR). */
  dingtalkQRURL: (next) => `${BASE}/auth/dingtalk/qr?next=${encodeURIComponent(next || '/')}`,
}

export const dingtalk = {
  /** app is the DingTalk app's public ids, for dd.requestAuthCode; → {corpId, clientId, agentId}. */
  app: () => get('/dingtalk/app'),
  /** jsapiConfig signs a page URL for dd.config. */
  jsapiConfig: (url) => get('/dingtalk/jsapi-config', { url }),
}

/** projectTree is the caller's scope: org units with their projects. */
export const projectTree = () => get('/project-tree')

export const orgUnits = {
  list: () => get('/org-units'),
  create: (unit) => post('/org-units', unit),
  update: (id, patchBody) => patch(`/org-units/${id}`, patchBody),
  grants: (id) => get(`/org-units/${id}/grants`),
  putGrants: (id, grants) => put(`/org-units/${id}/grants`, { grants }),
}

export const projects = {
  list: (q) => get('/projects', { q }),
  create: (project) => post('/projects', project),
  update: (id, patchBody) => patch(`/projects/${id}`, patchBody),
  grants: (id) => get(`/projects/${id}/grants`),
  putGrants: (id, grants) => put(`/projects/${id}/grants`, { grants }),
  /** importFile uploads an .xlsx of projects; → {imported}. */
  importFile: (file) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', '/projects/import', { form })
  },
  importTemplateURL: `${BASE}/projects/import/template`,
}

export const batches = {
  list: () => get('/batches'),
  create: (name) => post('/batches', { name }),
}

export const users = {
  list: (q) => get('/users', { q }),
  create: (user) => post('/users', user),
  update: (id, patchBody) => patch(`/users/${id}`, patchBody),
  /** sync pulls users from the DingTalk address book; → {created, updated, disabled, unchanged, departments}. */
  sync: () => post('/users/sync'),
  /** locks lists the password accounts locked out now; → {items: [{user_id, username, addresses, backoff_seconds}]} (sysadmin). */
  locks: () => get('/auth/locks'),
  /** unlock lifts every lock-out of a user's password sign-in (sysadmin, audited). */
  unlock: (id) => post(`/users/${id}/unlock`),
}

export const auditLog = {
  /** list takes the filters action, entity, entity_id, actor_id, project_id, from, to, page, page_size. */
  list: (filters) => get('/audit-log', filters),
  /** labels: the Chinese names of actions, entities, fields and states (one table, in Go). */
  labels: () => get('/audit-log/labels'),
  /** verify recomputes the hash chain; → {ok, sealed, unsealed, breaks: [{seq, id, code, reason}]}. */
  verify: () => get('/audit-log/verify'),
}

export const ledger = {
  /** reconcile checks the whole ledger; → {ok, transactions, imbalance, failures: [{kind, kind_label, account, transaction_id, want, got}]}. */
  reconcile: () => get('/ledger/reconcile'),
}

export const workCalendar = {
  /** year → {year, items (the exceptions), days: [{day, working, label, kind, kind_label, name}], kinds: [{value, label}]}. */
  year: (year) => get('/work-calendar', { year }),
  /** set puts one day: kind holiday, workday or normal, with a name (sysadmin). */
  set: (day, kind, name) => put(`/work-calendar/${day}`, { kind, name }),
}
