/**
 * Validation of session metadata: keys (dotted paths) and values (JSON, Dates allowed).
 *
 * Why so strict: metadata keys become MongoDB update paths (`metadata.<segment>.<segment>`). A
 * segment that starts with `$` would be read as an operator, an empty segment is an invalid path,
 * and `__proto__`/`constructor`/`prototype` invite prototype pollution in consumers that merge
 * metadata into objects. Values must survive a JSON round trip (plus Dates) so that notifications,
 * the metadata tool and the stored document all agree on what was saved. Keys and strings must be
 * storable exactly: no NUL in keys (BSON field names are C strings) and no lone surrogates anywhere
 * (UTF-8 cannot encode them; the driver would store U+FFFD instead).
 *
 * Every check runs before anything is sent to MongoDB: invalid input throws a
 * {@link ValidationError} naming the key, and nothing is written.
 */
import { ValidationError } from '../errors.js'
import type { Metadata, MetadataValue } from '../model/types.js'
import { hasLoneSurrogate } from './text.js'
import { isPlainObject } from '../model/objects.js'

/** Limits applied to metadata. Exported so docs, tests and callers share one source of truth. */
export const METADATA_LIMITS = {
  /** Longest key segment (between dots), in characters. */
  maxSegmentLength: 256,
  /**
   * Deepest nesting: the number of path segments of the key plus the nesting depth of its value.
   * `{ a: { b: [1] } }` has depth 3 (a, b, the array); `{ 'a.b': 1 }` has depth 2.
   */
  maxDepth: 10,
  /** Keys per `updateMetadata` / `deleteMetadata` / `getMetadata` call. */
  maxKeysPerCall: 200,
  /** Size of one update as UTF-8 JSON. */
  maxUpdateBytes: 64 * 1024,
  /** Size of the session's whole metadata object as UTF-8 JSON after an update (checked before writing). */
  maxTotalBytes: 1024 * 1024,
} as const

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype'])
/** Unicode whitespace (JS `\s` plus U+0085, which Go's `unicode.IsSpace` also trims). */
const EDGE_WHITESPACE = /^[\s\u0085]|[\s\u0085]$/

/** A validated key: its dotted form and its segments. */
export interface MetadataPath {
  key: string
  segments: string[]
}

function describeKey(key: string): string {
  return JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)
}

/** Checks one segment of a key path (also used for keys nested inside values). */
function checkSegment(segment: string, key: string): void {
  if (segment.length === 0) {
    throw new ValidationError(`metadata key ${describeKey(key)} has an empty segment`, { field: key })
  }
  if (segment.startsWith('$')) {
    throw new ValidationError(`metadata key ${describeKey(key)}: a segment may not start with '$'`, { field: key })
  }
  if (segment.includes('\u0000')) {
    throw new ValidationError(`metadata key ${describeKey(key)} contains a NUL character`, { field: key })
  }
  if (hasLoneSurrogate(segment)) {
    throw new ValidationError(`metadata key ${describeKey(key)} contains a lone surrogate (not valid Unicode)`, {
      field: key,
    })
  }
  // FerretDB 1.24 trims update-path segments and then refuses them as empty field names; MongoDB
  // accepts them. Refusing them everywhere keeps behaviour identical across engines.
  if (EDGE_WHITESPACE.test(segment)) {
    throw new ValidationError(`metadata key ${describeKey(key)}: a segment may not start or end with whitespace`, {
      field: key,
    })
  }
  if (FORBIDDEN_SEGMENTS.has(segment)) {
    throw new ValidationError(`metadata key ${describeKey(key)}: '${segment}' is not allowed as a key`, { field: key })
  }
  if (segment.length > METADATA_LIMITS.maxSegmentLength) {
    throw new ValidationError(
      `metadata key ${describeKey(key)}: segments are limited to ${METADATA_LIMITS.maxSegmentLength} characters`,
      { field: key },
    )
  }
}

/**
 * Validates a metadata key. A dot separates path segments: `customer.tier` addresses the `tier`
 * field inside the `customer` object.
 */
export function validateMetadataKey(key: unknown): MetadataPath {
  if (typeof key !== 'string') {
    throw new ValidationError(`metadata keys must be strings, got ${key === null ? 'null' : typeof key}`, {
      field: typeof key === 'number' || typeof key === 'boolean' || key === undefined ? String(key) : typeof key,
    })
  }
  if (key.length === 0) throw new ValidationError('metadata key must not be empty', { field: key })
  const segments = key.split('.')
  for (const segment of segments) checkSegment(segment, key)
  if (segments.length > METADATA_LIMITS.maxDepth) {
    throw new ValidationError(
      `metadata key ${describeKey(key)} is nested deeper than ${METADATA_LIMITS.maxDepth} levels`,
      { field: key },
    )
  }
  return { key, segments }
}

/**
 * Validates a value and returns a detached copy (so later mutation by the caller, or by a hook,
 * cannot change what was validated). `depth` is the depth already used by the key path.
 */
