/** Renders the bench's measurements as Markdown tables and checks the per-turn and per-request goals. */
import { describeCommands } from './command-log.js'
import type { RequestMeasurement } from './requests.js'
import { formatBytes, formatMs, markdownTable, median, quantile, ratio } from './stats.js'
import { AGENT_ALONE, ENCRYPTED, FILES, LIBRARY, type Cost, type TurnMeasurement } from './turns.js'

const count = (n: number) => n.toLocaleString('en-US')

/** The commands of each measured turn or request: one description when they all agree. */
function commandsCell(costs: readonly Cost[]): string {
  const descriptions = [...new Set(costs.map((c) => describeCommands(c.commands)))]
  return descriptions.length === 0 ? '—' : descriptions.join(' / ')
}

const signed = (ms: number) => (ms < 0 ? `−${formatMs(-ms)}` : `+${formatMs(ms)}`)

const medianOf = (costs: readonly Cost[], pick: (c: Cost) => number) => median(costs.map(pick))

export function turnsTable(results: readonly TurnMeasurement[]): string {
  const rows = results.map((r) => {
    const same = (backend: string) => results.find((x) => x.n === r.n && x.backend === backend)
    const ms = medianOf(r.turns, (c) => c.ms)
    const alone = same(AGENT_ALONE)
    const library = same(LIBRARY)
    const aloneMs = alone ? medianOf(alone.turns, (c) => c.ms) : Number.NaN
    const libraryMs = library && !library.failure ? medianOf(library.turns, (c) => c.ms) : Number.NaN
    const failed = r.failure !== undefined
    const times = r.turns.map((c) => c.ms)
    return [
      count(r.n),
      r.backend,
      failed ? `**failed**: ${r.failure}` : r.backend === AGENT_ALONE ? '—' : commandsCell(r.turns),
      failed || r.backend === AGENT_ALONE ? '—' : formatBytes(medianOf(r.turns, (c) => c.sentBytes)),
      failed ? '—' : `${formatMs(ms)} (${formatMs(Math.min(...times))}–${formatMs(Math.max(...times))})`,
      failed ? '—' : formatMs(medianOf(r.turns, (c) => c.cpuMs)),
      failed || r.backend === AGENT_ALONE ? '—' : signed(ms - aloneMs),
      failed || r.backend === AGENT_ALONE || r.backend === FILES
        ? '—'
        : formatMs(medianOf(r.turns, (c) => c.commandMs)),
      failed || r.backend === AGENT_ALONE ? '—' : r.backend === LIBRARY ? '1×' : ratio(ms, libraryMs),
      r.first ? `${formatMs(r.first.ms)}, ${formatBytes(r.first.sentBytes)}` : '—',
    ]
  })
  return markdownTable(
    [
      'history (messages)',
      'backend',
      'commands per turn',
      'sent per turn',
      'time per turn: median (min–max)',
      'CPU of this process (median)',
      'over the agent alone',
      'waiting for commands',
      'time ÷ library’s',
      'first turn (saves the history): time, sent',
    ],
    rows,
    'rlllrrrrrl',
  )
}

export function requestsTable(results: readonly RequestMeasurement[]): string {
  const rows = results.map((r) => {
    const library = results.find((x) => x.backend === LIBRARY && x.historyTurns === r.historyTurns)
    const p50 = quantile(
      r.requests.map((c) => c.ms),
      0.5,
    )
    const libraryP50 =
      library && !library.failure
        ? quantile(
            library.requests.map((c) => c.ms),
            0.5,
          )
        : Number.NaN
    const failed = r.failure !== undefined
    return [
      count(r.historyTurns),
      r.backend,
      r.messagesInCollection !== undefined ? count(r.messagesInCollection) : '',
      failed ? `**failed**: ${r.failure}` : commandsCell(r.requests),
      failed ? '—' : formatBytes(medianOf(r.requests, (c) => c.sentBytes)),
      failed ? '—' : formatBytes(medianOf(r.requests, (c) => c.receivedBytes)),
      failed ? '—' : formatMs(p50),
      failed
        ? '—'
        : formatMs(
            quantile(
              r.requests.map((c) => c.ms),
              0.9,
            ),
          ),
      failed ? '—' : formatMs(medianOf(r.requests, (c) => c.cpuMs)),
      failed ? '—' : r.backend === LIBRARY ? '1×' : ratio(p50, libraryP50),
    ]
  })
  return markdownTable(
    [
      'history (turns)',
      'backend',
      'message documents in the database',
      'commands per request',
      'sent',
      'received',
      'p50',
      'p90',
      'CPU of this process (median)',
      'p50 ÷ library’s',
    ],
    rows,
    'rllllrrrrrr',
  )
}

interface TimedCommand {
  name: string
  collection: string | undefined
  filterKeys?: string
  ms: number
}

