import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'

// The micro-app lives under /m/ (the app's home link in DingTalk).
export const router = createRouter({
  history: createWebHistory('/m/'),
  routes: [
    { path: '/', name: 'home', component: HomeView, meta: { title: '我的跟投' } },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
})

router.afterEach((to) => {
  document.title = to.meta.title || '事业合伙'
})