function cloneValue(value: unknown, key: string, depth: number, seen: Set<object>): MetadataValue {
  if (value === null || typeof value === 'boolean') return value
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) {
      throw new ValidationError(
        `metadata key ${describeKey(key)}: the string contains a lone surrogate (not valid Unicode)`,
        {
          field: key,
        },
      )
    }
    return value
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new ValidationError(`metadata key ${describeKey(key)}: ${value} is not a JSON number`, { field: key })
    }
    // JSON has no negative zero (notifications would say 0) and FerretDB stores it as 0: store 0 everywhere.
    return Object.is(value, -0) ? 0 : value
  }
  if (value === undefined) {
    throw new ValidationError(
      `metadata key ${describeKey(key)}: undefined is not allowed (use null, or deleteMetadata to remove a key)`,
      { field: key },
    )
  }
  if (typeof value !== 'object') {
    throw new ValidationError(`metadata key ${describeKey(key)}: a ${typeof value} is not JSON-serialisable`, {
      field: key,
    })
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new ValidationError(`metadata key ${describeKey(key)}: invalid Date`, { field: key })
    }
    return new Date(value.getTime())
  }
  if (depth >= METADATA_LIMITS.maxDepth) {
    throw new ValidationError(
      `metadata key ${describeKey(key)} is nested deeper than ${METADATA_LIMITS.maxDepth} levels`,
      { field: key },
    )
  }
  if (seen.has(value)) {
    throw new ValidationError(`metadata key ${describeKey(key)}: circular reference`, { field: key })
  }
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      const out: MetadataValue[] = []
      for (let i = 0; i < value.length; i++) {
        // A hole reads as undefined and is rejected like undefined.
        out.push(cloneValue(value[i], `${key}[${i}]`, depth + 1, seen))
      }
      return out
    }
    if (!isPlainObject(value)) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
      throw new ValidationError(`metadata key ${describeKey(key)}: a ${name} is not JSON-serialisable`, {
        field: key,
      })
    }
    const out: Record<string, MetadataValue> = {}
    for (const inner of Object.keys(value)) {
      const innerKey = `${key}.${inner}`
      if (inner.includes('.')) {
        throw new ValidationError(
          `metadata key ${describeKey(innerKey)}: keys inside values may not contain '.' (a dot separates path segments)`,
          { field: innerKey },
        )
      }
      checkSegment(inner, innerKey)
      out[inner] = cloneValue((value as Record<string, unknown>)[inner], innerKey, depth + 1, seen)
    }
    return out
  } finally {
    seen.delete(value)
  }
}

/** Validates one value stored under `key` (whose path already uses `pathDepth` levels). */
export function validateMetadataValue(value: unknown, key: string, pathDepth = 1): MetadataValue {
  return cloneValue(value, key, pathDepth, new Set())
}

/** A validated `updateMetadata` argument. */
export interface ValidatedMetadataUpdate {
  /** The detached, validated copy, in the caller's key order. */
  metadata: Metadata
  entries: { path: MetadataPath; value: MetadataValue }[]
  /** Size of the update as UTF-8 JSON. */
  bytes: number
}

function requireRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value)) {
    throw new ValidationError(`${what} must be a plain object`, { field: what })
  }
  return value as Record<string, unknown>
}

/** Rejects two keys where one is the other or a prefix path of it (`a` and `a.b`): MongoDB would refuse the update. */
function rejectOverlaps(paths: MetadataPath[]): void {
  const keys = new Set(paths.map((p) => p.key))
  for (const path of paths) {
    for (let n = 1; n < path.segments.length; n++) {
      const prefix = path.segments.slice(0, n).join('.')
      if (keys.has(prefix)) {
        throw new ValidationError(`metadata keys ${describeKey(prefix)} and ${describeKey(path.key)} overlap`, {
          field: path.key,
        })
      }
    }
  }
}

/** Validates the argument of `updateMetadata`. */
export function validateMetadataUpdate(input: unknown): ValidatedMetadataUpdate {
  const record = requireRecord(input, 'metadata')
  const keys = Object.keys(record)
  if (keys.length > METADATA_LIMITS.maxKeysPerCall) {
    throw new ValidationError(
      `an update may set at most ${METADATA_LIMITS.maxKeysPerCall} metadata keys, got ${keys.length}`,
      { field: 'metadata' },
    )
  }
  const entries: ValidatedMetadataUpdate['entries'] = []
  const metadata: Metadata = {}
  for (const key of keys) {
    const path = validateMetadataKey(key)
    const value = validateMetadataValue(record[key], key, path.segments.length)
    entries.push({ path, value })
    metadata[key] = value
  }
  rejectOverlaps(entries.map((e) => e.path))
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8')
  if (bytes > METADATA_LIMITS.maxUpdateBytes) {
    throw new ValidationError(
      `metadata update is ${bytes} bytes as JSON; at most ${METADATA_LIMITS.maxUpdateBytes} are accepted per call`,
      { field: 'metadata' },
    )
  }
  return { metadata, entries, bytes }
}

/** Validates a list of keys (`deleteMetadata`, `getMetadata`). Duplicates are removed, order kept. */
export function validateMetadataKeys(input: unknown, what = 'keys'): MetadataPath[] {
  if (!Array.isArray(input)) throw new ValidationError(`${what} must be an array of strings`, { field: what })
  if (input.length > METADATA_LIMITS.maxKeysPerCall) {
    throw new ValidationError(`at most ${METADATA_LIMITS.maxKeysPerCall} metadata keys per call, got ${input.length}`, {
      field: what,
    })
  }
  const seen = new Set<string>()
  const out: MetadataPath[] = []
  for (const key of input as unknown[]) {
    const path = validateMetadataKey(key)
    if (seen.has(path.key)) continue
    seen.add(path.key)
    out.push(path)
  }
  return out
}
