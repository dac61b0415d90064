// 期初数据导入 (后台管理 → 辅助工具): the template, the import of one
// project's opening balances and the rows imported.
import { request } from '@/shared/api.js'

export const OPENING_TEMPLATE_URL = '/api/v1/opening-balances/template.xlsx'

export const opening = {
  /** of returns {import, items, totals} of the project (import null when none). */
  of: (projectId) => request('GET', `/projects/${projectId}/opening-balances`),
  /** importFile uploads the .xlsx; → the import ({rows, replayed, …}). */
  importFile: (projectId, file) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', `/projects/${projectId}/opening-balances`, { form })
  },
}
