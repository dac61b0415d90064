// The API of 股东分配 (issue 13): batches of a project company's
// distributions to its approved minority shareholders, their review and
// payouts (登记打款 under an Idempotency-Key), the export and the bank file.
// Amounts are decimal strings, stakes fraction strings (0.15 = 15%); every
// state comes with its Chinese status_label from the server.
import { request } from '@/shared/api.js'

export const shareholderDists = {
  list: (projectId) => request('GET', `/projects/${projectId}/shareholder-distributions`),
  create: (projectId, body) => request('POST', `/projects/${projectId}/shareholder-distributions`, { body }),
  get: (id) => request('GET', `/shareholder-distributions/${id}`),
  updateLine: (id, shareholderId, body) => request('PATCH', `/shareholder-distributions/${id}/lines/${shareholderId}`, { body }),
  submit: (id, version) => request('POST', `/shareholder-distributions/${id}/submit`, { body: { version } }),
  review: (id, approve, reason, version) =>
    request('POST', `/shareholder-distributions/${id}/review`, { body: { approve, reason, version } }),
  /** payout registers 登记打款; key is the dialog's Idempotency-Key (a retry reuses it). */
  payout: (id, key, body) =>
    request('POST', `/shareholder-distributions/${id}/payouts`, { body, headers: { 'Idempotency-Key': key } }),
  exportPath: (id) => `/shareholder-distributions/${id}/export.xlsx`,
  bankFilePath: (id) => `/shareholder-distributions/${id}/bank-file.xlsx`,
}

/** newKey is a fresh Idempotency-Key for one payout dialog. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID()
  return `${Date.now()}-${Math.random().toString(16).slice(2)}`
}
