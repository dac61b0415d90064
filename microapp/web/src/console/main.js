import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'

import App from './App.vue'
import { router } from './router.js'
import { configureApi } from '@/shared/api.js'
import { session } from './session.js'
import './console.css'

// A 401 from any call means the session is gone: back to the sign-in page,
// remembering where the user was.
configureApi({
  onUnauthorized: () => {
    session.clear()
    const current = router.currentRoute.value
    if (current.name !== 'login') {
      router.replace({ name: 'login', query: { redirect: current.fullPath } })
    }
  },
})

createApp(App).use(ElementPlus, { locale: zhCn }).use(router).mount('#app')
