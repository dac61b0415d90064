// Server-side validation errors name a field (error.field); a form shows the
// message under that field as well as in the message toast.
import { reactive } from 'vue'
import { showError } from './feedback.js'

export function useFieldErrors() {
  const fieldErrors = reactive({})

  function clearFieldErrors() {
    for (const k of Object.keys(fieldErrors)) delete fieldErrors[k]
  }

  /** reportError toasts the error and marks its field, if it names one. */
  function reportError(err) {
    showError(err)
    if (err?.field) fieldErrors[err.field] = err.message
  }

  return { fieldErrors, clearFieldErrors, reportError }
}
