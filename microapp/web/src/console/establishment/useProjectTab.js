// Shared plumbing of the 立项 tabs: the selected project, who may edit, and
// a load/save pair that keeps the version and reports errors under fields.
import { computed, onMounted, ref } from 'vue'
import { useSelectedProject } from '../projectTree.js'
import { session } from '../session.js'
import { showError, showSuccess } from '../feedback.js'
import { useFieldErrors } from '../fieldErrors.js'

export function useProjectTab(load, save) {
  const project = useSelectedProject()
  const loading = ref(false)
  const saving = ref(false)
  const data = ref(null)
  const { fieldErrors, clearFieldErrors, reportError } = useFieldErrors()
  // The server lets the project's accountants and the business admin edit 立项.
  const canEdit = computed(() => session.roles.some((r) => r === 'accountant' || r === 'bizadmin'))

  async function reload() {
    if (!project.value) return
    loading.value = true
    try {
      data.value = await load(project.value.id)
    } catch (err) {
      showError(err)
    } finally {
      loading.value = false
    }
  }

  async function submit(body, message = '已保存') {
    saving.value = true
    clearFieldErrors()
    try {
      data.value = await save(project.value.id, body)
      showSuccess(message)
      return data.value
    } catch (err) {
      reportError(err)
      return null
    } finally {
      saving.value = false
    }
  }

  onMounted(reload)
  return { project, loading, saving, data, fieldErrors, canEdit, reload, submit }
}
