// How the console tells the user that a call failed.
import { ElMessage } from 'element-plus'

/**
 * showError shows the server's Chinese message. A 401 is handled by the
 * redirect to sign-in and is not shown; a stale version asks for a refresh.
 */
export function showError(err) {
  if (err?.status === 401) return
  let message = err?.message || '操作失败'
  if (err?.isStale && !message.includes('刷新')) {
    message += '，请刷新后重试'
  }
  ElMessage({ type: err?.isStale ? 'warning' : 'error', message, grouping: true })
}

export function showSuccess(message) {
  ElMessage({ type: 'success', message, grouping: true })
}
