/** The viewer's front end: a hash router over three pages. No markup is ever built from data. */
import 'uplot/dist/uPlot.min.css'
import { api, ApiError, type ViewerConfig } from './api.js'
import { renderDashboard } from './dashboard.js'
import { h, replace } from './dom.js'
import { renderSession } from './session.js'
import { renderSessions } from './sessions.js'
import './style.css'

let config: ViewerConfig | null = null

async function show(root: HTMLElement): Promise<void> {
  config ??= await api.config()
  const hash = location.hash.replace(/^#/, '') || '/sessions'
  const [path = '', query = ''] = hash.split('?', 2)
  const params = new URLSearchParams(query)
  const page = path.startsWith('/session/') ? 'session' : path === '/dashboard' ? 'dashboard' : 'sessions'
  for (const link of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === (page === 'dashboard' ? 'dashboard' : 'sessions'))
  }
  document.body.dataset.page = page
  if (page === 'session') await renderSession(root, decodeURIComponent(path.slice('/session/'.length)))
  else if (page === 'dashboard') await renderDashboard(root, params, config.maxDashboardDays)
  else await renderSessions(root, params, config)
}

function start(): void {
  const root = document.getElementById('app')!
  const render = () => {
    document.body.dataset.ready = 'false'
    show(root)
      .catch((error: unknown) => {
        const message = error instanceof ApiError ? error.message : String(error)
        replace(root, h('p', { class: 'error', id: 'error' }, `Could not load: ${message}`))
      })
      .finally(() => (document.body.dataset.ready = 'true'))
  }
  window.addEventListener('hashchange', render)
  render()
}

start()
