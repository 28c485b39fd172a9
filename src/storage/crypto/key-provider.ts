/**
 * Master keys for envelope encryption. A provider wraps (encrypts) and unwraps each session's data
 * key; the data keys encrypt the content. The local provider holds a 32-byte master key in memory
 * and wraps with AES-256-GCM; the AWS KMS one would call KMS instead (not part of this module).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { ConfigurationError, DecryptionError } from '../../errors.js'

/** Wraps and unwraps the data key of each session under a master key. */
export interface KeyProvider {
  /** What kind of provider wrapped a key (stored with it), e.g. `'local'`. */
  readonly kind: string
  /** A new random 256-bit data key for `sessionId`, in clear and wrapped under the master key. */
  generateDataKey(sessionId: string): Promise<{ plaintext: Buffer; wrapped: Buffer }>
  /** Wraps an existing data key of `sessionId` under the master key (master-key rotation). */
  wrapDataKey(sessionId: string, plaintext: Buffer): Promise<Buffer>
  /** The data key of `sessionId` from its wrapped form; throws {@link DecryptionError} when it cannot. */
  unwrapDataKey(sessionId: string, wrapped: Buffer): Promise<Buffer>
}

export interface LocalKeyProviderOptions {
  /** Master keys used before the current one: keys they wrapped still unwrap (during a rotation). */
  previousKeys?: readonly (Buffer | Uint8Array | string)[]
}

const WRAP_VERSION = 1
const KEY_ID_BYTES = 8
const IV_BYTES = 12
const TAG_BYTES = 16

/** Accepts 32 raw bytes, or 32 bytes as base64 or hex text (e.g. from an environment variable). */
function masterKeyBytes(key: Buffer | Uint8Array | string, what: string): Buffer {
  let bytes: Buffer
  if (typeof key === 'string') {
    const text = key.trim()
    bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64')
  } else if (key instanceof Uint8Array) {
    bytes = Buffer.from(key)
  } else {
    throw new ConfigurationError(`${what} must be 32 bytes (a Buffer, or base64 or hex text)`)
  }
  if (bytes.length !== 32) {
    throw new ConfigurationError(`${what} must be 32 bytes (AES-256), got ${bytes.length}`)
  }
  return bytes
}

/** A short, non-secret identifier of a master key, stored with what it wrapped to find the right key. */
function keyIdOf(key: Buffer): Buffer {
  return createHash('sha256').update('msm-master-key-id').update(key).digest().subarray(0, KEY_ID_BYTES)
}

function wrapContext(sessionId: string): Buffer {
  return Buffer.from(`msm-data-key\u0000${sessionId}`, 'utf8')
}

/**
 * A provider holding the master key in this process: a 32-byte key (raw, base64 or hex), e.g. read
 * from an environment variable or a secrets manager. Data keys are wrapped with AES-256-GCM, the
 * session id as additional authenticated data: a wrapped key copied to another session fails.
 */
export function createLocalKeyProvider(
  masterKey: Buffer | Uint8Array | string,
  options: LocalKeyProviderOptions = {},
): KeyProvider {
  const current = masterKeyBytes(masterKey, 'masterKey')
  const keys = new Map<string, Buffer>()
  keys.set(keyIdOf(current).toString('hex'), current)
  for (const [i, previous] of (options.previousKeys ?? []).entries()) {
    const bytes = masterKeyBytes(previous, `previousKeys[${i}]`)
    keys.set(keyIdOf(bytes).toString('hex'), bytes)
  }
  const currentId = keyIdOf(current)
  const wrap = (sessionId: string, plaintext: Buffer): Buffer => {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(wrapContext(sessionId))
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return Buffer.concat([Buffer.of(WRAP_VERSION), currentId, iv, sealed, cipher.getAuthTag()])
  }
  return Object.freeze({
    kind: 'local',
    async generateDataKey(sessionId: string) {
      const plaintext = randomBytes(32)
      return { plaintext, wrapped: wrap(sessionId, plaintext) }
    },
    async wrapDataKey(sessionId: string, plaintext: Buffer) {
      return wrap(sessionId, plaintext)
    },
    async unwrapDataKey(sessionId: string, wrapped: Buffer) {
      const header = 1 + KEY_ID_BYTES + IV_BYTES
      if (wrapped.length !== header + 32 + TAG_BYTES || wrapped[0] !== WRAP_VERSION) {
        throw new DecryptionError(`session '${sessionId}': the stored data key is not a local provider key`)
      }
      const key = keys.get(wrapped.subarray(1, 1 + KEY_ID_BYTES).toString('hex'))
      if (!key) {
        throw new DecryptionError(`session '${sessionId}': the data key was wrapped under an unknown master key`)
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, wrapped.subarray(1 + KEY_ID_BYTES, header), {
          authTagLength: TAG_BYTES,
        })
        decipher.setAAD(wrapContext(sessionId))
        decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES))
        return Buffer.concat([decipher.update(wrapped.subarray(header, wrapped.length - TAG_BYTES)), decipher.final()])
      } catch (cause) {
        throw new DecryptionError(`session '${sessionId}': the data key failed authentication`, { cause })
      }
    },
  })
}
