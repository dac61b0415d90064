// The API of subscription rounds (合伙方案): rounds, partner lists (合伙名单),
// subscriptions (认购), allocation (认购明细测算), review (方案审核) and the
// partner's own invitations (H5). Shapes follow issue 4's contract; money is
// always a decimal string.
import { request } from './api.js'
import { formatAmount } from './format.js'

const BASE = '/api/v1'
const get = (path, query) => request('GET', path, { query })
const post = (path, body) => request('POST', path, { body })
const put = (path, body) => request('PUT', path, { body })
const patch = (path, body) => request('PATCH', path, { body })
const del = (path) => request('DELETE', path)

/** items unwraps a list answer, whether {items:[…]} or a bare array. */
export function items(res, key = 'items') {
  if (Array.isArray(res)) return res
  return (res && (res[key] || res.items)) || []
}

export const rounds = {
  list: (projectID) => get(`/projects/${projectID}/rounds`),
  create: (projectID, kind) => post(`/projects/${projectID}/rounds`, { kind }),
  get: (id) => get(`/rounds/${id}`),
  close: (id) => post(`/rounds/${id}/close`),
  /** notify sends the subscription notices; test → only to the caller. */
  notify: (id, test) => post(`/rounds/${id}/notices/subscription`, { test }),
  review: (id, decision, reason) => post(`/rounds/${id}/review`, { decision, reason }),
  submit: (id) => post(`/rounds/${id}/submit`),
}

export const invitations = {
  list: (roundID) => get(`/rounds/${roundID}/invitations`),
  create: (roundID, inv) => post(`/rounds/${roundID}/invitations`, inv),
  update: (roundID, id, inv) => put(`/rounds/${roundID}/invitations/${id}`, inv),
  remove: (roundID, id) => del(`/rounds/${roundID}/invitations/${id}`),
  /** importFile uploads an .xlsx partner list (all or nothing). */
  importFile: (roundID, file) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', `/rounds/${roundID}/invitations/import`, { form })
  },
  /** importTemplateURL is the .xlsx template (the same for every round). */
  importTemplateURL: () => `${BASE}/invitations/import/template`,
  /** history is the subscription changes of one invitation (accountant's view). */
  history: (roundID, id) => get(`/rounds/${roundID}/invitations/${id}/history`),
  /** subscribeFor records a subscription on the partner's behalf (with a reason). */
  subscribeFor: (roundID, id, amount, reason) =>
    put(`/rounds/${roundID}/invitations/${id}/subscription`, { amount, reason }),
}

export const allocation = {
  get: (roundID) => get(`/rounds/${roundID}/allocation`),
  /** calculate runs 测算 (a preview while the round is open). */
  calculate: (roundID) => post(`/rounds/${roundID}/allocation`),
  editLine: (roundID, partnerID, allocated, reason) =>
    patch(`/rounds/${roundID}/allocation/lines/${partnerID}`, { allocated, reason }),
  exportURL: (roundID) => `${BASE}/rounds/${roundID}/allocation.xlsx`,
}

export const mine = {
  invitations: () => get('/me/invitations'),
  /** subscribe sets the partner's amount (whole yuan) with the risk acknowledgement. */
  subscribe: (id, amount, riskAcknowledged) =>
    put(`/me/invitations/${id}/subscription`, { amount, risk_acknowledged: riskAcknowledged }),
  history: (id) => get(`/me/invitations/${id}/history`),
  invitation: (id) => get(`/me/invitations/${id}`),
  holdings: () => get('/me/holdings'),
}

export const TIERS = [
  { value: 'holding', label: '控股集团' },
  { value: 'property', label: '置业集团' },
  { value: 'city', label: '城市公司' },
  { value: 'other', label: '其它' },
]

export const ROUND_KINDS = [
  { value: 'initial', label: '立项' },
  { value: 'supplementary', label: '补充立项' },
]

// The tag colour of each round state (DESIGN §2); the state's name comes
// from the API (status_label), never from here.
const ROUND_STATUS_TYPES = {
  draft: 'info',
  open: 'primary',
  closed: 'warning',
  calculated: 'warning',
  submitted: 'warning',
  reviewed: 'success',
  in_approval: 'warning',
  approved: 'success',
}

function lookup(list) {
  const m = Object.fromEntries(list.map((x) => [x.value, x]))
  return (value) => m[value]?.label || value || ''
}

export const tierLabel = lookup(TIERS)
export const roundKindLabel = lookup(ROUND_KINDS)
export const roundStatusType = (value) => ROUND_STATUS_TYPES[value] || 'info'

/**
 * checkAmount validates an amount typed by a user against [min, max]
 * without floats: whole yuan only (no 角/分), compared as big integers.
 * Returns '' when valid, else a Chinese message.
 */
export function checkAmount(text, min, max) {
  const s = String(text ?? '').trim().replace(/,/g, '')
  if (!s) return '请输入认购金额'
  if (!/^\d+(\.0+)?$/.test(s)) {
    return /^\d+\.\d+$/.test(s) ? '认购金额须为整数元' : '请输入有效金额'
  }
  const v = BigInt(s.split('.')[0])
  const yuan = (x) => (x === null || x === undefined || x === '' ? null : BigInt(String(x).split('.')[0]))
  const lo = yuan(min)
  const hi = yuan(max)
  if (lo !== null && v < lo) return `认购金额不能低于下限 ${formatAmount(min)} 元`
  if (hi !== null && v > hi) return `认购金额不能高于上限 ${formatAmount(max)} 元`
  return ''
}

/** wholeYuan returns the typed amount as a plain decimal string ("300000"). */
export function wholeYuan(text) {
  return String(text ?? '').trim().replace(/,/g, '').replace(/\.0+$/, '')
}
