/**
 * Identity of notifications: UUIDv7 event ids (time-ordered, usable as FIFO deduplication ids) and
 * the step that turns a hook's {@link NotificationRequest} into a {@link Notification}.
 */
import { v7 } from 'uuid'
import type { Notification, NotificationRequest } from '../model/types.js'

/** A new UUIDv7 event id: time-ordered, and increasing within this process (usable as a FIFO deduplication id). */
export function newEventId(now?: number): string {
  return now === undefined ? v7() : v7({ msecs: now })
}

/** Gives a hook's request its identity: a fresh event id, the session id, the creation time, 0 attempts. */
export function createNotification(
  sessionId: string,
  request: NotificationRequest,
  now: Date = new Date(),
): Notification {
  return {
    eventId: newEventId(now.getTime()),
    sessionId,
    channel: request.channel,
    target: request.target,
    payload: request.payload,
    createdAt: now,
    attempts: 0,
  }
}
