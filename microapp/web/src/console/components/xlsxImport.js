// useXlsxImport is the state of one .xlsx upload that the server applies all
// rows or none (银行流水, 合伙名单, 分配金额, 主数据项目, 期初数据): the file
// chosen (a second replaces the first), and the answer — a refusal naming
// bad cells (details: [{row, column, message}]) is kept for ImportErrors,
// so the user fixes the sheet and uploads it again; any other refusal is
// the usual message. XlsxImportDialog is it in a dialog; a page with its own
// layout (期初数据导入) binds the same pieces to its own el-upload.
import { ref } from 'vue'
import { genFileId } from 'element-plus'
import { showError } from '../feedback.js'

export function useXlsxImport() {
  // uploadRef is the el-upload the page binds with ref="uploadRef".
  const uploadRef = ref()
  const file = ref(null)
  const busy = ref(false)
  const rowErrors = ref([])
  const errorMessage = ref('')

  function reset() {
    file.value = null
    rowErrors.value = []
    errorMessage.value = ''
    uploadRef.value?.clearFiles()
  }

  function onChange(uploadFile) {
    file.value = uploadFile.raw
    rowErrors.value = []
  }

  function onRemove() {
    file.value = null
  }

  // A second file replaces the first.
  function onExceed(files) {
    uploadRef.value.clearFiles()
    const f = files[0]
    f.uid = genFileId()
    uploadRef.value.handleStart(f)
  }

  /** run sends the chosen file with upload(file) and hands the server's
   * answer to done; a refusal naming cells fills rowErrors instead. */
  async function run(upload, done) {
    if (!file.value) return
    busy.value = true
    rowErrors.value = []
    try {
      await done(await upload(file.value))
    } catch (err) {
      if (Array.isArray(err.details) && err.details.length) {
        errorMessage.value = err.message
        rowErrors.value = err.details
      } else {
        showError(err)
      }
    } finally {
      busy.value = false
    }
  }

  return { uploadRef, file, busy, rowErrors, errorMessage, reset, onChange, onRemove, onExceed, run }
}
