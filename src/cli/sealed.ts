/**
 * Encrypted values as the CLI and the viewer show them. Neither holds a key, so a value sealed at
 * rest (a BSON Binary of the sealed subtype) is replaced, wherever it sits in a stored document, by
 * a marker: `{ "$encrypted": true }` in JSON, `[encrypted]` in text. The ciphertext itself (bytes,
 * base64) is never printed or served.
 *
 * The library's decoder leaves a sealed value as it is stored (a Binary of the sealed subtype), so
 * the marker can replace it before or after decoding; `decodeForDisplay` does both steps at once.
 */
import { Binary } from 'mongodb'
import { decodeValue, type DecodeOptions } from '../storage/encoding.js'
import { isSealed } from '../storage/crypto/cipher.js'
import { defineOwn, isPlainObject } from '../model/objects.js'

/** What a sealed value becomes in JSON output and in the viewer's API. */
export interface EncryptedValue {
  $encrypted: true
}

/** What a sealed value becomes in text output. */
export const ENCRYPTED_TEXT = '[encrypted]'

/** A fresh marker (never shared: callers may serialise or extend the object they get). */
export function encryptedValue(): EncryptedValue {
  return { $encrypted: true }
}

export function isEncryptedValue(value: unknown): value is EncryptedValue {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    (value as Record<string, unknown>).$encrypted === true
  )
}

/**
 * `value` (a stored value or document, at any depth) with every sealed Binary replaced by
 * `{ $encrypted: true }`. Other values (dates, plain Binaries, ids) are kept as they are; a value
 * without sealed parts comes back unchanged (the same object).
 */
export function redactSealed<T>(value: T): T {
  return redact(value) as T
}

function redact(value: unknown): unknown {
  if (isSealed(value)) return encryptedValue()
  if (value instanceof Binary || value instanceof Date) return value
  if (Array.isArray(value)) {
    let changed = false
    const out = value.map((item) => {
      const next = redact(item)
      if (next !== item) changed = true
      return next
    })
    return changed ? out : value
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | undefined
    for (const key of Object.keys(value)) {
      const item = value[key]
      const next = redact(item)
      if (next !== item) {
        out ??= copy(value)
        defineOwn(out, key, next)
      }
    }
    return out ?? value
  }
  return value
}

function copy(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    defineOwn(out, key, value[key])
  }
  return out
}

/** Decodes a stored value like the library does, sealed parts as `{ $encrypted: true }`. */
export function decodeForDisplay(value: unknown, options: DecodeOptions = {}): unknown {
  return decodeValue(redact(value), options)
}

/** JSON text of a value for humans: encryption markers as `"[encrypted]"`. */
export function displayJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, item: unknown) => (isEncryptedValue(item) ? ENCRYPTED_TEXT : item), space) ?? ''
}

/** A stored string shown as text: `[encrypted]` for a sealed (or already redacted) value. */
export function displayText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (isSealed(value) || isEncryptedValue(value)) return ENCRYPTED_TEXT
  return displayJson(value)
}
