/**
 * What a metadata hook call announces: the shared step of the SQS and WebSocket hooks that turns
 * `(action, args)` into an event body (or nothing), plus the once-per-process warning about
 * propagating every field.
 */
import { ConfigurationError } from '../errors.js'
import { log } from '../logging.js'
import type { MetadataAction, MetadataHookArgs } from '../hooks/types.js'
import { buildMetadataEvent, deletedKeysAsNull, serializeMetadataEvent } from './metadata-event.js'

/** The JSON text to send for this call, or `undefined` (a `get`, or no listed field changed). */
export function metadataEventText(
  sessionId: string,
  action: MetadataAction,
  args: MetadataHookArgs[MetadataAction],
  fields: readonly string[] | undefined,
): string | undefined {
  let body
  if (action === 'update') {
    const { metadata } = args as MetadataHookArgs['update']
    body = buildMetadataEvent({ sessionId, operation: 'update', changes: metadata ?? {}, fields })
  } else if (action === 'delete') {
    const { keys } = args as MetadataHookArgs['delete']
    body = buildMetadataEvent({ sessionId, operation: 'delete', changes: deletedKeysAsNull(keys ?? []), fields })
  }
  return body ? serializeMetadataEvent(body) : undefined
}

const warned = new Set<string>()

/**
 * Validates `metadataFields` (a list of non-empty strings, or undefined) and, when it is undefined,
 * warns once per process and hook kind that every field will be propagated (the seed advises against it).
 */
export function checkMetadataFields(
  fields: readonly string[] | undefined,
  hook: string,
): readonly string[] | undefined {
  if (fields === undefined) {
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
  return [...fields]
}
