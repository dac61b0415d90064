// The API of the process center (流程/项目流程) and attachments (附件).
// Shapes follow issue 4's contract; see microapp/processes.go.
import { request } from './api.js'

const get = (path, query) => request('GET', path, { query })
const post = (path, body) => request('POST', path, { body })

export const processes = {
  /** list: every kind of the project with its processes and actions. */
  list: (projectID) => get(`/projects/${projectID}/processes`),
  preview: (projectID, input) => post(`/projects/${projectID}/processes/preview`, input),
  launch: (projectID, input) => post(`/projects/${projectID}/processes`, input),
  get: (id) => get(`/processes/${id}`),
  bpm: (id) => get(`/processes/${id}/bpm`),
  retry: (id) => post(`/processes/${id}/retry`),
  reset: (id, version) => post(`/processes/${id}/reset`, { version }),
}

export const attachments = {
  upload: (projectID, file) => {
    const form = new FormData()
    form.append('file', file)
    return request('POST', `/projects/${projectID}/attachments`, { form })
  },
  url: (id) => `/api/v1/attachments/${id}`,
}

/** The seed's accepted attachment types; the server checks the content too. */
export const ATTACHMENT_EXTENSIONS = [
  'xls', 'xlsx', 'jpg', 'jpeg', 'png', 'bmp', 'tiff', 'mp4', 'doc', 'docx',
  'rar', 'zip', 'tar', 'gz', 'pdf', 'ppt', 'pptx', 'xml', 'csv',
]
export const ATTACHMENT_MAX = 10 * 1024 * 1024

/** checkAttachment returns a Chinese refusal for a file the server would refuse by name or size, or ''. */
export function checkAttachment(file) {
  const name = file.name || ''
  const ext = name.includes('.') ? name.split('.').pop().toLowerCase() : ''
  if (!ATTACHMENT_EXTENSIONS.includes(ext)) return `不支持此类型的文件，只能上传 ${ATTACHMENT_EXTENSIONS.join(', ')}`
  if (file.size > ATTACHMENT_MAX) return '文件不能大于10M'
  if (/[<>]/.test(name)) return '文件名中不能有<、>符号'
  return ''
}

/** Kinds whose subject is a round (合伙方案). */
export const ROUND_KINDS = { establishment: 'initial', supplementary: 'supplementary' }

export const STATUS_TAG = {
  launching: 'warning',
  running: 'primary',
  agreed: 'success',
  refused: 'danger',
  terminated: 'info',
  reset: 'info',
}
