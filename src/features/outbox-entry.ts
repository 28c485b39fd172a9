/**
 * The stored form of a durable notification (an element of a document's `outbox` array).
 *
 * Shape: `{ event_id, session_id, channel, target, payload, created_at, due_at }`. The payload is
 * user-influenced JSON (metadata keys travel in SQS payloads), so it goes through `encodeValue`
 * like every other user JSON: a key such as `$set` or `a.b` can never reach MongoDB as an operator
 * or a path. Readers (the outbox relay) must `decodeValue` it.
 *
 * Kept in the features layer because the session-data writes are what create entries; the mapping
 * is deliberately tiny so the dispatcher/relay side can adopt or mirror it.
 */
import type { Document } from 'mongodb'
import type { Notification } from '../hooks/types.js'
import { decodeValue, encodeValue } from '../storage/encoding.js'

/** One element of an `outbox` array. */
export interface OutboxEntry {
  event_id: string
  session_id: string
  channel: string
  target: string
  /** Encoded with `encodeValue`. */
  payload: Document
  created_at: Date
  /** When the entry becomes eligible for (re)delivery by a relay. */
  due_at: Date
}

/** Maps a notification to its stored outbox entry (due immediately). */
export function toOutboxEntry(notification: Notification): OutboxEntry {
  return {
    event_id: notification.eventId,
    session_id: notification.sessionId,
    channel: notification.channel,
    target: notification.target,
    payload: encodeValue(notification.payload) as Document,
    created_at: notification.createdAt,
    due_at: notification.createdAt,
  }
}

/** Reverses {@link toOutboxEntry} (attempts restart at 0: the stored entry does not count them). */
export function fromOutboxEntry(entry: OutboxEntry): Notification {
  return {
    eventId: entry.event_id,
    sessionId: entry.session_id,
    channel: entry.channel,
    target: entry.target,
    payload: decodeValue(entry.payload) as Record<string, unknown>,
    createdAt: entry.created_at,
    attempts: 0,
  }
}
