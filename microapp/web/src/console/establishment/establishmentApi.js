// The 立项 API (terms, shareholding, milestones, indicators, basic info) and
// the financing rate table, with exact decimal helpers: ratios travel as
// fraction strings ("0.0331") and are typed as percentages ("3.31"); money
// is a string with two decimals. No float ever touches a figure.
import { request } from '@/shared/api.js'

const p = (id, tail) => `/projects/${id}/${tail}`

export const establishmentApi = {
  terms: (id) => request('GET', p(id, 'establishment')),
  saveTerms: (id, body) => request('PUT', p(id, 'establishment'), { body }),
  shareholding: (id) => request('GET', p(id, 'shareholding')),
  saveShareholding: (id, body) => request('PUT', p(id, 'shareholding'), { body }),
  shareholdingVersions: (id) => request('GET', p(id, 'shareholding/versions')),
  milestones: (id) => request('GET', p(id, 'milestones')),
  saveMilestones: (id, body) => request('PUT', p(id, 'milestones'), { body }),
  indicators: (id) => request('GET', p(id, 'profit-indicators')),
  saveIndicators: (id, body) => request('PUT', p(id, 'profit-indicators'), { body }),
  basic: (id) => request('GET', p(id, 'basic-info')),
  saveBasic: (id, body) => request('PUT', p(id, 'basic-info'), { body }),
  project: (id) => request('GET', `/projects/${id}`),
  options: () => request('GET', '/establishment/options'),
}

export const ratesApi = {
  list: () => request('GET', '/financing-rates'),
  create: (body) => request('POST', '/financing-rates', { body }),
  update: (id, body) => request('PUT', `/financing-rates/${id}`, { body }),
  remove: (id, version) => request('DELETE', `/financing-rates/${id}`, { query: { version } }),
}

export const KPI_EXPORT_URL = '/api/v1/tools/kpi-export.xlsx'

export const SHAREHOLDER_KINDS = [
  { value: 'group', label: '锦艺方' },
  { value: 'cooperator', label: '合作方' },
  { value: 'partnership', label: '合伙企业' },
]

export const TIERS = [
  { tier: 'holding', label: '控股集团' },
  { tier: 'property', label: '置业集团' },
  { tier: 'city', label: '城市公司' },
  { tier: 'other', label: '其它' },
]

const DEC = /^(-?)(\d*)(?:\.(\d*))?$/

/** parseDec reads a decimal string into {neg, digits: BigInt, scale}, or null. */
export function parseDec(s) {
  const t = String(s ?? '').trim()
  const m = DEC.exec(t)
  if (!t || !m || (m[2] === '' && !m[3])) return null
  const frac = m[3] || ''
  return { neg: m[1] === '-', digits: BigInt((m[2] || '0') + frac), scale: frac.length }
}

/** formatDec writes value × 10^-scale as a plain decimal, trailing zeros trimmed. */
function formatDec(neg, digits, scale) {
  let s = digits.toString().padStart(scale + 1, '0')
  let out = scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s
  if (scale) out = out.replace(/0+$/, '').replace(/\.$/, '')
  return (neg && digits !== 0n ? '-' : '') + out
}

/** shift moves the decimal point: shift("3.31", -2) = "0.0331". "" for bad input. */
export function shift(s, n) {
  const d = parseDec(s)
  if (!d) return ''
  let { digits, scale } = d
  scale -= n
  while (scale < 0) {
    digits *= 10n
    scale += 1
  }
  return formatDec(d.neg, digits, scale)
}

/** percent shows a fraction as a percentage: "0.0331" → "3.31%". */
export function percent(f) {
  if (f === null || f === undefined || f === '') return ''
  return `${shift(f, 2)}%`
}

/** toUnits returns round(s × 10^scale) half away from zero as a BigInt. */
function toUnits(s, scale) {
  const d = parseDec(s)
  if (!d) return null
  let v = d.digits
  if (d.scale <= scale) {
    v *= 10n ** BigInt(scale - d.scale)
  } else {
    const div = 10n ** BigInt(d.scale - scale)
    const q = v / div
    v = (v % div) * 2n >= div ? q + 1n : q
  }
  return d.neg ? -v : v
}

/**
 * poolOf is R1's pool_t = round(P × r_t, yuan), half away from zero, as a
 * string with two decimals — the figure the server will compute.
 */
export function poolOf(peak, ratio) {
  const p = parseDec(peak)
  const r = parseDec(ratio)
  if (!p || !r) return null
  const prod = p.digits * r.digits
  const scale = BigInt(p.scale + r.scale)
  const div = 10n ** scale
  let q = prod / div
  if ((prod % div) * 2n >= div) q += 1n
  const neg = p.neg !== r.neg && q !== 0n
  return `${neg ? '-' : ''}${q.toString()}.00`
}

/** sumDec adds decimal strings exactly. */
export function sumDec(values, scale = 6) {
  let total = 0n
  for (const v of values) {
    const u = toUnits(v || '0', scale)
    if (u === null) return null
    total += u
  }
  const neg = total < 0n
  return formatDec(neg, neg ? -total : total, scale)
}

/** cmpDec compares two decimal strings (-1, 0, 1). */
export function cmpDec(a, b) {
  const x = toUnits(a, 8)
  const y = toUnits(b, 8)
  if (x === null || y === null) return 0
  return x < y ? -1 : x > y ? 1 : 0
}

/** fixed2 writes a decimal string with exactly two decimals ("8602000" → "8602000.00"). */
export function fixed2(s) {
  if (s === null || s === undefined || s === '') return s
  const [i, f = ''] = String(s).split('.')
  return `${i}.${(f + '00').slice(0, 2)}`
}
