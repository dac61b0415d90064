// The API of 缴款确认 (issue 5): a round's payments derived from the ledger,
// confirming a receipt under an Idempotency-Key, and reversing one.
import { request } from '@/shared/api.js'

/** newIdempotencyKey names one confirmation attempt: a retry of the same dialog reuses it. */
export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID()
  return `pay-${Date.now()}-${Math.random().toString(36).slice(2)}`
}

export const payments = {
  list: (roundID) => request('GET', `/rounds/${roundID}/payments`),
  /** confirm posts one receipt; key is the dialog's Idempotency-Key. */
  confirm: (roundID, key, body) => request('POST', `/rounds/${roundID}/payments`, { body, headers: { 'Idempotency-Key': key } }),
  reverse: (id, reason, version) => request('POST', `/payments/${id}/reversal`, { body: { reason, version } }),
  /** recipients lists who a notice would reach: notice is 'payment' or 'dunning'. */
  recipients: (roundID, notice) => request('GET', `/rounds/${roundID}/notices/recipients`, { query: { notice } }),
  sendNotice: (roundID, test) => request('POST', `/rounds/${roundID}/notices/payment`, { body: { test } }),
  dun: (roundID) => request('POST', `/rounds/${roundID}/notices/dunning`, { body: {} }),
  importStatement: (roundID, file) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', `/rounds/${roundID}/payments/import`, { form })
  },
}

export const STATEMENT_TEMPLATE_URL = '/api/v1/payments/import/template'

export const REPORT_PAYMENTS_XLSX = '/api/v1/reports/establishment-payments.xlsx'
export const PAYMENTS_EXPORT_URL = '/api/v1/tools/payments-export.xlsx'

// 变更缴款确认: top-ups received and refunds paid of an agreed adjustment (立项调整).
export const adjustments = {
  list: (projectID) => request('GET', `/projects/${projectID}/adjustments`),
  get: (id) => request('GET', `/adjustments/${id}`),
  settlements: (id) => request('GET', `/adjustments/${id}/settlements`),
  /** settle posts one top-up or refund; key is the dialog's Idempotency-Key. */
  settle: (id, key, body) => request('POST', `/adjustments/${id}/settlements`, { body, headers: { 'Idempotency-Key': key } }),
  reverse: (id, settlementID, reason) => request('POST', `/adjustments/${id}/settlements/${settlementID}/reversal`, { body: { reason } }),
  noticeRecipients: (id) => request('GET', `/adjustments/${id}/notices/recipients`),
  sendNotice: (id, test) => request('POST', `/adjustments/${id}/notices`, { body: { test } }),
}

// 分配账户 of a project's partners, as staff see them.
export const payoutAccounts = {
  list: (projectID) => request('GET', `/projects/${projectID}/payout-accounts`),
  sendNotice: (projectID, test) => request('POST', `/projects/${projectID}/payout-accounts/notices`, { body: { test } }),
  enterOnBehalf: (projectID, userID, body) => request('PUT', `/projects/${projectID}/payout-accounts/${userID}`, { body }),
}
