/** `metrics`: token, latency and tool totals, across sessions or for one session. */
import { loadMetricsSummary, type MetricsTotals } from '../../features/metrics.js'
import { validateIdentifier } from '../../validation/identifiers.js'
import { dateOption, stringOption, type Command } from '../command.js'
import { NotFoundCliError } from '../errors.js'
import { metricTotals } from '../queries/metrics.js'
import type { Output } from '../output.js'

export const metricsCommand: Command = {
  path: ['metrics'],
  summary: 'Metric totals (tokens, latency, tool calls) across sessions or for one',
  options: {
    session: { type: 'string', value: '<id>', description: 'one session, with per-agent totals' },
    app: { type: 'string', value: '<name>', description: 'only sessions of this application' },
    'updated-after': {
      type: 'string',
      value: '<date>',
      description: 'only sessions updated after (ISO date, or 7d ago)',
    },
    'updated-before': { type: 'string', value: '<date>', description: 'only sessions updated before' },
  },
  examples: [
    'mongodb-session-manager metrics --app support-bot --updated-after 7d',
    'mongodb-session-manager metrics --session user-session-123 --json',
  ],
  async run({ values, out, connect }) {
    const session = stringOption(values, 'session')
    const sessionId = session === undefined ? undefined : validateIdentifier(session, 'session id')
    const app = stringOption(values, 'app')
    const updatedAfter = dateOption(values, 'updated-after')
    const updatedBefore = dateOption(values, 'updated-before')
    const { collections } = await connect()
    if (sessionId !== undefined) {
      const exists = await collections.sessions.findOne({ _id: sessionId }, { projection: { _id: 1 } })
      if (!exists) throw new NotFoundCliError(`session '${sessionId}' not found`)
      const summary = await loadMetricsSummary(collections, sessionId)
      if (out.json) return void out.printJson(summary)
      out.heading(`Metrics of session ${sessionId}`)
      printTotals(out, summary.session)
      for (const [agentId, totals] of Object.entries(summary.agents)) {
        out.line()
        out.heading(`Agent ${agentId}`)
        printTotals(out, totals)
        for (const [tool, t] of Object.entries(totals.tools)) {
          out.line(`    ${out.style.cyan(tool)}: ${t.calls} calls, ${t.errors} errors, ${Math.round(t.timeMs)} ms`)
        }
      }
      return
    }
    const totals = await metricTotals(collections, {
      ...(app !== undefined && { applicationName: app }),
      ...(updatedAfter && { updatedAfter }),
      ...(updatedBefore && { updatedBefore }),
    })
    if (out.json) return void out.printJson(totals)
    out.heading(`Metrics over ${totals.sessions} session(s)${app ? ` of ${app}` : ''}`)
    printTotals(out, totals)
  },
}

/** What both the per-session summary and the cross-session totals provide. */
type Totals = Omit<MetricsTotals, 'timeToFirstByteMs' | 'timeToFirstByteSamples' | 'cacheHitRate'>

function printTotals(out: Output, t: Totals): void {
  out.fields([
    ['invocations', `${t.invocations} (${t.cycles} cycles, ${t.modelCalls} model calls)`],
    ['tokens', `${t.totalTokens} total: ${t.inputTokens} in, ${t.outputTokens} out`],
    ['cache', `${t.cacheReadInputTokens} read, ${t.cacheWriteInputTokens} written`],
    ['model latency', `${Math.round(t.modelLatencyMs)} ms`],
    [
      'time to first byte',
      t.averageTimeToFirstByteMs === null ? '-' : `${t.averageTimeToFirstByteMs.toFixed(1)} ms average`,
    ],
    ['tool calls', `${t.toolCalls} (${t.toolErrors} errors, ${Math.round(t.toolTimeMs)} ms)`],
    ['invocation time', `${Math.round(t.durationMs)} ms`],
  ])
}
