/**
 * Reading a session's stored conversation for display and export: every message document of the
 * session (active conversation and retained history), decoded with the library's codec, flagged
 * with whether it is in the agent's active conversation. Encrypted parts read as
 * `{ $encrypted: true }` (the CLI holds no key); an expired session reads as absent, as it does for
 * the library, until the prune removes it.
 */
import type { MessageData } from '@strands-agents/sdk'
import type { Document } from 'mongodb'
import type { SessionCollections } from '../../storage/collections.js'
import { decodeMessage } from '../../storage/message-codec.js'
import { isExpired } from '../../storage/retention.js'
import type { MessageDocument, SeqRange, SessionDocument } from '../../storage/schema.js'
import { decodeForDisplay, redactSealed, type EncryptedValue } from '../sealed.js'

/**
 * A stored message as the CLI can read it: the SDK's JSON form, where an encrypted part (the whole
 * content of a message sealed at rest) is `{ $encrypted: true }`.
 */
export type DisplayMessage = Omit<MessageData, 'content'> & { content: MessageData['content'] | EncryptedValue }

/** One stored message. */
export interface TranscriptMessage {
  agentId: string
  seq: number
  /** In the agent's active conversation (false: trimmed or summarised away, kept as history). */
  active: boolean
  createdAt: Date
  message: DisplayMessage
  /** Per-invocation metrics recorded on an invocation's final assistant message. */
  invocationMetrics: Document | null
}

/**
 * The session document without its delivery bookkeeping, or `null` when there is none or it is
 * expired at `now` (an expired session is absent for every reader until it is pruned).
 */
export async function loadSessionDocument(
  collections: SessionCollections,
  sessionId: string,
  now: Date = new Date(),
): Promise<SessionDocument | null> {
  const doc = await collections.sessions.findOne(
    { _id: sessionId },
    { projection: { outbox: 0, outbox_failed: 0, outbox_lease_until: 0, websocket_connections: 0 } },
  )
  return isExpired(doc, now) ? null : doc
}

/** Whether anything at all is stored for `sessionId` (a session document, or leftovers of a partial delete). */
export async function sessionExists(collections: SessionCollections, sessionId: string): Promise<boolean> {
  const probes = await Promise.all([
    collections.sessions.findOne({ _id: sessionId }, { projection: { _id: 1 } }),
    collections.messages.findOne({ session_id: sessionId }, { projection: { _id: 1 } }),
    collections.feedback.findOne({ session_id: sessionId }, { projection: { _id: 1 } }),
  ])
  return probes.some((doc) => doc !== null)
}

function inRanges(seq: number, ranges: readonly SeqRange[] | undefined): boolean {
  return (ranges ?? []).some((r) => seq >= r.first && seq <= r.last)
}

/** Number of message documents of the session (for progress bars). */
export function countMessages(collections: SessionCollections, sessionId: string): Promise<number> {
  return collections.messages.countDocuments({ session_id: sessionId })
}

/**
 * Streams the session's messages ordered by agent then sequence (the unique index's order).
 * `agentId` restricts to one agent; `activeOnly` skips history.
 */
export async function* readTranscript(
  collections: SessionCollections,
  session: Pick<SessionDocument, '_id' | 'agents'> | null,
  sessionId: string,
  options: { agentId?: string; activeOnly?: boolean } = {},
): AsyncGenerator<TranscriptMessage> {
  const filter: Document = { session_id: sessionId }
  if (options.agentId !== undefined) filter.agent_id = options.agentId
  const cursor = collections.messages
    .find(filter, { projection: { op_id: 0 } })
    .sort({ session_id: 1, agent_id: 1, seq: 1 })
    .batchSize(500)
  try {
    for await (const doc of cursor as AsyncIterable<MessageDocument>) {
      const active = inRanges(doc.seq, session?.agents?.[doc.agent_id]?.ranges)
      if (options.activeOnly && !active) continue
      yield {
        agentId: doc.agent_id,
        seq: doc.seq,
        active,
        createdAt: doc.created_at,
        message: decodeMessage(redactSealed(doc)) as DisplayMessage,
        invocationMetrics: doc.invocation_metrics
          ? (decodeForDisplay(doc.invocation_metrics, { binary: 'base64' }) as Document)
          : null,
      }
    }
  } finally {
    await cursor.close()
  }
}
