/**
 * Master-key rotation: every session's data key is unwrapped under the old master key and wrapped
 * again under the new one. Content is not re-encrypted (it stays under the same data keys), so a
 * rotation costs one read and one write per session, whatever the size of its conversation.
 */
import { Binary } from 'mongodb'
import { DecryptionError } from '../errors.js'
import type { SessionCollections } from '../storage/collections.js'
import type { KeyProvider } from '../storage/crypto/key-provider.js'
import { DATA_KEY_FIELD, type StoredDataKey } from '../storage/crypto/session-key.js'
import { mapDriverErrors } from '../storage/driver-errors.js'

export interface RotateMasterKeyOptions {
  /** The provider whose master key wrapped the data keys until now. */
  from: KeyProvider
  /** The provider to wrap them under from now on (configure managers with it afterwards). */
  to: KeyProvider
}

export interface RotateMasterKeyResult {
  /** Data keys wrapped again under `to`. */
  rewrapped: number
  /** Data keys `from` could not unwrap but `to` can (already rotated, e.g. by an earlier run). */
  alreadyCurrent: number
  /** Data keys neither provider could unwrap, by session id (left unchanged). */
  failed: string[]
}

/**
 * Re-wraps the data key of every encrypted session under a new master key, without re-encrypting
 * content. Safe to run again after an interruption: keys already under `to` are counted and left
 * alone, and each key is replaced only if it is still the one read.
 */
export async function rotateMasterKey(
  collections: SessionCollections,
  options: RotateMasterKeyOptions,
): Promise<RotateMasterKeyResult> {
  return mapDriverErrors('rotateMasterKey', async () => {
    const result: RotateMasterKeyResult = { rewrapped: 0, alreadyCurrent: 0, failed: [] }
    const cursor = collections.sessions.find(
      { [DATA_KEY_FIELD]: { $exists: true } },
      { projection: { [DATA_KEY_FIELD]: 1 } },
    )
    for await (const doc of cursor) {
      const sessionId = doc._id
      const stored = (doc as { [DATA_KEY_FIELD]?: StoredDataKey })[DATA_KEY_FIELD]
      if (!stored || !(stored.wrapped instanceof Binary)) {
        result.failed.push(sessionId)
        continue
      }
      const wrapped = Buffer.from(stored.wrapped.buffer)
      const plaintext = await unwrapWith(options.from, sessionId, stored, wrapped)
      if (!plaintext) {
        if (await unwrapWith(options.to, sessionId, stored, wrapped)) result.alreadyCurrent++
        else result.failed.push(sessionId)
        continue
      }
      const rewrapped = await options.to.wrapDataKey(sessionId, plaintext)
      const updated = await collections.sessions.updateOne(
        { _id: sessionId, [`${DATA_KEY_FIELD}.wrapped`]: stored.wrapped },
        {
          $set: {
            [DATA_KEY_FIELD]: {
              provider: options.to.kind,
              wrapped: new Binary(rewrapped),
              created_at: stored.created_at,
              // The same data key under another master key: commits sealed under it still match.
              ...(stored.id !== undefined && { id: stored.id }),
            },
          },
        },
      )
      if (updated.modifiedCount === 1) result.rewrapped++
    }
    return result
  })
}

async function unwrapWith(
  provider: KeyProvider,
  sessionId: string,
  stored: StoredDataKey,
  wrapped: Buffer,
): Promise<Buffer | null> {
  if (stored.provider !== provider.kind) return null
  try {
    return await provider.unwrapDataKey(sessionId, wrapped)
  } catch (error) {
    if (error instanceof DecryptionError) return null
    throw error
  }
}
