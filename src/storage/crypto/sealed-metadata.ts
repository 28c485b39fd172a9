/**
 * Session metadata with encryption on: every leaf value is sealed on its own, under its escaped path,
 * and keys stay in clear.
 *
 * Leaves, not whole top-level values, because metadata updates address nested fields: `$set` of
 * `metadata.customer.tier` must keep working (a sealed `customer` would make the path unwritable),
 * and a dotted-key update and an object update that reach the same field seal it under the same
 * place. Objects are walked; anything else (strings, numbers, booleans, null, lists, dates, bytes) is
 * a leaf. Values at or under a declared field (`metadataFields`) stay in clear, so listings can
 * filter on them and their indexes serve.
 */
import { isSealed, open, seal } from './cipher.js'
import { defineOwn, isPlainObject } from '../../model/objects.js'

/** What sealing one session's metadata needs. */
export interface MetadataSealing {
  key: Buffer
  sessionId: string
  /** Escaped path segments of the declared fields, kept in clear. */
  clearPaths: readonly (readonly string[])[]
}

function place(segments: readonly string[]): string {
  // Escaped segments hold no '.', so the joined path names one field.
  return `metadata/${segments.join('.')}`
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment)
}

/** A copy of `encoded` (the stored form of the value at `segments`) with every leaf outside declared fields sealed. */
export function sealMetadataValue(sealing: MetadataSealing, segments: readonly string[], encoded: unknown): unknown {
  if (sealing.clearPaths.some((clear) => startsWith(segments, clear))) return encoded
  if (isPlainObject(encoded)) {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(encoded)) {
      defineOwn(out, key, sealMetadataValue(sealing, [...segments, key], value))
    }
    return out
  }
  return seal(sealing.key, encoded, { sessionId: sealing.sessionId, place: place(segments) })
}

/** Whether stored metadata holds a sealed value (so reading it needs the session's key). */
export function hasSealedMetadata(stored: unknown): boolean {
  if (isSealed(stored)) return true
  return isPlainObject(stored) && Object.values(stored).some(hasSealedMetadata)
}

/**
 * Stored metadata with every sealed leaf opened (their stored form, ready for `decodeValue`). Throws
 * `DecryptionError` for a sealed leaf that does not open under `key` (or when `key` is `null`).
 */
export function openMetadata(key: Buffer | null, sessionId: string, stored: unknown, segments: string[] = []): unknown {
  if (isSealed(stored)) return open(key, stored, { sessionId, place: place(segments) })
  if (!isPlainObject(stored)) return stored
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(stored)) {
    defineOwn(out, name, openMetadata(key, sessionId, value, [...segments, name]))
  }
  return out
}
