// What every H5 page does the same way: load its data once the session is
// signed in (now, or when 免登 finishes, or after a sign-in), and go back —
// to the previous page, or, when the page was opened directly (a notice's
// link), to where it belongs.
import { watch } from 'vue'
import { useRouter } from 'vue-router'
import { session } from './session.js'

/** whenSignedIn calls load each time the session becomes signed in, now included. */
export function whenSignedIn(load) {
  watch(
    () => session.status,
    (st) => {
      if (st === 'signed-in') load()
    },
    { immediate: true },
  )
}

/** useBack returns the nav bar's 返回: back, or to fallback (a route location,
 * or a function giving one) when there is no page to go back to. */
export function useBack(fallback) {
  const router = useRouter()
  return () => {
    if (window.history.length > 1) router.back()
    else router.replace(typeof fallback === 'function' ? fallback() : fallback)
  }
}
