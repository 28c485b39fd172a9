/**
 * Reversible encoding of user JSON into BSON that every supported engine stores faithfully.
 *
 * Why: tool inputs, tool results, app state and metadata values are arbitrary JSON chosen by users
 * or models. MongoDB would read a key starting with `$` as an operator and a key containing `.` as a
 * path; FerretDB also rejects nested arrays and NUL characters. Storing such data as a JSON string
 * would make it unqueryable, so instead only the troublesome parts are escaped:
 *
 * - object keys: `%` → `%25`, `.` → `%2E`, `$` → `%24`, NUL → `%00`; the empty key → `%`;
 *   names of `Object.prototype` members (`constructor`, `__proto__`, `toString`…) get a `%P` prefix:
 *   the BSON library reads documents under such keys back as raw bytes;
 *   After escaping, no key starts with `%` followed by a letter, so keys `%a`, `%s`, `%j` are free
 *   to mark the wrappers below;
 * - an array directly inside an array → `{ '%a': [...] }`;
 * - a string containing NUL → `{ '%s': Binary(utf-8) }`;
 * - a subtree nested deeper than {@link MAX_NATIVE_DEPTH} → `{ '%j': '<JSON text>' }`, keeping
 *   far below BSON's 100-level limit;
 * - `Uint8Array` → BSON Binary; `Date` stays a BSON date; `undefined` is dropped as JSON drops it.
 *
 * Decoding reverses every rule, so `decodeValue(encodeValue(x))` deep-equals `x` for any JSON value.
 */
import { Binary } from 'mongodb'

/** Depth (objects and arrays) kept as native BSON; deeper subtrees are stored as JSON text. */
export const MAX_NATIVE_DEPTH = 40

const ARRAY_WRAPPER = '%a'
const NUL_STRING_WRAPPER = '%s'
const JSON_WRAPPER = '%j'

/** Keys the BSON deserializer mishandles (it looks them up on a plain object). */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype))

export function escapeKey(key: string): string {
  if (key === '') return '%'
  if (PROTOTYPE_NAMES.has(key)) return `%P${key}`
  // Fast path: most keys need nothing.
  if (!/[%.$\u0000]/.test(key)) return key
  return key.replace(/[%.$\u0000]/g, (c) => {
    switch (c) {
      case '%':
        return '%25'
      case '.':
        return '%2E'
      case '$':
        return '%24'
      default:
        return '%00'
    }
  })
}

export function unescapeKey(key: string): string {
  if (key === '%') return ''
  if (!key.includes('%')) return key
  if (key.startsWith('%P')) return key.slice(2)
  return key.replace(/%(25|2E|24|00)/g, (_, code: string) => {
    switch (code) {
      case '25':
        return '%'
      case '2E':
        return '.'
      case '24':
        return '$'
      default:
        return '\u0000'
    }
  })
}

/** Encodes a JSON-like value for storage. */
export function encodeValue(value: unknown): unknown {
  return encode(value, 0, false)
}

function encode(value: unknown, depth: number, insideArray: boolean): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value
  if (typeof value === 'string') {
    return value.includes('\u0000') ? { [NUL_STRING_WRAPPER]: new Binary(Buffer.from(value, 'utf8')) } : value
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
    if (only === NUL_STRING_WRAPPER && record[only] instanceof Binary) {
      return Buffer.from((record[only] as Binary).buffer).toString('utf8')
    }
    if (only === JSON_WRAPPER && typeof record[only] === 'string') return JSON.parse(record[only] as string)
  }
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    defineOwn(out, unescapeKey(key), decode(record[key], binary))
  }
  return out
}

/** Sets an own property even for the key "__proto__", which plain assignment would treat as the prototype. */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}
