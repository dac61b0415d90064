// The H5 app's signed-in user. Inside DingTalk (or the simulator's phone) the
// app signs in by 免登 on every launch, so the session is always the phone's
// user; elsewhere the token from a password sign-in is kept in localStorage
// for the webview's lifetime.
import { reactive, watch } from 'vue'
import { auth } from '@/shared/api.js'
import { canSignInWithDingTalk, signInWithDingTalk } from './dingtalk.js'

const TOKEN_KEY = 'hehuo.h5.token'

function readToken() {
  try {
    return localStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

export const session = reactive({
  token: readToken(),
  user: null,
  // status: 'loading' | 'signed-in' | 'signed-out' | 'not-enabled' | 'error'
  // ('not-enabled': a DingTalk user without a Hehuo account, 未开通)
  status: 'loading',
  error: '',
  // dingTalkDone is set once 免登 succeeded in this page; reloads of the data
  // then reuse the session instead of asking DingTalk again.
  dingTalkDone: false,

  // loading is the load under way, so pages opened together share one 免登.
  pending: null,

  /** ensure loads the session once per page; later calls reuse it. */
  ensure() {
    if (this.status !== 'loading') return Promise.resolve()
    if (!this.pending) this.pending = this.load().finally(() => (this.pending = null))
    return this.pending
  },

  async load() {
    this.status = 'loading'
    this.error = ''
    try {
      if (!this.dingTalkDone && (await canSignInWithDingTalk())) {
        const res = await signInWithDingTalk()
        if (res) {
          this.dingTalkDone = true
          this.setToken(res.token)
          this.user = res.user
          this.status = 'signed-in'
          return
        }
      }
      this.user = await auth.me()
      this.status = 'signed-in'
    } catch (err) {
      this.user = null
      if (err.code === 'user_not_enabled') {
        this.setToken(null)
        this.status = 'not-enabled'
        this.error = err.message
      } else if (err.status === 401 && err.code !== 'auth_code_invalid') {
        this.setToken(null)
        this.status = 'signed-out'
      } else {
        this.status = 'error'
        this.error = err.message
      }
    }
  },

  async signIn(username, password) {
    const res = await auth.password(username, password)
    this.setToken(res.token)
    this.user = res.user
    this.status = 'signed-in'
  },

  setToken(token) {
    this.token = token || null
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token)
      else localStorage.removeItem(TOKEN_KEY)
    } catch {
      // Private mode: the token lives only in memory.
    }
  },
})

/** whenSignedIn calls a page's load each time the session becomes signed in
 * (now, when 免登 finishes, or after a password sign-in). */
export function whenSignedIn(load) {
  watch(
    () => session.status,
    (st) => {
      if (st === 'signed-in') load()
    },
    { immediate: true },
  )
}
