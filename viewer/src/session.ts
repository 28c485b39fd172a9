/** One session: transcript, metadata, feedback timeline, metrics, guardrail events, notification delivery. */
import type { ViewBlock } from '../../src/cli/viewer/blocks.js'
import { api, type Json } from './api.js'
import { displayJson, displayText, ENCRYPTED, formatBytes, formatDate, h, replace, table, type Child } from './dom.js'

type View = Json<Awaited<ReturnType<typeof api.session>>>
type Message = View['messages'][number]

function block(b: Json<ViewBlock>): HTMLElement {
  switch (b.kind) {
    case 'text':
      return h('div', { class: 'block text' }, b.text)
    case 'toolUse':
      return h(
        'div',
        { class: 'block tool-use' },
        h('div', { class: 'label' }, `→ tool call ${b.name}`, h('span', { class: 'muted' }, ` ${b.toolUseId}`)),
        h('pre', {}, b.input),
      )
    case 'toolResult':
      return h(
        'div',
        { class: `block tool-result ${b.status === 'error' ? 'error' : ''}` },
        h('div', { class: 'label' }, `← tool result (${b.status})`, h('span', { class: 'muted' }, ` ${b.toolUseId}`)),
        h('pre', {}, b.content),
      )
    case 'reasoning':
      return h(
        'div',
        { class: 'block reasoning' },
        h('div', { class: 'label' }, b.redacted ? 'reasoning (redacted)' : 'reasoning'),
        b.text !== null ? h('div', {}, b.text) : h('div', { class: 'muted' }, 'content redacted by the provider'),
      )
    case 'media':
      return h(
        'div',
        { class: 'block media', 'data-media': b.media },
        `[${b.media}${b.format ? ` ${b.format}` : ''}, ${formatBytes(b.bytes)} — not shown]`,
      )
    case 'encrypted':
      return h('div', { class: 'block encrypted muted' }, ENCRYPTED)
    default:
      return h('div', { class: 'block other muted' }, `[${b.name}]`)
  }
}

function invocationSummary(metrics: Message['invocationMetrics']): Child {
  if (!metrics) return null
  const m = metrics as Record<string, unknown>
  const usage = (m.usage ?? {}) as Record<string, unknown>
  const calls = Array.isArray(m.model_calls) ? m.model_calls.length : 0
  return h(
    'div',
    { class: 'invocation' },
    `invocation: ${String(usage.total_tokens ?? 0)} tokens (in ${String(usage.input_tokens ?? 0)}, out ${String(
      usage.output_tokens ?? 0,
    )}), ${calls} model call${calls === 1 ? '' : 's'}, model latency ${String(m.model_latency_ms ?? '-')} ms, ${String(
      m.duration_ms ?? '-',
    )} ms total`,
  )
}

/** Guardrail actions by `agent id #seq` of the message they concern. */
type GuardrailMarks = Map<string, string[]>

function message(m: Message, marks: GuardrailMarks): HTMLElement {
  const guardrail = marks.get(`${m.agentId}#${m.seq}`)
  return h(
    'article',
    { class: `message ${m.role}${m.active ? '' : ' history'}`, 'data-seq': m.seq },
    h(
      'header',
      {},
      h('strong', {}, m.role),
      h('span', { class: 'muted' }, ` ${m.agentId} #${m.seq} · ${formatDate(m.createdAt)}`),
      m.active ? null : h('span', { class: 'badge' }, 'history'),
      guardrail ? h('span', { class: 'badge guardrail' }, `guardrail: ${guardrail.join(', ')}`) : null,
    ),
    m.blocks.map(block),
    invocationSummary(m.invocationMetrics),
  )
}

function section(title: string, id: string, ...children: (Child | Child[])[]): HTMLElement {
  return h('section', { class: 'panel', id }, h('h2', {}, title), ...children)
}

