// How the console tells the user that a call failed.
import { ElMessage } from 'element-plus'

// SESSION_GONE are the 401 codes that mean "no session": the API client's
// 401 handler already took the user to the sign-in page, so they are not
// shown again. Every other 401 (a wrong password, a used auth code) is.
const SESSION_GONE = new Set(['not_signed_in', 'session_expired', 'http_401'])

/**
 * showError shows the server's Chinese message. A lost session is handled by
 * the redirect to sign-in and is not shown; a stale version asks for a refresh.
 */
export function showError(err) {
  if (err?.status === 401 && SESSION_GONE.has(err.code)) return
  let message = err?.message || '操作失败'
  if (err?.isStale && !message.includes('刷新')) {
    message += '，请刷新后重试'
  }
  ElMessage({ type: err?.isStale ? 'warning' : 'error', message, grouping: true })
}

export function showSuccess(message) {
  ElMessage({ type: 'success', message, grouping: true })
}
