// Minority shareholders (小股东 / 外部股东) as the API serves them: the
// registry (后台管理 → 外部股东; ID and account numbers masked, never in
// clear) and 股东登记 per project with its review. Stakes are fraction
// strings (0.15 = 15%), amounts decimal strings; every state comes with its
// Chinese status_label from the server.
import { request } from './api.js'

export const shareholders = {
  list: () => request('GET', '/shareholders'),
  create: (body) => request('POST', '/shareholders', { body }),
  update: (id, body) => request('PATCH', `/shareholders/${id}`, { body }),
  /** importFile uploads an .xlsx of shareholders; → {imported}. */
  importFile: (file) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', '/shareholders/import', { form })
  },
  importTemplateURL: '/api/v1/shareholders/import/template',
}

export const shareholderRegistrations = {
  /** list: every version of every registration of the project; → {items, approved_total}. */
  list: (projectId) => request('GET', `/projects/${projectId}/shareholder-registrations`),
  create: (projectId, body) => request('POST', `/projects/${projectId}/shareholder-registrations`, { body }),
  update: (id, body) => request('PATCH', `/shareholder-registrations/${id}`, { body }),
  submit: (id, version) => request('POST', `/shareholder-registrations/${id}/submit`, { body: { version } }),
  review: (id, approve, reason, version) =>
    request('POST', `/shareholder-registrations/${id}/review`, { body: { approve, reason, version } }),
}
