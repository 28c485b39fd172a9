/** `feedback report`: counts by rating, agent and day over a date range. */
import { dateOption, type Command } from '../command.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'
import { feedbackReport, type RatingCounts } from '../queries/feedback.js'
import { FEEDBACK_FILTER_OPTIONS, feedbackQuery } from './feedback-list.js'

function row(out: Output, label: string, c: RatingCounts): string[] {
  const s = out.style
  const rate = c.up + c.down > 0 ? `${Math.round((100 * c.up) / (c.up + c.down))}%` : '-'
  return [label, s.green(String(c.up)), s.red(String(c.down)), String(c.neutral), String(c.total), rate]
}

export const feedbackReportCommand: Command = {
  path: ['feedback', 'report'],
  summary: 'Feedback counts by rating, agent and day',
  description: 'Default range: the last 30 days. Days are UTC. At most 366 days per report.',
  options: {
    ...FEEDBACK_FILTER_OPTIONS,
    since: { ...FEEDBACK_FILTER_OPTIONS.since, description: 'start of the range (default 30d ago)' },
    until: { ...FEEDBACK_FILTER_OPTIONS.until, description: 'end of the range (default now)' },
  },
  examples: ['mongodb-session-manager feedback report --since 2026-11-01 --until 2026-12-01 --json'],
  async run({ values, out, connect }) {
    const query = feedbackQuery(values)
    const until = dateOption(values, 'until') ?? new Date()
    const since = dateOption(values, 'since') ?? new Date(until.getTime() - 30 * 86_400_000)
    if (since >= until) throw new UsageError('--since must be before --until')
    const { collections } = await connect()
    const report = await feedbackReport(collections, { ...query, since, until })
    if (out.json) {
      out.printJson(report)
      return
    }
    const headers = ['', 'UP', 'DOWN', 'NEUTRAL', 'TOTAL', 'UP RATE']
    out.heading(`Feedback ${since.toISOString().slice(0, 10)} → ${until.toISOString().slice(0, 10)}`)
    out.table(headers, [row(out, 'all', report.byRating)])
    out.line()
    out.heading('By agent')
    const agents = Object.entries(report.byAgent).sort(([a], [b]) => a.localeCompare(b))
    if (agents.length === 0) out.line(out.style.dim('  (none)'))
    else
      out.table(
        ['AGENT', ...headers.slice(1)],
        agents.map(([agent, c]) => row(out, agent, c)),
      )
    out.line()
    out.heading('By day (UTC)')
    const days = Object.entries(report.byDay).filter(([, c]) => c.total > 0)
    if (days.length === 0) out.line(out.style.dim('  (no feedback in range)'))
    else
      out.table(
        ['DAY', ...headers.slice(1)],
        days.map(([day, c]) => row(out, day, c)),
      )
  },
}
