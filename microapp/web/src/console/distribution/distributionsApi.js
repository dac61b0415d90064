// The API of 分配 → 事业合伙分配 (issue 11): a project's distribution batches
// (本金分配, 第n次利润分配, 清算分配) with their lines, the actual peak
// confirmations (实际资金峰值确认), manual entry (解锁编辑, 导出模板, 导入) and
// payouts (登记打款, 银行付款文件). Shapes: internal/distribution/types.go.
import { ApiError, request } from '@/shared/api.js'

const BASE = '/api/v1'

export const distributions = {
  list: (projectID) => request('GET', `/projects/${projectID}/distributions`),
  create: (projectID, body) => request('POST', `/projects/${projectID}/distributions`, { body }),
  get: (id) => request('GET', `/distributions/${id}`),
  update: (id, body) => request('PATCH', `/distributions/${id}`, { body }),
  remove: (id, version) => request('DELETE', `/distributions/${id}`, { query: { version } }),
  /** patchLine sets C with its reason, or (unlocked) a manual D/E/F. */
  patchLine: (id, partnerID, body) => request('PATCH', `/distributions/${id}/lines/${partnerID}`, { body }),
  /** act runs calculate, save, submit, unlock or lock with the batch's version. */
  act: (id, action, version) => request('POST', `/distributions/${id}/${action}`, { body: { version } }),
  review: (id, approve, reason, version) => request('POST', `/distributions/${id}/review`, { body: { approve, reason, version } }),
  /** importFile uploads the filled template; version is the batch's the template came from. */
  importFile: (id, file, version) => {
    const form = new FormData()
    form.append('file', file)
    if (version) form.append('version', String(version))
    return request('POST', `/distributions/${id}/import`, { form })
  },
  /** payout registers one line as paid; key is the dialog's Idempotency-Key. */
  payout: (id, key, body) => request('POST', `/distributions/${id}/payouts`, { body, headers: { 'Idempotency-Key': key } }),
  /** importPayouts registers the payouts of the bank's file (all rows or none; a file imported again is skipped). */
  importPayouts: (id, file) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', `/distributions/${id}/payouts/import`, { form })
  },
  templatePath: (id) => `/distributions/${id}/template.xlsx`,
  exportPath: (id) => `/distributions/${id}/export.xlsx`,
  bankFilePath: (id) => `/distributions/${id}/bank-file.xlsx`,
}

export const actualPeaks = {
  list: (projectID) => request('GET', `/projects/${projectID}/actual-peaks`),
  create: (projectID, body) => request('POST', `/projects/${projectID}/actual-peaks`, { body }),
}

/** The process kind that approves a batch of each kind. */
export const PROCESS_KIND = { principal: 'principal_distribution', profit: 'profit_distribution', liquidation: 'liquidation' }

/**
 * download fetches a file of the API (an .xlsx export) and saves it under
 * the server's file name; a refusal throws the server's ApiError, so the
 * page shows its Chinese message rather than saving an error as a file.
 */
export async function download(path, fallbackName) {
  let res
  try {
    res = await fetch(BASE + path, { credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, { code: 'network' })
  }
  if (!res.ok) {
    let error = {}
    try {
      error = (await res.json())?.error || {}
    } catch {
      error = {}
    }
    throw new ApiError(res.status, error)
  }
  const blob = await res.blob()
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = fileName(res.headers.get('Content-Disposition')) || fallbackName
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10000)
}

// fileName reads filename*=UTF-8''… (the Chinese name) or filename="…".
function fileName(disposition) {
  if (!disposition) return ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  if (star) {
    try {
      return decodeURIComponent(star[1])
    } catch {
      return ''
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  return plain ? plain[1] : ''
}

/** newIdempotencyKey names one payout attempt: a retry of the same dialog reuses it. */
export { newIdempotencyKey } from '../payment/paymentsApi.js'
