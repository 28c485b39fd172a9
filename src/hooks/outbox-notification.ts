/**
 * Identity of notifications: UUIDv7 event ids (time-ordered, usable as FIFO deduplication ids) and
 * the step that turns a hook's {@link NotificationRequest} into a {@link Notification}.
 */
import { randomBytes } from 'node:crypto'
import type { Notification, NotificationRequest } from './types.js'

let lastMs = 0
let sequence = 0

/**
 * A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter that keeps ids created in
 * the same millisecond by this process in creation order, then random bits.
 */
export function newEventId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now
    sequence = randomBytes(2).readUInt16BE(0) & 0x3ff
  } else {
    sequence += 1
    if (sequence > 0xfff) {
      lastMs += 1
      sequence = 0
    }
  }
  const bytes = randomBytes(16)
  const ms = lastMs
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff
  bytes[2] = (ms >>> 24) & 0xff
  bytes[3] = (ms >>> 16) & 0xff
  bytes[4] = (ms >>> 8) & 0xff
  bytes[5] = ms & 0xff
  bytes[6] = 0x70 | ((sequence >>> 8) & 0x0f)
  bytes[7] = sequence & 0xff
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
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
