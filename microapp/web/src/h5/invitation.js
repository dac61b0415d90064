// How the H5 app reads a partner's invitation (GET /api/v1/me/invitations),
// tolerant of the optional fields the server may add.

import { shanghaiToday } from '@/shared/format.js'

export { shanghaiToday }

/** currentAmount is the partner's last subscribed amount, or '' when none. */
export function currentAmount(inv) {
  if (!inv) return ''
  const v = inv.amount ?? inv.subscription?.amount ?? inv.requested ?? ''
  return v === null ? '' : v
}

/** roundStatus is the status of the invitation's round. */
export function roundStatus(inv) {
  return inv?.round_status || inv?.round?.status || ''
}

/**
 * canSubscribe tells whether the partner may (still) set the amount: the
 * round is open and the deadline (end of its day in Shanghai) has not passed.
 * The server decides in the end; this only spares a refused attempt.
 */
export function canSubscribe(inv) {
  if (!inv) return false
  // The server says whether the window is open now (round open, before the deadline).
  if (typeof inv.open === 'boolean') return inv.open
  const st = roundStatus(inv)
  if (st && st !== 'open') return false
  const deadline = String(inv.deadline || '').slice(0, 10)
  return !deadline || shanghaiToday() <= deadline
}

/** needsAction: open and not subscribed yet (the home page's badge). */
export function needsAction(inv) {
  return canSubscribe(inv) && currentAmount(inv) === ''
}

export function projectName(inv) {
  return inv?.project_name || inv?.project?.name || ''
}
