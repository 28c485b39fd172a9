/** The dashboard: usage, latency and feedback per day over a date range, drawn with uPlot. */
import uPlot from 'uplot'
import { api, type Json } from './api.js'
import { h, replace, table } from './dom.js'

type Dashboard = Json<Awaited<ReturnType<typeof api.dashboard>>>
type Day = Dashboard['days'][number]

const COLORS = { blue: '#2563eb', orange: '#ea580c', green: '#16a34a', red: '#dc2626', grey: '#6b7280' }

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** Share of positive feedback among rated (up or down) entries, in %; null on days without any. */
function upShare(day: Day): number | null {
  const rated = day.feedback.up + day.feedback.down
  return rated === 0 ? null : Math.round((day.feedback.up / rated) * 1000) / 10
}

interface ChartSpec {
  id: string
  title: string
  series: { label: string; color: string; values: (number | null)[]; scale?: string }[]
  /** A second y axis for series on scale `right`. */
  rightLabel?: string
  leftLabel: string
}

function chart(spec: ChartSpec, days: Day[], width: number): HTMLElement {
  const xs = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000)
  const holder = h('div', { class: 'chart', id: `chart-${spec.id}`, 'data-chart': spec.id })
  const options: uPlot.Options = {
    width,
    height: 220,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { x: { time: true }, ...(spec.rightLabel ? { right: { auto: true } } : {}) },
    series: [
      {},
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        scale: s.scale ?? 'y',
        points: { show: true, size: 6 },
        spanGaps: false,
      })),
    ],
    axes: [
      {},
      { label: spec.leftLabel, scale: 'y' },
      ...(spec.rightLabel ? [{ label: spec.rightLabel, scale: 'right', side: 1 as const, grid: { show: false } }] : []),
    ],
    legend: { show: true, live: false },
  }
  const data: uPlot.AlignedData = [xs, ...spec.series.map((s) => s.values)]
  // Drawn once the holder is in the document (uPlot measures its legend there).
  queueMicrotask(() => new uPlot(options, data, holder))
  return h('figure', { class: 'panel' }, h('h2', {}, spec.title), holder)
}

function numbersTable(id: string, headers: string[], rows: (string | number)[][]): HTMLElement {
  return h(
    'details',
    { class: 'numbers' },
    h('summary', {}, 'Numbers'),
    table(
      headers,
      rows.map((r) => r.map(String)),
      id,
    ),
  )
}

function card(label: string, value: string, key: string): HTMLElement {
  return h(
    'div',
    { class: 'card', 'data-total': key },
    h('div', { class: 'value' }, value),
    h('div', { class: 'muted' }, label),
  )
}

export async function renderDashboard(root: HTMLElement, params: URLSearchParams, maxDays: number): Promise<void> {
  const today = new Date()
  const since = h('input', {
    type: 'date',
    name: 'since',
    value: params.get('since') ?? isoDay(new Date(today.getTime() - 13 * 86_400_000)),
  })
  const until = h('input', { type: 'date', name: 'until', value: params.get('until') ?? isoDay(today) })
  const app = h('input', { type: 'text', name: 'app', placeholder: 'any', value: params.get('app') ?? '' })
  const form = h(
    'form',
    { class: 'filters', id: 'dashboard-range' },
    h('label', { class: 'field' }, h('span', {}, 'From'), since),
    h('label', { class: 'field' }, h('span', {}, 'To (inclusive)'), until),
    h('label', { class: 'field' }, h('span', {}, 'Application'), app),
    h('button', { type: 'submit' }, 'Show'),
    h('span', { class: 'muted' }, `UTC days, at most ${maxDays}`),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const next = new URLSearchParams({ since: since.value, until: until.value })
    if (app.value) next.set('app', app.value)
    location.hash = `#/dashboard?${next}`
  })
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'))
  replace(root, h('h1', {}, 'Dashboard'), form, body)

  const query = new URLSearchParams({ since: since.value, until: until.value })
  if (app.value) query.set('app', app.value)
  const d = await api.dashboard(query)
  const days = d.days
  const width = Math.max(320, Math.min((body.clientWidth || 900) - 30, 1400))
  const sum = (pick: (day: Day) => number) => days.reduce((n, day) => n + pick(day), 0)
  const feedbackTotal = sum((day) => day.feedback.total)

  replace(
    body,
    h(
      'div',
      { class: 'cards', id: 'dashboard-totals' },
      card('invocations', String(sum((day) => day.invocations)), 'invocations'),
      card('tokens', String(sum((day) => day.totalTokens)), 'tokens'),
      card('model calls', String(sum((day) => day.modelCalls)), 'model-calls'),
      card(
        'feedback',
        `${sum((day) => day.feedback.up)} ↑ / ${sum((day) => day.feedback.down)} ↓ of ${feedbackTotal}`,
        'feedback',
      ),
      card('sessions updated', String(d.totals.sessions), 'sessions'),
    ),
    d.truncated
      ? h('p', { class: 'warning' }, `Only the ${d.sessionsScanned} most recently updated sessions are counted.`)
      : null,
    d.applicationName !== null ? h('p', { class: 'muted' }, 'Feedback counts cover every application.') : null,
    chart(
      {
        id: 'usage',
        title: 'Invocations and tokens per day',
        leftLabel: 'invocations',
        rightLabel: 'tokens',
        series: [
          { label: 'invocations', color: COLORS.blue, values: days.map((day) => day.invocations) },
          { label: 'tokens', color: COLORS.orange, values: days.map((day) => day.totalTokens), scale: 'right' },
        ],
      },
      days,
      width,
    ),
    numbersTable(
      'usage-table',
      ['Day', 'Invocations', 'Input tokens', 'Output tokens', 'Total tokens'],
      days.map((day) => [day.day, day.invocations, day.inputTokens, day.outputTokens, day.totalTokens]),
    ),
    chart(
      {
        id: 'latency',
        title: 'Model latency per day (ms)',
        leftLabel: 'ms',
        series: [
          { label: 'p50', color: COLORS.green, values: days.map((day) => day.latencyP50) },
          { label: 'p95', color: COLORS.red, values: days.map((day) => day.latencyP95) },
        ],
      },
      days,
      width,
    ),
    numbersTable(
      'latency-table',
      ['Day', 'Model calls', 'p50 ms', 'p95 ms'],
      days.map((day) => [day.day, day.modelCalls, day.latencyP50 ?? '-', day.latencyP95 ?? '-']),
    ),
    chart(
      {
        id: 'feedback',
        title: 'Feedback per day: share of up among rated (%)',
        leftLabel: '% up',
        rightLabel: 'entries',
        series: [
          { label: '% up', color: COLORS.green, values: days.map(upShare) },
          { label: 'entries', color: COLORS.grey, values: days.map((day) => day.feedback.total), scale: 'right' },
        ],
      },
      days,
      width,
    ),
    numbersTable(
      'feedback-table',
      ['Day', 'Up', 'Down', 'Neutral', '% up'],
      days.map((day) => [day.day, day.feedback.up, day.feedback.down, day.feedback.neutral, upShare(day) ?? '-']),
    ),
  )
}
