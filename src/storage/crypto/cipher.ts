/**
 * Authenticated encryption of stored values under a session's data key: AES-256-GCM from
 * `node:crypto`, a random 96-bit IV per value, a 128-bit tag, and the session id plus the value's
 * place (collection, agent, position, field) as additional authenticated data, so a ciphertext
 * copied to another session or field fails to decrypt instead of reading as something else.
 *
 * A sealed value is a BSON Binary of a user-defined subtype holding version, IV, ciphertext and tag;
 * the ciphertext is the BSON of `{ v: value }`, so the value comes back with its BSON types (Binary
 * media, dates) exactly as an unencrypted read would give them. Any other stored value is returned
 * as is: sessions written before encryption was turned on still read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { Binary, BSON } from 'mongodb'
import { DecryptionError } from '../../errors.js'

/** BSON Binary subtype of sealed values (in the user-defined range 0x80–0xFF). */
export const SEALED_SUBTYPE = 0x8e
const VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16

/** Where a sealed value lives: part of its authenticated data. */
export interface SealContext {
  sessionId: string
  place: string
}

function aad({ sessionId, place }: SealContext): Buffer {
  return Buffer.from(`msm-v1\u0000${sessionId}\u0000${place}`, 'utf8')
}

export function isSealed(value: unknown): value is Binary {
  return value instanceof Binary && value.sub_type === SEALED_SUBTYPE
}

/** Encrypts `value` (already in its stored, BSON-safe form) under `key`. */
export function seal(key: Buffer, value: unknown, context: SealContext): Binary {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad(context))
  const body = Buffer.concat([cipher.update(BSON.serialize({ v: value })), cipher.final()])
  return new Binary(Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]), SEALED_SUBTYPE)
}

/**
 * The value `seal` was given; a value that is not sealed comes back unchanged. Throws
 * {@link DecryptionError} when the value is sealed but there is no key (destroyed, or encryption not
 * configured), or when it fails authentication (tampered, moved, or another key).
 */
export function open(key: Buffer | null, value: unknown, context: SealContext): unknown {
  if (!isSealed(value)) return value
  if (!key) {
    throw new DecryptionError(
      `session '${context.sessionId}': ${context.place} is encrypted and no data key is available ` +
        '(the key was destroyed, or encryption is not configured)',
    )
  }
  const bytes = Buffer.from(value.buffer)
  if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== VERSION) {
    throw new DecryptionError(`session '${context.sessionId}': ${context.place} is not a readable ciphertext`)
  }
  let plain: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES })
    decipher.setAAD(aad(context))
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    plain = Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()])
  } catch (cause) {
    throw new DecryptionError(
      `session '${context.sessionId}': ${context.place} failed authentication (tampered, moved, or another key)`,
      { cause },
    )
  }
  return BSON.deserialize(plain).v
}
