// The partner's own payments (我的缴款): per approved round what is allocated,
// paid and outstanding, the due date, the project's collection account and
// each receipt. Money is a decimal string.
import { request } from './api.js'

export const myPayments = {
  list: () => request('GET', '/me/payments'),
}

/** copyText puts s on the clipboard; false when the browser refuses. */
export async function copyText(s) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(s)
      return true
    }
  } catch {
    // fall through to the textarea way (DingTalk's web view on http)
  }
  const ta = document.createElement('textarea')
  ta.value = s
  ta.setAttribute('readonly', '')
  ta.style.position = 'fixed'
  ta.style.opacity = '0'
  document.body.appendChild(ta)
  ta.select()
  let ok = false
  try {
    ok = document.execCommand('copy')
  } catch {
    ok = false
  }
  document.body.removeChild(ta)
  return ok
}
