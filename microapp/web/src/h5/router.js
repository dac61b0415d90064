import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'

// The micro-app lives under /m/ (the app's home link in DingTalk). A
// subscription notice's link opens /m/rounds/{id}, which goes on to the
// reader's own invitation (/m/invitations/{id}); /m/subscribe/{id} and hash
// links such as /m/#/invitations/{id} (what DingTalk keeps of some links)
// lead there too.
export const router = createRouter({
  history: createWebHistory('/m/'),
  routes: [
    { path: '/', name: 'home', component: HomeView, meta: { title: '我的跟投' } },
    {
      path: '/invitations/:id(\\d+)',
      name: 'subscribe',
      component: () => import('./views/SubscribeView.vue'),
      meta: { title: '认购' },
    },
    {
      path: '/rounds/:id(\\d+)',
      name: 'round',
      component: () => import('./views/RoundView.vue'),
      meta: { title: '认购' },
    },
    {
      path: '/invitations/:id(\\d+)/history',
      name: 'history',
      component: () => import('./views/HistoryView.vue'),
      meta: { title: '认购记录' },
    },
    {
      path: '/payments',
      name: 'payments',
      component: () => import('./views/PaymentsView.vue'),
      meta: { title: '我的缴款' },
    },
    {
      path: '/distributions',
      name: 'distributions',
      component: () => import('./views/DistributionsView.vue'),
      meta: { title: '我的分配' },
    },
    {
      path: '/disclosures',
      name: 'disclosures',
      component: () => import('./views/DisclosuresView.vue'),
      meta: { title: '项目披露' },
    },
    {
      path: '/disclosures/:id(\\d+)',
      name: 'disclosure',
      component: () => import('./views/DisclosureView.vue'),
      meta: { title: '项目披露' },
    },
    { path: '/me', name: 'me', component: () => import('./views/MeView.vue'), meta: { title: '个人中心' } },
    { path: '/exit-request', name: 'exit-request', component: () => import('./views/ExitRequestView.vue'), meta: { title: '申请退出' } },
    {
      path: '/payout-account',
      name: 'payout-account',
      component: () => import('./views/PayoutAccountView.vue'),
      meta: { title: '我的分配账户' },
    },
    {
      path: '/me/agreements',
      name: 'agreements',
      component: () => import('./views/AgreementsView.vue'),
      meta: { title: '协议下载' },
    },
    {
      path: '/me/agreements/:id(\\d+)',
      name: 'agreement',
      component: () => import('./views/AgreementView.vue'),
      meta: { title: '协议' },
    },
    { path: '/subscribe/:id(\\d+)', redirect: (to) => ({ name: 'subscribe', params: to.params, query: to.query }) },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
})

// A hash route (/m/#/invitations/5?…) is taken as the path it names, once,
// keeping the query of the real URL (the simulator's dtsim parameters).
let first = true
router.beforeEach((to) => {
  if (!first) return true
  first = false
  const hash = window.location.hash
  if (hash.startsWith('#/')) {
    const target = router.resolve(hash.slice(1))
    if (target.matched.length && target.name !== undefined) {
      return { path: target.path, query: { ...to.query, ...target.query }, hash: '', replace: true }
    }
  }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title || '事业合伙'
})

/** goBack is a page's 返回: the previous page, or fallback (a route location)
 * when the page was opened directly, as from a notice's link. */
export function goBack(fallback) {
  if (window.history.length > 1) router.back()
  else router.replace(fallback)
}
