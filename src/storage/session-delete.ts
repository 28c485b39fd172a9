/**
 * Deleting sessions: every document of the given sessions, in every collection, with one bulk
 * delete per collection (never one key at a time). The session documents go last, so an
 * interrupted delete leaves a session that can be found and deleted again.
 */
import type { SessionCollections } from './collections.js'

export interface DeletedCounts {
  sessions: number
  messages: number
  snapshots: number
  snapshotChunks: number
  feedback: number
  guardrailEvents: number
  storage: number
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export async function deleteSessionData(
  collections: SessionCollections,
  sessionIds: readonly string[],
): Promise<DeletedCounts> {
  const ids = [...sessionIds]
  if (ids.length === 0) {
    return { sessions: 0, messages: 0, snapshots: 0, snapshotChunks: 0, feedback: 0, guardrailEvents: 0, storage: 0 }
  }
  const bySession = { session_id: { $in: ids } }
  const [messages, snapshotChunks, feedback, guardrailEvents] = await Promise.all([
    collections.messages.deleteMany(bySession),
    collections.snapshotChunks.deleteMany(bySession),
    collections.feedback.deleteMany(bySession),
    collections.guardrailEvents.deleteMany(bySession),
  ])
  const snapshots = await collections.snapshots.deleteMany(bySession)
  // MongoStorage keys the SDK writes for a session live under `session/<id>/`.
  const storage = await collections.storage.deleteMany({
    _id: { $regex: `^session/(${ids.map(escapeRegex).join('|')})/` },
  })
  const sessions = await collections.sessions.deleteMany({ _id: { $in: ids } })
  return {
    sessions: sessions.deletedCount,
    messages: messages.deletedCount,
    snapshots: snapshots.deletedCount,
    snapshotChunks: snapshotChunks.deletedCount,
    feedback: feedback.deletedCount,
    guardrailEvents: guardrailEvents.deletedCount,
    storage: storage.deletedCount,
  }
}
