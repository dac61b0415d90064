// Small display helpers shared by both apps.

const pad = (n) => String(n).padStart(2, '0')

/** formatDateTime shows an RFC 3339 time as local "YYYY-MM-DD HH:mm:ss". */
export function formatDateTime(value) {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  )
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
