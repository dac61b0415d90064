import { createApp } from 'vue'

import App from './App.vue'
import { router } from './router.js'
import { useVant } from './vant.js'
import { configureApi } from '@/shared/api.js'
import { session } from './session.js'
import './h5.css'

// The H5 app carries a bearer token (DingTalk's webview may not keep cookies).
configureApi({ getToken: () => session.token })

const app = createApp(App)
useVant(app)
app.use(router).mount('#app')
