/**
 * The session list: filters in the address (so a filtered list can be shared), keyset paging; or,
 * with a search phrase, the library's bounded search (of one user's sessions, when a user is given).
 */
import type { SessionSummary } from '../../src/features/catalogue.js'
import { api, type Json, type ViewerConfig } from './api.js'
import { compactJson, formatDate, h, replace } from './dom.js'

const FILTERS = ['app', 'user', 'rating', 'after', 'before', 'limit'] as const
/** Characters of a preview shown in the list (the stored preview is up to 120). */
const PREVIEW_CHARS = 80
/** Search hits asked for (the library's maximum). */
const SEARCH_LIMIT = 50

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** One row of the list or of the search results; every value goes in as text. */
function sessionRow(item: Json<SessionSummary>, snippet: string | null = null): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-session': item.sessionId },
    h(
      'td',
      { class: 'session' },
      h('a', { href: `#/session/${encodeURIComponent(item.sessionId)}`, class: 'title' }, item.title ?? item.sessionId),
      item.title !== null && h('div', { class: 'muted id' }, item.sessionId),
      item.preview !== null && h('div', { class: 'preview' }, shorten(item.preview, PREVIEW_CHARS)),
      snippet !== null && h('div', { class: 'snippet' }, `… ${snippet}`),
    ),
    h('td', { class: 'user' }, item.userId ?? '-'),
    h('td', {}, item.applicationName ?? '-'),
    h('td', { class: 'nowrap' }, formatDate(item.updatedAt)),
    h(
      'td',
      { class: 'nowrap' },
      h('span', { class: 'up' }, `↑ ${item.feedbackCounts.up}`),
      ' ',
      h('span', { class: 'down' }, `↓ ${item.feedbackCounts.down}`),
      ' ',
      h('span', { class: 'muted' }, `· ${item.feedbackCounts.neutral}`),
    ),
    h('td', { class: 'meta' }, Object.keys(item.metadata).length > 0 ? compactJson(item.metadata) : ''),
  )
}

function sessionTable(rows: HTMLTableRowElement[]): HTMLElement {
  return rows.length === 0
    ? h('p', { class: 'muted', id: 'no-sessions' }, 'No sessions match.')
    : h(
        'table',
        { class: 'list', id: 'session-list' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Session', 'User', 'Application', 'Updated (UTC)', 'Feedback', 'Metadata'].map((t) => h('th', {}, t)),
          ),
        ),
        h('tbody', {}, rows),
      )
}

function field(label: string, input: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, h('span', {}, label), input)
}

/** Renders the list for the filters in `params` (`cursor` and `prev` for paging). */
export async function renderSessions(root: HTMLElement, params: URLSearchParams, config: ViewerConfig): Promise<void> {
  const q = h('input', {
    name: 'q',
    type: 'search',
    placeholder: 'title, preview or message text',
    value: params.get('q') ?? '',
  })
  const app = h('input', { name: 'app', type: 'text', placeholder: 'any', value: params.get('app') ?? '' })
  const user = h('input', { name: 'user', type: 'text', placeholder: 'any', value: params.get('user') ?? '' })
  const rating = h(
    'select',
    { name: 'rating' },
    ...['', 'up', 'down', 'neutral'].map((value) =>
      h('option', { value, selected: (params.get('rating') ?? '') === value }, value === '' ? 'any' : value),
    ),
  )
  const after = h('input', { name: 'after', type: 'date', value: params.get('after') ?? '' })
  const before = h('input', { name: 'before', type: 'date', value: params.get('before') ?? '' })
  // `key=value` (a string) or `key:=<json>` (a number, boolean or null), shown back as typed.
  const metaValues = new Map(
    params.getAll('meta').flatMap((item) => {
      const match = /^([^=:]+)(:?=)(.*)$/s.exec(item)
      return match ? [[match[1]!, match[2] === ':=' ? `:=${match[3]}` : match[3]!] as const] : []
    }),
  )
  const metaInputs = config.metadataFields.map((name) =>
    h('input', {
      type: 'text',
      'data-meta': name,
      placeholder: 'any (:=1 for a number)',
      value: metaValues.get(name) ?? '',
    }),
  )
  const form = h(
    'form',
    { class: 'filters', id: 'filters' },
    field('Search', q),
    field('User', user),
    field('Application', app),
    field('Feedback', rating),
    field('Updated after', after),
    field('Updated before (incl.)', before),
    ...metaInputs.map((input) => field(`metadata.${input.dataset.meta}`, input)),
    h('button', { type: 'submit' }, 'Filter'),
    h('a', { href: '#/sessions', class: 'reset' }, 'Reset'),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const next = new URLSearchParams()
    for (const [name, input] of [
      ['q', q],
      ['user', user],
      ['app', app],
      ['rating', rating],
      ['after', after],
      ['before', before],
    ] as const) {
      if (input.value) next.set(name, input.value)
    }
    for (const input of metaInputs) {
      if (!input.value) continue
      next.append('meta', `${input.dataset.meta}${input.value.startsWith(':=') ? '' : '='}${input.value}`)
    }
    const limit = params.get('limit')
    if (limit) next.set('limit', limit)
    location.hash = `#/sessions?${next}`
  })

  const results = h('section', { class: 'results' }, h('p', { class: 'muted' }, 'Loading…'))
  replace(root, h('h1', {}, 'Sessions'), form, results)

  const phrase = params.get('q')
  if (phrase) {
    const search = new URLSearchParams({ q: phrase, limit: String(SEARCH_LIMIT) })
    const userId = params.get('user')
    if (userId) search.set('user', userId)
    const { hits } = await api.search(search)
    replace(
      results,
      h(
        'p',
        { class: 'muted', id: 'search-note' },
        'Search results: the most recently active sessions are searched; only the user filter applies.',
      ),
      sessionTable(hits.map((hit) => sessionRow(hit.session, hit.snippet))),
    )
    return
  }

  const query = new URLSearchParams()
  for (const name of FILTERS) {
    const value = params.get(name)
    if (value) query.set(name, value)
  }
  for (const item of params.getAll('meta')) query.append('meta', item)
  const cursor = params.get('cursor')
  if (cursor) query.set('cursor', cursor)
  const page = await api.sessions(query)

  const rows = page.items.map((item) => sessionRow(item))
  // Paging: the cursors of the pages before this one travel in the address, so Back and "Previous" work.
  const previous = params.getAll('prev')
  const pager = h('div', { class: 'pager' })
  if (cursor !== null) {
    const back = new URLSearchParams(params)
    back.delete('prev')
    back.delete('cursor')
    for (const p of previous.slice(0, -1)) back.append('prev', p)
    const last = previous.at(-1)
    if (last) back.set('cursor', last)
    pager.append(h('a', { href: `#/sessions?${back}`, class: 'button', id: 'prev-page' }, '← Previous'))
  }
  if (page.nextCursor) {
    const next = new URLSearchParams(params)
    next.set('cursor', page.nextCursor)
    if (cursor !== null) next.append('prev', cursor)
    else next.append('prev', '')
    pager.append(h('a', { href: `#/sessions?${next}`, class: 'button', id: 'next-page' }, 'Next →'))
  }
  replace(results, sessionTable(rows), pager)
}
