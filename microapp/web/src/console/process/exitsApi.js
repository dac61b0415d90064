// The API of 流程 → 退出流程 (issue 12, RULES R9): exit types and policies,
// 离职退休测算 (quotes), the exits with their payout, and the partners' exit
// requests. Shapes: internal/exit/types.go.
import { request } from '@/shared/api.js'

export const exits = {
  /** types → {items: [{value, label, holding_return}], statuses: [{value, label}]}. */
  types: () => request('GET', '/exit-types'),
  quote: (body) => request('POST', '/exit-quotes', { body }),
  list: () => request('GET', '/exits'),
  get: (id) => request('GET', `/exits/${id}`),
  /** payout registers 退出打款; key is the dialog's Idempotency-Key. */
  payout: (id, key, body) => request('POST', `/exits/${id}/payout`, { body, headers: { 'Idempotency-Key': key } }),
  requests: () => request('GET', '/exit-requests'),
  rejectRequest: (id) => request('POST', `/exit-requests/${id}/reject`),
  policies: () => request('GET', '/exit-policies'),
  savePolicy: (type, body) => request('PUT', `/exit-policies/${type}`, { body }),
}

// The Chinese names of a quote's trace figures and inputs.
const FIGURES = { p: '在投本金P', i: '资金利息I', h: '持有收益H', payout: '退出价款' }
const INPUTS = {
  amount: '缴款金额', rate: '利率', days: '天数', paid_on: '缴款日', exit_date: '退出日', sum: '合计',
  P: 'P', I: 'I', H: 'H',
}

/** traceSteps turns a line's trace into rows {figure, formula, inputs, rounding, note, value} in Chinese. */
export function traceSteps(trace) {
  return (trace || []).map((s) => {
    const m = /^h\.payment\[(\d+)\]$/.exec(s.figure || '')
    const figure = m ? `缴款${Number(m[1]) + 1} 持有收益` : FIGURES[s.figure] || s.figure
    const inputs = Object.entries(s.inputs || {})
      .filter(([k]) => INPUTS[k])
      .map(([k, v]) => `${INPUTS[k]}：${v}`)
      .join('，')
    return { figure, formula: s.formula, inputs, rounding: s.rounding || '', note: s.note || '', value: s.value }
  })
}

/** newKey is a fresh Idempotency-Key for one payout dialog. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID()
  return `${Date.now()}-${Math.random().toString(16).slice(2)}`
}
