/**
 * What a metadata hook call announces: the shared step of the SQS and WebSocket hooks that turns
 * `(action, args)` into an event body (or nothing), plus the once-per-process warning about
 * propagating every field.
 */
import { ConfigurationError } from '../errors.js'
import { log } from '../logging.js'
import type { MetadataAction, MetadataHookArgs } from '../model/types.js'
import {
  buildMetadataEvent,
  deletedKeysAsNull,
  serializeMetadataEvent,
  type TimestampFormat,
} from './metadata-event.js'

/** The JSON text to send for this call, or `undefined` (a `get`, or no listed field changed). */
export function metadataEventText(
  sessionId: string,
  action: MetadataAction,
  args: MetadataHookArgs[MetadataAction],
  fields: readonly string[] | undefined,
  timestampFormat: TimestampFormat = 'iso-utc',
): string | undefined {
  let body
  if (action === 'update') {
    const { metadata } = args as MetadataHookArgs['update']
    body = buildMetadataEvent({ sessionId, operation: 'update', changes: metadata ?? {}, fields, timestampFormat })
  } else if (action === 'delete') {
    const { keys } = args as MetadataHookArgs['delete']
    const changes = deletedKeysAsNull(keys ?? [])
    body = buildMetadataEvent({ sessionId, operation: 'delete', changes, fields, timestampFormat })
  }
  return body ? serializeMetadataEvent(body) : undefined
}

const warned = new Set<string>()

/**
 * Validates `metadataFields`: a non-empty list of non-empty strings, or `undefined`/`null` for every
 * field — then it warns once per process and hook kind that every field will be propagated (listing
 * only what consumers need is the advice). An empty list is refused: it would send nothing, and in
 * the Python version it meant every field.
 */
export function checkMetadataFields(
  fields: readonly string[] | null | undefined,
  hook: string,
): readonly string[] | undefined {
  if (fields === undefined || fields === null) {
    if (!warned.has(hook)) {
      warned.add(hook)
      log.warn(
        { hook },
        'metadataFields is not set: every metadata field will be propagated; list only the fields consumers need',
      )
    }
    return undefined
  }
  if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string' || f === '')) {
    throw new ConfigurationError(`${hook}: metadataFields must be a list of non-empty field names`)
  }
  if (fields.length === 0) {
    throw new ConfigurationError(
      `${hook}: metadataFields is empty, so no change would ever be sent; list the fields to propagate, or ` +
        'leave it undefined (or null) for every field (an empty list meant every field in the Python version)',
    )
  }
  return [...fields]
}
