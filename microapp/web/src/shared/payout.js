// The partner's own payout account (分配账户). The number is sent once when
// entered and only ever comes back masked (number_masked).
import { request } from './api.js'

export const payoutAccount = {
  get: () => request('GET', '/me/payout-account'),
  /** save enters or changes the account; version 0 for the first one. */
  save: (acc) => request('PUT', '/me/payout-account', { body: acc }),
  confirm: (version) => request('POST', '/me/payout-account/confirm', { body: { version } }),
}
