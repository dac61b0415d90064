// The signed-in user of the console and what their roles allow.
import { reactive } from 'vue'
import { auth } from '@/shared/api.js'

export const session = reactive({
  user: null,
  loaded: false,

  get roles() {
    return this.user?.roles || []
  },
  /** canWrite is false for a read-only auditor (no other role). */
  get canWrite() {
    return this.roles.some((r) => r !== 'auditor')
  },
  /**
   * canManage allows the 后台管理 changes (org units, projects, batches,
   * users, grants), which the server keeps to the system admin.
   */
  get canManage() {
    return this.roles.includes('sysadmin')
  },
  /** canAdmin tells whether the 后台管理 tab is shown. */
  get canAdmin() {
    return this.roles.some((r) => r === 'sysadmin' || r === 'bizadmin' || r === 'auditor')
  },

  /** load asks the server who is signed in; a 401 leaves user empty. */
  async load() {
    try {
      this.user = await auth.me()
    } catch (err) {
      if (err.status !== 401) throw err
      this.user = null
    } finally {
      this.loaded = true
    }
    return this.user
  },

  async signIn(username, password) {
    const res = await auth.password(username, password)
    this.user = res.user
    this.loaded = true
    return this.user
  },

  async signOut() {
    try {
      await auth.logout()
    } finally {
      this.clear()
    }
  },

  clear() {
    this.user = null
    this.loaded = true
  },
})
