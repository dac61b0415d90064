// Small display helpers shared by both apps.

// Every time on every screen is Beijing time (Asia/Shanghai), like DingTalk's
// messages and the server's calendar dates, whatever zone the browser is in.
// China has no daylight saving, so a fixed +08:00 offset is exact.
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000

/** shanghaiParts returns the Beijing-time ISO string "YYYY-MM-DDTHH:mm:ss" of d. */
function shanghaiISO(d) {
  return new Date(d.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19)
}

/** formatDateTime shows an RFC 3339 time as Beijing time "YYYY-MM-DD HH:mm:ss". */
export function formatDateTime(value) {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  return shanghaiISO(d).replace('T', ' ')
}

/** shanghaiToday is today's date in Beijing time as YYYY-MM-DD. */
export function shanghaiToday(now = Date.now()) {
  return shanghaiISO(new Date(now)).slice(0, 10)
}

/**
 * formatAmount groups a decimal string ("28894.00") by thousands without
 * going through a float, so no fen is ever lost.
 */
export function formatAmount(value) {
  if (value === null || value === undefined || value === '') return ''
  const s = String(value)
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s)
  if (!m) return s
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] || '')
}

/** amountColumn is an el-table-column formatter for amounts: "—" when there is none. */
export const amountColumn = (_row, _col, v) => (v === null || v === undefined ? '—' : formatAmount(v))
