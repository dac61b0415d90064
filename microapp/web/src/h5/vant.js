// The Vant components the H5 app uses, registered globally with their styles.
// Importing per component keeps the phone's download small; add new ones here.
import {
  Badge,
  Button,
  Cell,
  CellGroup,
  Checkbox,
  Empty,
  Field,
  Form,
  Loading,
  NavBar,
  NoticeBar,
  PullRefresh,
  Tag,
} from 'vant'
import 'vant/es/badge/style/index.mjs'
import 'vant/es/button/style/index.mjs'
import 'vant/es/cell/style/index.mjs'
import 'vant/es/cell-group/style/index.mjs'
import 'vant/es/checkbox/style/index.mjs'
import 'vant/es/empty/style/index.mjs'
import 'vant/es/field/style/index.mjs'
import 'vant/es/form/style/index.mjs'
import 'vant/es/loading/style/index.mjs'
import 'vant/es/nav-bar/style/index.mjs'
import 'vant/es/notice-bar/style/index.mjs'
import 'vant/es/pull-refresh/style/index.mjs'
import 'vant/es/tag/style/index.mjs'
// Toasts are shown by function (showToast, showFailToast).
import 'vant/es/toast/style/index.mjs'

const components = [Badge, Button, Cell, CellGroup, Checkbox, Empty, Field, Form, Loading, NavBar, NoticeBar, PullRefresh, Tag]

export function useVant(app) {
  for (const c of components) app.use(c)
}
