/**
 * Reading channel payloads back (they may come from a stored outbox entry written by another
 * version of the process): a malformed payload is a permanent error, never retried.
 */
import { ConfigurationError, MongoSessionError } from '../errors.js'
import type { Notification } from '../model/types.js'

/** A notification's payload lacks what its channel needs. Permanent: retrying cannot fix it. */
export class InvalidNotificationError extends MongoSessionError {
  override readonly name = 'InvalidNotificationError'

  constructor(notification: Notification, detail: string) {
    super('MSM_NOTIFICATION', `${notification.channel} notification ${notification.eventId}: ${detail}`)
  }
}

/** `payload[key]` as a string, or an {@link InvalidNotificationError}. */
export function payloadString(notification: Notification, key: string): string {
  const value = notification.payload[key]
  if (typeof value !== 'string') throw new InvalidNotificationError(notification, `payload '${key}' is not a string`)
  return value
}

/** `payload[key]` as a string → string map (message attributes), or an {@link InvalidNotificationError}. */
export function payloadAttributes(notification: Notification, key: string): Record<string, string> {
  const value = notification.payload[key]
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidNotificationError(notification, `payload '${key}' is not an object`)
  }
  const result: Record<string, string> = {}
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new InvalidNotificationError(notification, `attribute '${name}' is not a string`)
    result[name] = v
  }
  return result
}

/** AWS `MessageAttributes` (all `String`) from a name → value map. */
export function stringAttributes(
  attributes: Record<string, string>,
): Record<string, { DataType: 'String'; StringValue: string }> {
  const result: Record<string, { DataType: 'String'; StringValue: string }> = {}
  for (const [name, value] of Object.entries(attributes)) result[name] = { DataType: 'String', StringValue: value }
  return result
}

/** `true` for errors of this library's own making that no retry can fix (bad payload, bad target, missing package). */
export function isInvalidNotification(error: unknown): boolean {
  return error instanceof InvalidNotificationError || error instanceof ConfigurationError
}

/** The attribute carrying the event id, added by the senders when the payload asks for it. */
export const EVENT_ID_ATTRIBUTE = 'event_id'

/** The payload's attributes plus `event_id` when `payload.event_id_attribute` is `true`. */
export function attributesWithEventId(notification: Notification): Record<string, string> {
  const attributes = payloadAttributes(notification, 'attributes')
  if (notification.payload.event_id_attribute === true) attributes[EVENT_ID_ATTRIBUTE] = notification.eventId
  return attributes
}
