// Agreements (协议): the partner's own under /me, the console's signing
// state and reminders, and the agreement templates of 模板管理.
import { request } from './api.js'

export const myAgreements = {
  list: () => request('GET', '/me/agreements'),
  /** get returns one agreement with its whole text ({…, title, text}). */
  get: (id) => request('GET', `/me/agreements/${id}/text`),
  /** sign records the sign-off; agreed is the tick box 我已阅读并同意. */
  sign: (id) => request('POST', `/me/agreements/${id}/sign`, { body: { agreed: true } }),
  /** pdfURL is the PDF download (the session cookie goes with it). */
  pdfURL: (id) => `/api/v1/me/agreements/${id}.pdf`,
}

export const projectAgreements = {
  /** signing lists who signed and who has not, of one round or adjustment. */
  signing: (projectId, subjectKind, subjectId) =>
    request('GET', `/projects/${projectId}/agreements`, { query: { subject_kind: subjectKind, subject_id: subjectId } }),
  /** remind sends 发送签署提醒 to those who have not signed. */
  remind: (projectId, subjectKind, subjectId) =>
    request('POST', `/projects/${projectId}/agreements/reminders`, { body: { subject_kind: subjectKind, subject_id: subjectId } }),
}

export const agreementTemplates = {
  list: () => request('GET', '/agreement-templates'),
  versions: (code) => request('GET', `/agreement-templates/${code}/versions`),
  save: (code, tpl) => request('PUT', `/agreement-templates/${code}`, { body: tpl }),
  preview: (body, agreementId) => request('POST', '/agreement-templates/preview', { body: { body, agreement_id: agreementId || 0 } }),
}
