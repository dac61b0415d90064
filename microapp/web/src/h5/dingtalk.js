// 免登: inside DingTalk the H5 app signs in with an auth code from
// dd.requestAuthCode, exchanged by POST /api/v1/auth/dingtalk for a bearer token.
//
// In the DingTalk simulator's phone page the URL carries
// ?dtsim=<simulator origin>&dtsim_user=<userid>; the code then comes from the
// simulator's control API instead of the DingTalk client, and the rest of the
// sign-in is the real one.
import { auth, dingtalk } from '@/shared/api.js'

/** simulatorParams returns {base, userid} when the page runs in the simulator's phone. */
export function simulatorParams(search = window.location.search) {
  const q = new URLSearchParams(search)
  const base = q.get('dtsim')
  const userid = q.get('dtsim_user')
  if (!base || !userid || !/^https?:\/\//.test(base)) return null
  return { base: base.replace(/\/+$/, ''), userid }
}

async function simulatorCode({ base, userid }) {
  let res
  try {
    res = await fetch(`${base}/sim/authcode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ userid }),
    })
  } catch {
    throw new Error('无法连接钉钉模拟器')
  }
  const data = await res.json().catch(() => ({}))
  if (!res.ok || !data.code) throw new Error(data.message || '钉钉模拟器未返回授权码')
  return data.code
}

// The DingTalk JSAPI is loaded only when needed: outside DingTalk it is dead weight.
async function loadDD() {
  const mod = await import('dingtalk-jsapi')
  return mod.default || mod
}

async function dingTalkCode() {
  const dd = await loadDD()
  if (!dd.env || dd.env.platform === 'notInDingTalk') return null
  const app = await dingtalk.app()
  try {
    const res = await dd.requestAuthCode({ corpId: app.corpId, clientId: app.clientId })
    return res.code
  } catch (err) {
    throw new Error('获取钉钉授权码失败：' + ((err && (err.errorMessage || err.message)) || '未知错误'))
  }
}

/** inDingTalk reports whether the page can get an auth code (DingTalk or the simulator). */
export async function canSignInWithDingTalk() {
  if (simulatorParams()) return true
  try {
    const dd = await loadDD()
    return !!dd.env && dd.env.platform !== 'notInDingTalk'
  } catch {
    return false
  }
}

/**
 * signInWithDingTalk gets an auth code and exchanges it; → {token, user}, or
 * null outside DingTalk. Throws the server's ApiError (403 user_not_enabled
 * for a DingTalk user without a Hehuo account).
 */
export async function signInWithDingTalk() {
  const sim = simulatorParams()
  const code = sim ? await simulatorCode(sim) : await dingTalkCode()
  if (!code) return null
  const res = await auth.dingtalk(code)
  if (!sim) configureJSAPI()
  return res
}

/**
 * configureJSAPI authorises the JSAPIs that need dd.config (contact picker,
 * open link…) for this page, once per page load; failures only disable them.
 */
export async function configureJSAPI() {
  try {
    const dd = await loadDD()
    const cfg = await dingtalk.jsapiConfig(window.location.href.split('#')[0])
    dd.config(cfg)
    dd.error((err) => console.warn('dd.config failed', err))
  } catch (err) {
    console.warn('jsapi config unavailable', err)
  }
}
