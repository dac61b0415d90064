// Distributions (分配) as the API serves them: the partner's own lines (H5
// 我的分配), and for staff the payouts of an approved batch, its bank payout
// file and its 分配通知. Money is a decimal string; every state comes with its
// Chinese status_label from the server.
import { request } from './api.js'

export const myDistributions = {
  list: () => request('GET', '/me/distributions'),
}

export const distributionNotices = {
  /** list: the project's batches with their notices (queued / sent / failed). */
  list: (projectId) => request('GET', `/projects/${projectId}/distribution-notices`),
  /** test sends the batch's notice to the caller only (测试消息). */
  test: (batchId) => request('POST', `/distributions/${batchId}/notices/test`),
}
