// API calls and labels of 模板管理, 通知队列 and 钉钉设置.
import { request } from '@/shared/api.js'
import { formatDateTime } from '@/shared/format.js'

export const templates = {
  list: () => request('GET', '/notify/templates'),
  get: (code) => request('GET', `/notify/templates/${code}`),
  save: (code, body) => request('PUT', `/notify/templates/${code}`, { body }),
  /** preview renders the stored template, or a draft {title, body}, with sample data. */
  preview: (code, draft) => request('POST', `/notify/templates/${code}/preview`, { body: draft || {} }),
  /** test sends the sample to the signed-in user's DingTalk only. */
  test: (code) => request('POST', `/notify/templates/${code}/test`),
}

export const outbox = {
  list: (query) => request('GET', '/notify/outbox', { query }),
  get: (id) => request('GET', `/notify/outbox/${id}`),
  retry: (id) => request('POST', `/notify/outbox/${id}/retry`),
  stats: () => request('GET', '/notify/stats'),
}

export const dingtalkSettings = {
  get: () => request('GET', '/dingtalk/settings'),
  save: (body) => request('PUT', '/dingtalk/settings', { body }),
}

export const robots = {
  list: () => request('GET', '/dingtalk/robots'),
  create: (body) => request('POST', '/dingtalk/robots', { body }),
  update: (id, body) => request('PUT', `/dingtalk/robots/${id}`, { body }),
  remove: (id) => request('DELETE', `/dingtalk/robots/${id}`),
  test: (id) => request('POST', `/dingtalk/robots/${id}/test`),
}

export const KIND_LABELS = { work_notice: '工作通知', robot: '群机器人' }
export const MSG_TYPE_LABELS = { markdown: 'Markdown', action_card: '卡片（带按钮）', text: '文本' }

export const STATUS_TAGS = {
  pending: 'info',
  sending: 'primary',
  retry: 'warning',
  sent: 'success',
  failed: 'danger',
  dead: 'danger',
}

/** formatTime shows an ISO time as Beijing time "2026-11-26 10:30:05", or "—". */
export function formatTime(iso) {
  return formatDateTime(iso) || '—'
}
