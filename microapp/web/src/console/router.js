import { createRouter, createWebHistory } from 'vue-router'
import { session } from './session.js'
import { STAGES, ADMIN_PAGES, ESTABLISHMENT_TABS } from './stages.js'
import LoginView from './views/LoginView.vue'
import ShellView from './views/ShellView.vue'
import StagePlaceholder from './views/StagePlaceholder.vue'
import AdminPlaceholder from './admin/AdminPlaceholder.vue'

// Admin pages load on first use, so the stage pages start fast.
const adminComponents = {
  orgs: () => import('./admin/orgs/OrgUnitsPage.vue'),
  projects: () => import('./admin/projects/ProjectsPage.vue'),
  accounts: () => import('./admin/accounts/AccountsPage.vue'),
  audit: () => import('./admin/audit/AuditLogPage.vue'),
  templates: () => import('./admin/notify/TemplatesPage.vue'),
  notices: () => import('./admin/notify/NoticesPage.vue'),
  dingtalk: () => import('./admin/notify/DingTalkPage.vue'),
  rates: () => import('./admin/rates/RatesPage.vue'),
  'exit-policies': () => import('./admin/exits/ExitPoliciesPage.vue'),
  workcal: () => import('./admin/workcal/WorkCalendarPage.vue'),
  mandatory: () => import('./admin/mandatory/MandatoryPage.vue'),
  tools: () => import('./admin/tools/ToolsPage.vue'),
  shareholders: () => import('./admin/shareholders/ShareholdersPage.vue'),
}

// The 立项 sub-tabs; a tab without a component shows the stage placeholder.
const establishmentComponents = {
  basic: () => import('./establishment/BasicTab.vue'),
  shareholding: () => import('./establishment/ShareholdingTab.vue'),
  terms: () => import('./establishment/TermsTab.vue'),
  milestones: () => import('./establishment/MilestonesTab.vue'),
  indicators: () => import('./establishment/IndicatorsTab.vue'),
  partners: () => import('./round/PartnersTab.vue'),
  subscriptions: () => import('./round/SubscriptionsTab.vue'),
  review: () => import('./round/ReviewTab.vue'),
  adjustment: () => import('./establishment/AdjustmentTab.vue'),
  signing: () => import('./round/SigningTab.vue'),
}

// Stage pages that exist so far; the others show the stage placeholder.
const stageComponents = {
  report: () => import('./report/ReportsPage.vue'),
  payment: () => import('./payment/PaymentView.vue'),
  distribution: () => import('./distribution/DistributionView.vue'),
  disclosure: () => import('./disclosure/DisclosureView.vue'),
  process: () => import('./process/ProcessView.vue'),
  minority: () => import('./minority/MinorityView.vue'),
}

const routes = [
  { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
  {
    path: '/',
    component: ShellView,
    children: [
      { path: '', redirect: (to) => ({ name: 'establishment', query: to.query }) },
      {
        path: 'establishment',
        component: () => import('./views/EstablishmentView.vue'),
        meta: { stage: 'establishment', title: '立项' },
        children: [
          // The stage tab goes to the first sub-tab.
          {
            path: '',
            name: 'establishment',
            redirect: (to) => ({ name: `establishment-${ESTABLISHMENT_TABS[0].name}`, query: to.query }),
          },
          ...ESTABLISHMENT_TABS.map((t) => ({
            path: t.name,
            name: `establishment-${t.name}`,
            component: establishmentComponents[t.name] || StagePlaceholder,
            meta: { stage: 'establishment', establishmentTab: t.name, title: t.label },
          })),
        ],
      },
      ...STAGES.filter((s) => s.name !== 'establishment').map((s) => ({
        path: s.name,
        name: s.name,
        component: stageComponents[s.name] || StagePlaceholder,
        meta: { stage: s.name, title: s.label },
      })),
      {
        path: 'admin',
        component: () => import('./admin/AdminView.vue'),
        meta: { stage: 'admin', admin: true },
        children: [
          { path: '', redirect: (to) => ({ name: 'admin-projects', query: to.query }) },
          ...ADMIN_PAGES.map((p) => ({
            path: p.name,
            name: `admin-${p.name}`,
            component: adminComponents[p.name] || AdminPlaceholder,
            meta: { stage: 'admin', admin: true, adminPage: p.name, title: p.label },
          })),
        ],
      },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

/** safeRedirect keeps a post-sign-in redirect inside the console. */
export function safeRedirect(target) {
  if (typeof target === 'string' && target.startsWith('/') && !target.startsWith('//')) {
    return target
  }
  return '/'
}

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
})

router.beforeEach(async (to) => {
  if (!session.loaded) {
    try {
      await session.load()
    } catch {
      // The server is unreachable or failing; the sign-in page will say so.
    }
  }
  if (to.meta.public) {
    if (to.name === 'login' && session.user) return safeRedirect(to.query.redirect)
    return true
  }
  if (!session.user) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  if (to.matched.some((r) => r.meta.admin) && !session.canAdmin) {
    return { name: 'establishment', query: to.query }
  }
  return true
})
