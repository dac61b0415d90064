// Reading an allocation answer (POST/GET /api/v1/rounds/{id}/allocation) for
// the 认购明细 tab: its trace split by line and by tier, and per-tier totals.
import { TIERS } from '@/shared/rounds.js'
import { fromFen, toFen } from './sum.js'

/** lineSteps are the trace steps of one partner's line ("city.allocated[12]"). */
export function lineSteps(alloc, line) {
  if (Array.isArray(line?.trace)) return line.trace
  const want = `allocated[${line.partner_id}]`
  return (alloc?.trace || []).filter((s) => s.figure === want || String(s.figure).endsWith('.' + want))
}

/** tierSteps are the tier's own steps (pool, totals, remainder), not its lines'. */
export function tierSteps(alloc, tier) {
  return (alloc?.trace || []).filter((s) => {
    const f = String(s.figure)
    return (f === `pool.${tier}` || f.startsWith(tier + '.')) && !/allocated\[\d+\]$/.test(f)
  })
}

function perTierOf(alloc, tier) {
  const p = alloc?.per_tier
  if (!p) return {}
  if (Array.isArray(p)) return p.find((x) => x.tier === tier) || {}
  return p[tier] || {}
}

/**
 * tierSummaries gives, per tier with a pool or a line: pool, requested,
 * allocated, balance (pool − allocated; negative = over) and the effective
 * ratio when the server sends it. Sums are exact (fen).
 */
export function tierSummaries(alloc) {
  const lines = alloc?.lines || []
  return TIERS.map(({ value: tier, label }) => {
    const mine = lines.filter((l) => l.tier === tier)
    const server = perTierOf(alloc, tier)
    const pool = server.pool ?? alloc?.pools?.[tier] ?? '0'
    const requested = fromFen(mine.reduce((a, l) => a + toFen(l.requested), 0n))
    const allocated = server.allocated ?? fromFen(mine.reduce((a, l) => a + toFen(l.allocated), 0n))
    const balance = fromFen(toFen(pool) - toFen(allocated))
    return {
      tier,
      label,
      count: mine.length,
      pool,
      requested,
      allocated,
      balance,
      over: toFen(balance) < 0n,
      plannedRatio: server.planned_ratio ?? '',
      effectiveRatio: server.effective_ratio ?? server.ratio ?? '',
    }
  }).filter((t) => t.count || toFen(t.pool) !== 0n)
}

/** percent shows a fraction string ("0.0391") as "3.91%" without floats drifting. */
export function percent(fraction) {
  if (fraction === '' || fraction === null || fraction === undefined) return ''
  const n = Number(fraction)
  if (!Number.isFinite(n)) return String(fraction)
  return `${(n * 100).toFixed(4).replace(/0+$/, '').replace(/\.$/, '')}%`
}