export async function renderSession(root: HTMLElement, sessionId: string): Promise<void> {
  replace(root, h('p', { class: 'muted' }, 'Loading…'))
  const view = await api.session(sessionId)
  const t = view.metrics.session
  const counts = view.feedbackCounts
  const pending = view.notifications.filter((n) => n.state === 'pending').length
  const failed = view.notifications.length - pending
  const marks: GuardrailMarks = new Map()
  for (const g of view.guardrailEvents) {
    if (g.messageSeq === null) continue
    const key = `${g.agentId}#${g.messageSeq}`
    marks.set(key, [...(marks.get(key) ?? []), g.action])
  }

  const side = h(
    'aside',
    { class: 'side' },
    section(
      'Session',
      'session-facts',
      h(
        'dl',
        {},
        h('dt', {}, 'application'),
        h('dd', {}, view.applicationName ?? '-'),
        h('dt', {}, 'created'),
        h('dd', {}, formatDate(view.createdAt)),
        h('dt', {}, 'updated'),
        h('dd', {}, formatDate(view.updatedAt)),
        h('dt', {}, 'agents'),
        h(
          'dd',
          {},
          view.agents.map((a) => `${a.agentId} (${a.model ?? 'model -'}, ${a.messageCount} messages)`).join(', '),
        ),
      ),
    ),
    section('Metadata', 'metadata', h('pre', {}, displayJson(view.metadata, 2))),
    section(
      'Usage',
      'usage',
      h(
        'dl',
        {},
        h('dt', {}, 'invocations'),
        h('dd', {}, String(t.invocations)),
        h('dt', {}, 'tokens'),
        h('dd', {}, `${t.totalTokens} (in ${t.inputTokens}, out ${t.outputTokens})`),
        h('dt', {}, 'model calls'),
        h('dd', {}, `${t.modelCalls}, ${t.modelLatencyMs} ms latency`),
        h('dt', {}, 'tool calls'),
        h('dd', {}, `${t.toolCalls} (${t.toolErrors} errors)`),
      ),
    ),
    section(
      `Feedback ↑ ${counts.up} ↓ ${counts.down} · ${counts.neutral}`,
      'feedback',
      view.feedback.length === 0
        ? h('p', { class: 'muted' }, 'No feedback.')
        : h(
            'ol',
            { class: 'timeline' },
            view.feedback.map((f) =>
              h(
                'li',
                { class: f.rating ?? 'neutral' },
                h(
                  'span',
                  { class: 'rating' },
                  f.rating === 'up' ? '↑ up' : f.rating === 'down' ? '↓ down' : '· neutral',
                ),
                h('span', { class: 'muted' }, ` ${formatDate(f.createdAt)}${f.agentId ? ` · ${f.agentId}` : ''}`),
                f.comment ? h('div', { class: 'comment' }, displayText(f.comment)) : null,
              ),
            ),
          ),
      view.feedbackTruncated ? h('p', { class: 'muted' }, 'Older entries only: more feedback not shown.') : null,
    ),
  )

  const main = h(
    'div',
    { class: 'main' },
    section(
      'Transcript',
      'transcript',
      view.messages.length === 0
        ? h('p', { class: 'muted' }, 'No messages.')
        : view.messages.map((m) => message(m, marks)),
      view.messagesTruncated
        ? h('p', { class: 'muted' }, `Only the first ${view.messages.length} messages are shown.`)
        : null,
    ),
    section(
      `Notifications: ${pending} pending, ${failed} failed`,
      'notifications',
      view.notifications.length === 0
        ? h('p', { class: 'muted' }, 'Nothing pending: every notification was delivered (or none was configured).')
        : table(
            ['State', 'Channel', 'Target', 'From', 'Created', 'Due / failed', 'Error'],
            view.notifications.map((n) => [
              h('span', { class: `state ${n.state}` }, n.state),
              n.channel,
              n.target,
              n.owner === 'session' ? 'session' : `feedback ${n.ownerId}`,
              formatDate(n.createdAt),
              formatDate(n.state === 'failed' ? n.failedAt : n.dueAt),
              n.error ?? '',
            ]),
            'notification-list',
          ),
    ),
    view.guardrailEvents.length === 0
      ? null
      : section(
          'Guardrail events',
          'guardrails',
          table(
            ['When', 'Agent', 'Action', 'Stop reason', 'Policies', 'Message'],
            view.guardrailEvents.map((g) => [
              formatDate(g.createdAt),
              g.agentId,
              g.action,
              g.stopReason ?? '-',
              g.policiesTriggered ? displayJson(g.policiesTriggered) : '-',
              g.messageSeq === null ? '-' : `#${g.messageSeq}`,
            ]),
          ),
        ),
  )
  replace(
    root,
    h('p', {}, h('a', { href: '#/sessions' }, '← Sessions')),
    h('h1', { id: 'session-title' }, view.sessionId),
    h('div', { class: 'columns' }, main, side),
  )
}
