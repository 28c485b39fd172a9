/** `sessions show <id>`: transcript with metadata, agents, feedback and metrics. */
import { loadAgents } from '../../features/agent-config.js'
import { loadFeedbackPage } from '../../features/feedback.js'
import { loadMetricsSummary } from '../../features/metrics.js'
import { validateIdentifier } from '../../validation/identifiers.js'
import { flag, intOption, stringOption, type Command } from '../command.js'
import { NotFoundCliError, UsageError } from '../errors.js'
import { compactJson, formatDate, type Output } from '../output.js'
import { displayFeedback } from '../queries/feedback.js'
import { loadSessionDocument, readTranscript, type TranscriptMessage } from '../queries/transcript.js'
import { renderMessage } from '../render.js'
import { decodeForDisplay, displayText, redactSealed } from '../sealed.js'

/** The single `<id>` positional, validated like the library does. */
export function sessionIdArgument(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one session id, got ${positionals.length}`)
  return validateIdentifier(positionals[0], 'session id')
}

function printMetrics(out: Output, totals: Awaited<ReturnType<typeof loadMetricsSummary>>['session']): void {
  out.fields([
    ['invocations', String(totals.invocations)],
    ['tokens', `${totals.totalTokens} (in ${totals.inputTokens}, out ${totals.outputTokens})`],
    ['model calls', `${totals.modelCalls}, latency ${totals.modelLatencyMs} ms`],
    [
      'time to first byte',
      totals.averageTimeToFirstByteMs === null ? '-' : `${totals.averageTimeToFirstByteMs.toFixed(1)} ms avg`,
    ],
    ['tool calls', `${totals.toolCalls} (${totals.toolErrors} errors, ${Math.round(totals.toolTimeMs)} ms)`],
  ])
}

export const sessionsShow: Command = {
  path: ['sessions', 'show'],
  args: '<id>',
  summary: 'Show a session: transcript, metadata, agents, feedback, metrics',
  options: {
    agent: { type: 'string', value: '<agent-id>', description: 'only this agent’s messages' },
    history: { type: 'boolean', description: 'include messages no longer in the active conversation' },
    feedback: { type: 'string', value: '<n>', description: 'how many feedback entries to show (default 20)' },
  },
  examples: [
    'mongodb-session-manager sessions show user-session-123',
    'mongodb-session-manager sessions show user-session-123 --json',
  ],
  async run({ values, positionals, out, connect }) {
    const sessionId = sessionIdArgument(positionals)
    const agentOption = stringOption(values, 'agent')
    const agentId = agentOption === undefined ? undefined : validateIdentifier(agentOption, 'agent id')
    const feedbackLimit = intOption(values, 'feedback', 20, 1, 500)
    const history = flag(values, 'history')
    const { collections } = await connect()
    const session = await loadSessionDocument(collections, sessionId)
    if (!session) throw new NotFoundCliError(`session '${sessionId}' not found`)
    const [agents, feedback, metrics] = await Promise.all([
      // The captured system prompt is sealed in encrypted sessions.
      loadAgents(collections, sessionId).then(redactSealed),
      loadFeedbackPage(collections, sessionId, { limit: feedbackLimit }),
      loadMetricsSummary(collections, sessionId),
    ])
    const messages: TranscriptMessage[] = []
    for await (const m of readTranscript(collections, session, sessionId, {
      ...(agentId !== undefined && { agentId }),
      activeOnly: !history,
    })) {
      messages.push(m)
    }
    const metadata = decodeForDisplay(session.metadata ?? {})
    const feedbackItems = displayFeedback(feedback.items)
    if (out.json) {
      out.printJson({
        sessionId,
        applicationName: session.application_name,
        createdAt: session.created_at,
        updatedAt: session.updated_at,
        metadata,
        agents,
        feedbackCounts: { up: 0, down: 0, neutral: 0, ...session.feedback_counts },
        feedback: feedbackItems,
        metrics,
        messages,
      })
      return
    }
    const s = out.style
    out.heading(`Session ${sessionId}`)
    out.fields([
      ['application', session.application_name ?? '-'],
      ['created', formatDate(session.created_at)],
      ['updated', formatDate(session.updated_at)],
      ['metadata', compactJson(metadata, 100)],
    ])
    out.line()
    out.heading(`Agents (${agents.length})`)
    for (const agent of agents) {
      out.line(`  ${s.bold(agent.agentId)}  model ${agent.model ?? '-'}, ${agent.messageCount} messages`)
    }
    for (const agent of agents.filter((a) => agentId === undefined || a.agentId === agentId)) {
      const own = messages.filter((m) => m.agentId === agent.agentId)
      out.line()
      out.heading(`Transcript: ${agent.agentId}${history ? ' (with history)' : ''}`)
      if (own.length === 0) out.line(s.dim('  (no messages)'))
      for (const m of own) {
        for (const line of renderMessage(m.message, s, { note: m.active ? '' : '(history)' })) out.line(line)
      }
    }
    out.line()
    const c = { up: 0, down: 0, neutral: 0, ...session.feedback_counts }
    out.heading(`Feedback (${s.green(`↑ ${c.up}`)}  ${s.red(`↓ ${c.down}`)}  · ${c.neutral})`)
    for (const f of feedbackItems) {
      const rating = f.rating === 'up' ? s.green('up     ') : f.rating === 'down' ? s.red('down   ') : 'neutral'
      out.line(`  ${formatDate(f.createdAt)}  ${rating}  ${displayText(f.comment) ?? s.dim('(no comment)')}`)
    }
    if (feedback.nextCursor) out.line(s.dim(`  … more (use 'feedback list --session ${sessionId}')`))
    out.line()
    out.heading('Metrics')
    printMetrics(out, metrics.session)
  },
}
