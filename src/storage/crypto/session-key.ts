/**
 * The data key of one session, as a manager holds it: read with the session document (no extra
 * command), created in the write that creates the session document, and installed on an older
 * session (written before encryption was turned on) by one conditional update. Unwrapped keys are
 * kept for the manager's lifetime, so a provider with I/O (KMS) is asked once per session and manager.
 */
import { randomUUID } from 'node:crypto'
import { Binary, type Collection, type Document } from 'mongodb'
import { ConfigurationError, DecryptionError } from '../../errors.js'
import type { SessionDocument } from '../schema.js'
import type { KeyProvider } from './key-provider.js'

/** Field of the session document holding the wrapped data key. Deleting it shreds the session. */
export const DATA_KEY_FIELD = 'data_key'

/**
 * Refuses a write without encryption into an encrypted session (a process configured without the
 * key, next to others with it): it would store content in clear that the others keep sealed.
 */
export function assertWritableWithoutKey(sessionId: string, doc: Document | null | undefined): void {
  if (doc?.[DATA_KEY_FIELD] !== undefined) {
    throw new ConfigurationError(
      `session '${sessionId}' is encrypted: configure encryption (the same key provider) to write to it`,
    )
  }
}

/** The stored form of a wrapped data key. */
export interface StoredDataKey {
  provider: string
  wrapped: Binary
  created_at: Date
  /**
   * Names this data key, whatever master key wraps it (a rotation keeps it): a write sealed under
   * one key can require that the session still holds that key. Absent on keys stored before it.
   */
  id?: string
}

export class SessionKey {
  readonly #provider: KeyProvider
  readonly #sessions: Collection<SessionDocument>
  readonly #sessionId: string
  /** `undefined`: not known yet; `null`: the stored session has none. */
  #key: Promise<Buffer | null> | undefined
  /** The wrapped form (base64) `#key` was unwrapped from, when it was read from the database. */
  #wrapped: string | null = null
  /** The stored `id` of the key held, when it has one. */
  #id: string | null = null

  constructor(provider: KeyProvider, sessions: Collection<SessionDocument>, sessionId: string) {
    this.#provider = provider
    this.#sessions = sessions
    this.#sessionId = sessionId
  }

  /** Forgets the key (the session was retired or deleted: a new session document gets a new key). */
  forget(): void {
    this.#key = undefined
    this.#wrapped = null
    this.#id = null
  }

  /**
   * A filter clause that matches the session document only while it holds the key this manager
   * seals with: a commit sealed under it never lands in a session deleted and created again since
   * (under a new key), where it could not be read. Empty when the key has no id (stored before ids).
   */
  heldKeyClause(): Document {
    return this.#id === null ? {} : { [`${DATA_KEY_FIELD}.id`]: this.#id }
  }

  /** Whether the key of the stored session is known (read or created by this manager). */
  async isKnown(): Promise<boolean> {
    return this.#key !== undefined && (await this.#key.catch(() => null)) !== null
  }

  /** Learns the key from a session document read with `{ data_key: 1 }` in its projection. */
  async fromDocument(doc: Document | null): Promise<Buffer | null> {
    const stored = doc?.[DATA_KEY_FIELD] as StoredDataKey | undefined
    // The same wrapped key as last time: no second unwrap (a KMS provider would make a request).
    const wrapped = stored?.wrapped instanceof Binary ? Buffer.from(stored.wrapped.buffer).toString('base64') : null
    if (this.#key && wrapped !== null && wrapped === this.#wrapped) return this.#key
    const key = stored ? this.#unwrap(stored) : Promise.resolve(null)
    this.#key = key
    this.#wrapped = wrapped
    this.#id = typeof stored?.id === 'string' ? stored.id : null
    key.catch(() => {
      if (this.#key === key) this.#key = undefined
    })
    return key
  }

  /**
   * A fresh wrapped key to put in the `$setOnInsert` of the write that may create the session
   * document; `created()` adopts it once that write reports it created the document.
   */
  async forInsert(): Promise<{ fields: Document; created: () => void }> {
    const { plaintext, wrapped } = await this.#provider.generateDataKey(this.#sessionId)
    const stored = this.#stored(wrapped)
    return {
      fields: { [DATA_KEY_FIELD]: stored },
      created: () => this.#adopt(plaintext, wrapped, stored),
    }
  }

  /** The key to encrypt with: known, else read, else installed (one conditional update). */
  async forWrite(): Promise<Buffer> {
    const known = this.#key ? await this.#key : null
    if (known) return known
    const read = await this.reread()
    if (read) return read
    const { plaintext, wrapped } = await this.#provider.generateDataKey(this.#sessionId)
    const stored = this.#stored(wrapped)
    const result = await this.#sessions.updateOne(
      { _id: this.#sessionId, [DATA_KEY_FIELD]: { $exists: false } },
      { $set: { [DATA_KEY_FIELD]: stored } },
    )
    if (result.modifiedCount === 1) {
      this.#adopt(plaintext, wrapped, stored)
      return plaintext
    }
    // Another writer installed one first (or the session document is gone): use what is stored.
    const again = await this.reread()
    if (!again) throw new DecryptionError(`session '${this.#sessionId}': no data key could be stored`)
    return again
  }

  /** The key to decrypt with, `null` when the session has none (plaintext, or shredded). */
  async forRead(): Promise<Buffer | null> {
    if (this.#key) return this.#key
    return this.reread()
  }

  /**
   * The key as stored now (one read), replacing the one held: after a value failed to open under a
   * key held since before the session was deleted and created again by another process.
   */
  async reread(): Promise<Buffer | null> {
    return this.fromDocument(
      await this.#sessions.findOne({ _id: this.#sessionId }, { projection: { [DATA_KEY_FIELD]: 1 } }),
    )
  }

  /** Holds a key this manager generated and stored. */
  #adopt(plaintext: Buffer, wrapped: Buffer, stored: StoredDataKey): void {
    this.#key = Promise.resolve(plaintext)
    this.#wrapped = wrapped.toString('base64')
    this.#id = stored.id ?? null
  }

  #stored(wrapped: Buffer): StoredDataKey {
    return { provider: this.#provider.kind, wrapped: new Binary(wrapped), created_at: new Date(), id: randomUUID() }
  }

  #unwrap(stored: StoredDataKey): Promise<Buffer> {
    if (!(stored.wrapped instanceof Binary)) {
      return Promise.reject(new DecryptionError(`session '${this.#sessionId}': the stored data key is malformed`))
    }
    if (stored.provider !== this.#provider.kind) {
      return Promise.reject(
        new DecryptionError(
          `session '${this.#sessionId}': its data key is wrapped by a '${stored.provider}' provider, ` +
            `not '${this.#provider.kind}'`,
        ),
      )
    }
    return this.#provider.unwrapDataKey(this.#sessionId, Buffer.from(stored.wrapped.buffer))
  }
}
