// The rounds of the selected project, shared by the 合伙名单, 认购明细 and
// 方案审核 tabs. The chosen round is the `round` query parameter, so it
// survives reloads and switching between the tabs.
import { computed, ref, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { items, rounds, roundKindLabel } from '@/shared/rounds.js'
import { useSelectedProject } from '../projectTree.js'
import { showError } from '../feedback.js'

/** roundName is 立项, or 补充立项n for the n-th supplementary round. */
export function roundName(r) {
  if (!r) return ''
  if (r.name) return r.name
  return r.kind === 'supplementary' ? `${roundKindLabel(r.kind)}${r.seq || ''}` : roundKindLabel(r.kind)
}

/** personName is the partner's name, whichever field the answer carries it in. */
export function personName(x) {
  return x?.name || x?.user_name || x?.partner_name || x?.user?.name || ''
}

export function useRounds() {
  const route = useRoute()
  const router = useRouter()
  const project = useSelectedProject()
  const list = ref([])
  const loading = ref(false)
  const round = ref(null) // the chosen round, in full (GET /rounds/{id})

  const selectedID = computed(() => {
    const q = route.query.round
    if (q && list.value.some((r) => String(r.id) === String(q))) return String(q)
    // Default: the latest round.
    return list.value.length ? String(list.value[list.value.length - 1].id) : ''
  })

  async function load() {
    if (!project.value) return
    loading.value = true
    try {
      const res = await rounds.list(project.value.id)
      list.value = [...items(res)].sort((a, b) => a.id - b.id)
      await loadRound()
    } catch (err) {
      showError(err)
    } finally {
      loading.value = false
    }
  }

  async function loadRound() {
    if (!selectedID.value) {
      round.value = null
      return
    }
    try {
      round.value = await rounds.get(selectedID.value)
    } catch (err) {
      round.value = list.value.find((r) => String(r.id) === selectedID.value) || null
      showError(err)
    }
  }

  function select(id) {
    router.replace({ query: { ...route.query, round: String(id) } })
  }

  watch(selectedID, () => loadRound())

  return { project, list, round, selectedID, loading, load, loadRound, select }
}
