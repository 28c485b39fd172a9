/**
 * Reversible encoding of user JSON into BSON that every supported engine stores faithfully.
 *
 * Why: tool inputs, tool results, app state and metadata values are arbitrary JSON chosen by users
 * or models. MongoDB would read a key starting with `$` as an operator and a key containing `.` as a
 * path; BSON keys cannot hold NUL; FerretDB rejects nested arrays; and BSON strings are UTF-8, which
 * has no form for a lone UTF-16 surrogate (the driver would store U+FFFD instead). Storing such data
 * as a JSON string would make it unqueryable, so instead only the troublesome parts are escaped:
 *
 * - object keys: `%` → `%25`, `.` → `%2E`, `$` → `%24`, NUL → `%00`, a lone surrogate → `%u` and
 *   its four hex digits (`%uD800`); the empty key → `%`;
 *   names of `Object.prototype` members (`constructor`, `__proto__`, `toString`…) get a `%P` prefix:
 *   the BSON library reads documents under such keys back as raw bytes;
 *   after escaping, the only keys made of `%` and one letter are the wrappers below;
 * - an array directly inside an array → `{ '%a': [...] }`;
 * - a string holding a lone surrogate → `{ '%j': '<JSON text>' }` (JSON escapes it as `\ud800`);
 * - a subtree nested deeper than {@link MAX_NATIVE_DEPTH} → `{ '%j': '<JSON text>' }`, keeping
 *   far below BSON's 100-level limit;
 * - `Uint8Array` → BSON Binary; `Date` stays a BSON date; `undefined` is dropped as JSON drops it.
 *
 * Strings with NUL characters stay strings: BSON strings carry their length, and every supported
 * engine stores them as given.
 *
 * Decoding reverses every rule, so `decodeValue(encodeValue(x))` deep-equals `x` for any JSON value.
 */
import { Binary } from 'mongodb'
import { hasLoneSurrogate, LONE_SURROGATE } from '../validation/text.js'
import { isSealed } from './crypto/cipher.js'
import { defineOwn } from '../model/objects.js'

/** Depth (objects and arrays) kept as native BSON; deeper subtrees are stored as JSON text. */
export const MAX_NATIVE_DEPTH = 40

const ARRAY_WRAPPER = '%a'
const JSON_WRAPPER = '%j'

/** Keys the BSON deserializer mishandles (it looks them up on a plain object). */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype))

/** Characters a stored key may not hold as they are. */
const KEY_ESCAPES = new RegExp(`[%.$\\u0000]|${LONE_SURROGATE.source}`, 'g')
const KEY_UNESCAPES = /%(25|2E|24|00|u[0-9A-F]{4})/g

function escapeChar(char: string): string {
  switch (char) {
    case '%':
      return '%25'
    case '.':
      return '%2E'
    case '$':
      return '%24'
    case '\u0000':
      return '%00'
    default:
      return `%u${char.charCodeAt(0).toString(16).toUpperCase()}`
  }
}

function unescapeCode(code: string): string {
  switch (code) {
    case '25':
      return '%'
    case '2E':
      return '.'
    case '24':
      return '$'
    case '00':
      return '\u0000'
    default:
      return String.fromCharCode(Number.parseInt(code.slice(1), 16))
  }
}

export function escapeKey(key: string): string {
  if (key === '') return '%'
  if (PROTOTYPE_NAMES.has(key)) return `%P${key}`
  return key.replace(KEY_ESCAPES, escapeChar)
}

export function unescapeKey(key: string): string {
  if (key === '%') return ''
  if (key.startsWith('%P')) return key.slice(2)
  return key.replace(KEY_UNESCAPES, (_, code: string) => unescapeCode(code))
}

/** Encodes a JSON-like value for storage. */
export function encodeValue(value: unknown): unknown {
  return encode(value, 0, false)
}

function encode(value: unknown, depth: number, insideArray: boolean): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value
  if (typeof value === 'string') {
    return hasLoneSurrogate(value) ? { [JSON_WRAPPER]: JSON.stringify(value) } : value
  }
  if (value === undefined) return null
  if (value instanceof Date || value instanceof Binary) return value
  if (value instanceof Uint8Array) return new Binary(value)
  if (typeof value !== 'object') {
    throw new TypeError(`cannot store a value of type ${typeof value}`)
  }
  if (depth >= MAX_NATIVE_DEPTH) {
    return { [JSON_WRAPPER]: JSON.stringify(value) }
  }
  if (Array.isArray(value)) {
    const encoded = value.map((item) => encode(item, depth + 1, true))
    return insideArray ? { [ARRAY_WRAPPER]: encoded } : encoded
  }
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
    defineOwn(out, escapeKey(key), encode(item, depth + 1, false))
  }
  return out
}

export interface DecodeOptions {
  /** How BSON Binary values come back: raw bytes (default) or a base64 string (the SDK's JSON form of media). */
  binary?: 'bytes' | 'base64'
}

/** Reverses {@link encodeValue}. */
export function decodeValue(value: unknown, options: DecodeOptions = {}): unknown {
  return decode(value, options.binary ?? 'bytes')
}

function decode(value: unknown, binary: 'bytes' | 'base64'): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Date) return value
  // A sealed value that was not opened (a reader without the key) stays recognisable as sealed.
  if (isSealed(value)) return value
  if (value instanceof Binary) {
    const bytes = value.buffer
    return binary === 'base64' ? Buffer.from(bytes).toString('base64') : new Uint8Array(bytes)
  }
  if (Array.isArray(value)) return value.map((item) => decode(item, binary))
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length === 1) {
    const only = keys[0]!
    if (only === ARRAY_WRAPPER && Array.isArray(record[only])) return decode(record[only], binary)
    if (only === JSON_WRAPPER && typeof record[only] === 'string') return JSON.parse(record[only] as string)
  }
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    defineOwn(out, unescapeKey(key), decode(record[key], binary))
  }
  return out
}
