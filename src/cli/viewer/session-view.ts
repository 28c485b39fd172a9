/**
 * Everything the session page shows, read with the CLI's queries and the library's decoders: the
 * transcript, metadata, agents, feedback, metric totals, guardrail events and notification delivery
 * state (pending and failed outbox entries). Bounded: at most {@link MAX_MESSAGES} messages.
 */
import type { Document } from 'mongodb'
import { loadAgents, type AgentSummary } from '../../features/agent-config.js'
import { loadFeedbackPage } from '../../features/feedback.js'
import { loadGuardrailEvents } from '../../features/guardrails.js'
import { loadMetricsSummary, type MetricsSummary } from '../../features/metrics.js'
import type { SessionCollections } from '../../storage/collections.js'
import { displayFeedback, type DisplayFeedback } from '../queries/feedback.js'
import { loadSessionDocument, readTranscript } from '../queries/transcript.js'
import { decodeForDisplay, redactSealed, type EncryptedValue } from '../sealed.js'
import { viewBlocks, type ViewBlock } from './blocks.js'

/** Messages sent for one page; longer sessions are cut (the page says so). */
export const MAX_MESSAGES = 2_000
/** Feedback entries, guardrail events and feedback documents read for one page. */
const MAX_ENTRIES = 500

export interface ViewMessage {
  agentId: string
  seq: number
  active: boolean
  createdAt: Date
  role: string
  blocks: ViewBlock[]
  invocationMetrics: Document | null
}

/** One notification of the durable outbox, pending or given up. */
export interface ViewNotification {
  /** Which document holds it: the session, or a feedback entry (its id). */
  owner: 'session' | 'feedback'
  ownerId: string
  eventId: string
  channel: string
  target: string
  createdAt: Date | null
  dueAt: Date | null
  state: 'pending' | 'failed'
  failedAt: Date | null
  error: string | null
}

export interface GuardrailEventView {
  id: string
  agentId: string
  action: string
  stopReason: string | null
  /** `{ $encrypted: true }` when encrypted at rest (the viewer holds no key). */
  policiesTriggered: Record<string, string[]> | EncryptedValue | null
  messageSeq: number | null
  createdAt: Date
}

export interface SessionView {
  sessionId: string
  applicationName: string | null
  createdAt: Date
  updatedAt: Date
  /** Encrypted values (at any depth) are `{ $encrypted: true }`. */
  metadata: unknown
  agents: AgentSummary[]
  feedbackCounts: { up: number; down: number; neutral: number }
  feedback: DisplayFeedback[]
  feedbackTruncated: boolean
  metrics: MetricsSummary
  messages: ViewMessage[]
  messagesTruncated: boolean
  guardrailEvents: GuardrailEventView[]
  notifications: ViewNotification[]
}

function date(value: unknown): Date | null {
  return value instanceof Date ? value : null
}

function entries(owner: ViewNotification['owner'], ownerId: string, doc: Document): ViewNotification[] {
  const out: ViewNotification[] = []
  for (const [state, list] of [
    ['pending', doc.outbox],
    ['failed', doc.outbox_failed],
  ] as const) {
    if (!Array.isArray(list)) continue
    for (const entry of list as Document[]) {
      out.push({
        owner,
        ownerId,
        eventId: String(entry.event_id ?? ''),
        channel: String(entry.channel ?? ''),
        target: String(entry.target ?? ''),
        createdAt: date(entry.created_at),
        dueAt: date(entry.due_at),
        state,
        failedAt: date(entry.failed_at),
        error: typeof entry.error === 'string' ? entry.error : null,
      })
    }
  }
  return out
}

/** The pending and failed notifications of the session document and of its feedback documents. */
async function loadNotifications(collections: SessionCollections, sessionId: string): Promise<ViewNotification[]> {
  const projection = { outbox: 1, outbox_failed: 1 }
  const [session, feedbackDocs] = await Promise.all([
    collections.sessions.findOne({ _id: sessionId }, { projection }),
    collections.feedback
      .find({ session_id: sessionId }, { projection })
      .sort({ session_id: 1, _id: 1 })
      .limit(MAX_ENTRIES)
      .toArray(),
  ])
  return [
    ...(session ? entries('session', sessionId, session) : []),
    ...feedbackDocs.flatMap((doc) => entries('feedback', doc._id, doc)),
  ]
}

async function guardrailEventViews(collections: SessionCollections, sessionId: string): Promise<GuardrailEventView[]> {
  const page = await loadGuardrailEvents(collections, sessionId, { limit: MAX_ENTRIES })
  return page.items.map((event) => ({
    id: event.id,
    agentId: event.agentId,
    action: event.action,
    stopReason: event.stopReason,
    // Sealed in encrypted sessions: the viewer holds no key.
    policiesTriggered: redactSealed(event.policiesTriggered as unknown) as GuardrailEventView['policiesTriggered'],
    messageSeq: event.messageSeq,
    createdAt: event.createdAt,
  }))
}

/** The session page's data, or `null` when there is no such session (or it is expired). */
export async function loadSessionView(collections: SessionCollections, sessionId: string): Promise<SessionView | null> {
  const session = await loadSessionDocument(collections, sessionId)
  if (!session) return null
  const [agents, feedback, metrics, guardrailEvents, notifications] = await Promise.all([
    // The captured system prompt is sealed in encrypted sessions.
    loadAgents(collections, sessionId).then(redactSealed),
    loadFeedbackPage(collections, sessionId, { limit: MAX_ENTRIES }),
    loadMetricsSummary(collections, sessionId),
    guardrailEventViews(collections, sessionId),
    loadNotifications(collections, sessionId),
  ])
  const messages: ViewMessage[] = []
  let messagesTruncated = false
  for await (const m of readTranscript(collections, session, sessionId)) {
    if (messages.length === MAX_MESSAGES) {
      messagesTruncated = true
      break
    }
    messages.push({
      agentId: m.agentId,
      seq: m.seq,
      active: m.active,
      createdAt: m.createdAt,
      role: m.message.role,
      blocks: viewBlocks(m.message.content),
      invocationMetrics: m.invocationMetrics,
    })
  }
  return {
    sessionId,
    applicationName: session.application_name ?? null,
    createdAt: session.created_at,
    updatedAt: session.updated_at,
    metadata: decodeForDisplay(session.metadata ?? {}),
    agents,
    feedbackCounts: { up: 0, down: 0, neutral: 0, ...session.feedback_counts },
    feedback: displayFeedback(feedback.items),
    feedbackTruncated: feedback.nextCursor !== null,
    metrics,
    messages,
    messagesTruncated,
    guardrailEvents,
    notifications,
  }
}
