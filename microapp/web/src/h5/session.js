// The H5 app's signed-in user. The token comes from sign-in (later: DingTalk
// 免登 by auth code) and is kept in localStorage for the webview's lifetime.
import { reactive } from 'vue'
import { auth } from '@/shared/api.js'

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
  // status: 'loading' | 'signed-in' | 'signed-out' | 'error'
  status: 'loading',
  error: '',

  async load() {
    this.status = 'loading'
    this.error = ''
    try {
      this.user = await auth.me()
      this.status = 'signed-in'
    } catch (err) {
      this.user = null
      if (err.status === 401) {
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
