// 披露 as the API serves it: for staff the P&L updates (盈亏动态) of a
// project and 披露审核 with the merged notices; for the partner (H5) the
// projects they hold with disclosures sent, each with its P&L history and
// documents. Money is a decimal string, ratios are fractions; every state
// comes with its Chinese status_label from the server.
import { request } from './api.js'

export const profitUpdates = {
  /** list: {indicators, baseline (立项), items: periods oldest first with comparison and history}. */
  list: (projectId) => request('GET', `/projects/${projectId}/profit-updates`),
  create: (projectId, body) => request('POST', `/projects/${projectId}/profit-updates`, { body }),
  get: (id) => request('GET', `/profit-updates/${id}`),
  /** update replaces every field; body carries the version read (stale → 409). */
  update: (id, body) => request('PATCH', `/profit-updates/${id}`, { body }),
}

export const disclosures = {
  /** list: 披露审核, waiting (待发送) first, then sent (已发送). */
  list: () => request('GET', '/disclosures'),
  /** send merges every waiting disclosure into one notice per partner; test sends it to the caller only. */
  send: (test) => request('POST', '/disclosures/notices', { body: { test } }),
}

export const myDisclosures = {
  list: () => request('GET', '/me/disclosures'),
  get: (projectId) => request('GET', `/me/disclosures/${projectId}`),
  documentURL: (projectId, id) => `/api/v1/me/disclosures/${projectId}/documents/${id}`,
}

/** formatIndicator writes an indicator's value: amounts with separators, ratios as %, months with 个月. */
export function formatIndicator(kind, value) {
  if (value === null || value === undefined || value === '') return '—'
  const n = Number(value)
  if (!Number.isFinite(n)) return String(value)
  if (kind === 'ratio') return `${(n * 100).toFixed(2).replace(/\.?0+$/, '')}%`
  if (kind === 'months') return `${n}个月`
  return n.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}
