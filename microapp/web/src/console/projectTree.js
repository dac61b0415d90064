// The project tree of the caller's scope (GET /api/v1/project-tree), loaded
// once by the shell and shared by every stage page. The selected project is
// the `project` query parameter, so it survives reloads and tab switches.
import { computed, reactive } from 'vue'
import { useRoute } from 'vue-router'
import { projectTree as fetchProjectTree } from '@/shared/api.js'

// generation makes a load that finishes after a newer load or a reset drop its result.
let generation = 0

export const projectTree = reactive({
  items: [],
  loading: false,
  loaded: false,
  // byId maps a project id to {id, name, path: [org unit names…]}.
  byId: new Map(),

  /** reset forgets the tree, e.g. when the user signs out. */
  reset() {
    generation++
    this.items = []
    this.byId = new Map()
    this.loaded = false
  },

  async load() {
    const mine = ++generation
    this.loading = true
    try {
      const res = await fetchProjectTree()
      if (mine !== generation) return
      this.items = res?.items || []
      this.byId = indexProjects(this.items)
      this.loaded = true
    } finally {
      this.loading = false
    }
  },
})

function indexProjects(items, path = [], index = new Map()) {
  for (const unit of items) {
    const here = [...path, unit.name]
    for (const p of unit.projects || []) index.set(String(p.id), { ...p, path: here })
    indexProjects(unit.children || [], here, index)
  }
  return index
}

/** useSelectedProject returns the project named by ?project=, or null. */
export function useSelectedProject() {
  const route = useRoute()
  return computed(() => {
    const id = route.query.project
    if (!id) return null
    return projectTree.byId.get(String(id)) || null
  })
}