/** The library's hot-path commands (rows) by context (columns): median round trip as the driver saw it. */
export function hotPathTable(turns: readonly TurnMeasurement[], requests: readonly RequestMeasurement[]): string {
  const contexts: { label: string; commands: TimedCommand[] }[] = [
    ...turns
      .filter((t) => t.backend === LIBRARY)
      .map((t) => ({ label: `turn, ${count(t.n)} msgs`, commands: t.commandTimes })),
    ...requests
      .filter((r) => r.backend === LIBRARY)
      .map((r) => ({
        label: `request, ${count(r.historyTurns)} turns`,
        commands: r.commandTimes,
      })),
  ]
  const kind = (c: TimedCommand) => {
    if (c.name === 'find' && c.collection === 'sessions') return 'find session by _id'
    if (c.name === 'find' && c.collection === 'messages')
      return 'find message window (session_id, agent_id, seq range; sort seq)'
    if (c.name === 'getMore') return 'getMore (window cursor)'
    if (c.name === 'insert' && c.collection === 'messages') return 'insert the turn’s messages'
    if (c.name === 'update' && c.collection === 'sessions') return 'update session by _id + revision'
    return `${c.name} ${c.collection ?? ''}`.trim()
  }
  const kinds = [...new Set(contexts.flatMap((c) => c.commands.map(kind)))]
  const rows = kinds.map((k) => [
    k,
    ...contexts.map((c) => {
      const times = c.commands.filter((x) => kind(x) === k).map((x) => x.ms)
      return times.length === 0 ? '' : formatMs(median(times))
    }),
  ])
  return markdownTable(
    ['command (median round trip)', ...contexts.map((c) => c.label)],
    rows,
    `l${'r'.repeat(contexts.length)}`,
  )
}

/** The claims the bench is there to check, stated as measured. */
export function goals(turns: readonly TurnMeasurement[], requests: readonly RequestMeasurement[]): string[] {
  const lines: string[] = []
  const libraryTurns = turns.filter((t) => t.backend === LIBRARY && !t.failure)
  if (libraryTurns.length > 0) {
    const max = Math.max(...libraryTurns.flatMap((t) => t.turns.map((c) => c.commands.length)))
    const sizes = libraryTurns.map((t) => count(t.n)).join(', ')
    lines.push(
      `- Commands per steady-state turn (library, at ${sizes} messages): at most ${max} — goal ≤ 2: ${max <= 2 ? 'holds' : 'DOES NOT HOLD'}.`,
    )
  }
  const libraryRequests = requests.filter((r) => r.backend === LIBRARY && !r.failure)
  if (libraryRequests.length > 0) {
    const parts = libraryRequests.map(
      (r) => `${Math.max(...r.requests.map((c) => c.commands.length))} at ${count(r.historyTurns)} turns`,
    )
    const max = Math.max(...libraryRequests.flatMap((r) => r.requests.map((c) => c.commands.length)))
    lines.push(
      `- Commands per factory request (library): ${parts.join(', ')} of history — goal ≤ 4: ${max <= 4 ? 'holds' : 'DOES NOT HOLD'}.`,
    )
  }
  const largest = Math.max(...turns.map((t) => t.n))
  const library = turns.find((t) => t.n === largest && t.backend === LIBRARY)
  const files = turns.find((t) => t.n === largest && t.backend === FILES)
  if (library && files && !library.failure && !files.failure) {
    const ours = medianOf(library.turns, (c) => c.ms)
    const theirs = medianOf(files.turns, (c) => c.ms)
    const ourCpu = medianOf(library.turns, (c) => c.cpuMs)
    const theirCpu = medianOf(files.turns, (c) => c.cpuMs)
    lines.push(
      `- A turn at ${count(largest)} messages, defaults on: ${formatMs(ours)} (library) vs ${formatMs(theirs)} (LocalFileStorage), ` +
        `medians; CPU of this process ${formatMs(ourCpu)} vs ${formatMs(theirCpu)} — faster than LocalFileStorage: ` +
        `${ours < theirs ? 'holds' : 'DOES NOT HOLD'}.`,
    )
  }
  for (const encrypted of turns.filter((t) => t.backend === ENCRYPTED && !t.failure)) {
    const plain = turns.find((t) => t.n === encrypted.n && t.backend === LIBRARY && !t.failure)
    if (!plain) continue
    const timeRatio = medianOf(encrypted.turns, (c) => c.ms) / medianOf(plain.turns, (c) => c.ms)
    const extraPerTurn = medianOf(encrypted.turns, (c) => c.sentBytes) - medianOf(plain.turns, (c) => c.sentBytes)
    // The turn without encryption also sends the preview, which an encrypted turn leaves out: the
    // cost of sealing is what the encrypted turn sends more, plus that.
    const preview = plain.previewBytes ?? 0
    // A turn writes two messages (the user's and the reply) and re-seals the agent state (two fields).
    const extraPerSealedField = (extraPerTurn + preview) / 4
    lines.push(
      `- Encryption on, at ${count(encrypted.n)} messages: ${timeRatio.toFixed(2)}× the time of a turn without ` +
        `(goal ≤ 1.2×: ${timeRatio <= 1.2 ? 'holds' : 'DOES NOT HOLD'}); ${Math.round(extraPerTurn)} more bytes sent ` +
        `per turn, which also leaves out the ${preview}-byte preview: sealing costs ` +
        `${Math.round(extraPerSealedField)} bytes per sealed field (each message is one; the agent state two) ` +
        `— goal ≤ 64 per message: ${extraPerSealedField <= 64 ? 'holds' : 'DOES NOT HOLD'}.`,
    )
  }
  return lines
}
