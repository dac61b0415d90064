import { writeFileSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))

// Two single-page apps over one API:
//   index.html   → the PC console, served at /
//   m/index.html → the H5 micro-app, served at /m/
// Both are built into dist/, which the Go binary embeds (see embed.go).
// In dev, deep links of the H5 app (/m/anything) get m/index.html, as the Go
// server does in production; Vite's own fallback would serve the console.
function h5Rewrite(req, _res, next) {
  const path = (req.url || '').split('?')[0]
  if (path.startsWith('/m/') && !path.includes('.') && req.headers.accept?.includes('text/html')) {
    req.url = '/m/index.html'
  }
  next()
}
const h5Fallback = {
  name: 'hehuo-h5-fallback',
  configureServer: (server) => void server.middlewares.use(h5Rewrite),
  configurePreviewServer: (server) => void server.middlewares.use(h5Rewrite),
}

// The API the dev and preview servers forward /api to (the Go server).
const apiTarget = process.env.HEHUO_API || 'http://127.0.0.1:8080'
const proxy = { '/api': { target: apiTarget, changeOrigin: false } }

// emptyOutDir wipes dist/, including the committed dist/.placeholder that lets
// `go:embed all:dist` compile on a clean clone; put it back after each build
// so a build never shows up as a deleted file in git.
const keepPlaceholder = {
  name: 'hehuo-keep-placeholder',
  apply: 'build',
  closeBundle() {
    writeFileSync(here('./dist/.placeholder'), '')
  },
}

export default defineConfig({
  plugins: [vue(), h5Fallback, keepPlaceholder],
  resolve: {
    alias: { '@': here('./src') },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        console: here('./index.html'),
        h5: here('./m/index.html'),
      },
    },
  },
  server: { host: '127.0.0.1', port: 5173, proxy },
  preview: { host: '127.0.0.1', port: 4173, proxy },
})
