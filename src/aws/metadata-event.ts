/**
 * The metadata change event shared by the SQS and WebSocket hooks, as a pure function.
 *
 * Wire format (exact):
 * `{ "session_id", "event": "metadata_update", "operation": "update"|"delete", "metadata", "timestamp" }`
 * with only the listed fields, deleted keys as `null`, Dates as ISO strings, and the timestamp by
 * default in ISO 8601 UTC with milliseconds (`2024-01-26T10:30:45.123Z`); see {@link TimestampFormat}
 * for the Python version's forms.
 */
import { ConfigurationError } from '../errors.js'
import type { Metadata, MetadataValue } from '../model/types.js'
import { defineOwn } from '../model/objects.js'

/** The `event` value and attribute of every metadata message. */
export const METADATA_EVENT_NAME = 'metadata_update'

/** `update` for `updateMetadata`, `delete` for `deleteMetadata`. */
export type MetadataOperation = 'update' | 'delete'

/**
 * How the event's `timestamp` is written:
 * - `'iso-utc'` (default): `2024-01-26T10:30:45.123Z`, unambiguous everywhere;
 * - `'python'`: `2024-01-26T10:30:45.123000`, Python's `datetime.isoformat()` of a naive datetime, as
 *   the Python version's documentation shows it: UTC wall-clock time without an offset, microseconds
 *   (the last three digits always `000`), no fraction at all when it is zero. JavaScript's `Date`
 *   reads a string without an offset as local time;
 * - `'python-utc'`: `2024-01-26T10:30:45.123000+00:00`, `isoformat()` of an aware UTC datetime.
 */
export type TimestampFormat = 'iso-utc' | 'python' | 'python-utc'

const TIMESTAMP_FORMATS: readonly TimestampFormat[] = ['iso-utc', 'python', 'python-utc']

/** `date` written in `format` (see {@link TimestampFormat}). */
export function formatEventTimestamp(date: Date, format: TimestampFormat = 'iso-utc'): string {
  const iso = date.toISOString()
  if (format === 'iso-utc') return iso
  const ms = date.getUTCMilliseconds()
  const naive = iso.slice(0, 19) + (ms === 0 ? '' : `.${String(ms).padStart(3, '0')}000`)
  return format === 'python' ? naive : `${naive}+00:00`
}

/** Validates a `timestampFormat` option (undefined → `'iso-utc'`). */
export function checkTimestampFormat(value: unknown, factory: string): TimestampFormat {
  if (value === undefined) return 'iso-utc'
  if (TIMESTAMP_FORMATS.includes(value as TimestampFormat)) return value as TimestampFormat
  throw new ConfigurationError(
    `${factory}: timestampFormat must be 'iso-utc', 'python' or 'python-utc', got ${JSON.stringify(value)}`,
  )
}

/** The JSON body sent to SQS and WebSocket connections. */
export interface MetadataEventBody {
  session_id: string
  event: typeof METADATA_EVENT_NAME
  operation: MetadataOperation
  metadata: Record<string, unknown>
  timestamp: string
}

/**
 * Keeps the listed top-level fields of `changes` (all of them when `fields` is undefined). Returns
 * `undefined` when nothing is left: no message is sent for a change no listed field is part of.
 */
export function filterMetadataFields(
  changes: Record<string, MetadataValue>,
  fields: readonly string[] | undefined,
): Record<string, MetadataValue> | undefined {
  const keys = Object.keys(changes).filter((key) => changes[key] !== undefined)
  const kept = fields === undefined ? keys : keys.filter((key) => fields.includes(key))
  if (kept.length === 0) return undefined
  const result: Record<string, MetadataValue> = {}
  for (const key of kept) defineOwn(result, key, changes[key] as MetadataValue)
  return result
}

/** The changes a delete announces: each deleted key with a `null` value. */
export function deletedKeysAsNull(keys: readonly string[]): Metadata {
  const result: Metadata = {}
  for (const key of keys) defineOwn(result, key, null)
  return result
}

/**
 * Builds the event body for a change, or `undefined` when no listed field changed.
 * Dates serialise as ISO strings (their `toJSON`); the body is plain JSON.
 */
export function buildMetadataEvent(input: {
  sessionId: string
  operation: MetadataOperation
  changes: Metadata
  fields: readonly string[] | undefined
  now?: Date
  timestampFormat?: TimestampFormat
}): MetadataEventBody | undefined {
  const metadata = filterMetadataFields(input.changes, input.fields)
  if (!metadata) return undefined
  return {
    session_id: input.sessionId,
    event: METADATA_EVENT_NAME,
    operation: input.operation,
    metadata: JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>,
    timestamp: formatEventTimestamp(input.now ?? new Date(), input.timestampFormat),
  }
}

/** The exact text sent: keys in the documented order. */
export function serializeMetadataEvent(body: MetadataEventBody): string {
  return JSON.stringify({
    session_id: body.session_id,
    event: body.event,
    operation: body.operation,
    metadata: body.metadata,
    timestamp: body.timestamp,
  })
}
