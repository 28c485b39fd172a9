/**
 * The data key as the session-data writes see it (metadata, feedback, guardrail events, outbox
 * entries): those writes may create or revive the session document, and a value must be sealed
 * under the key of the session document that ends up live — never under the key of one that expired
 * or was deleted meanwhile, which would leave the value unreadable.
 */
import type { Binary, Collection, Document } from 'mongodb'
import type { SessionDocument } from '../schema.js'
import { isExpired, type ExpiryPolicy } from '../retention.js'
import { DecryptionError } from '../../errors.js'
import { seal } from './cipher.js'
import { DATA_KEY_FIELD, type SessionKey } from './session-key.js'

/** Fields to add to a session read whose document may be handed to {@link SessionCrypto}. */
export const KEY_PROJECTION = { [DATA_KEY_FIELD]: 1, expires_at: 1 } as const

export class SessionCrypto {
  readonly sessionId: string
  readonly #key: SessionKey
  readonly #sessions: Collection<SessionDocument>
  readonly #expiry: ExpiryPolicy
  readonly #createSession: () => Promise<unknown>

  /**
   * `createSession` creates the session document (afresh, when it expired) with a new data key in
   * the same write, as `SessionData.ensureSession` does.
   */
  constructor(options: {
    sessionId: string
    key: SessionKey
    sessions: Collection<SessionDocument>
    expiry: ExpiryPolicy
    createSession: () => Promise<unknown>
  }) {
    this.sessionId = options.sessionId
    this.#key = options.key
    this.#sessions = options.sessions
    this.#expiry = options.expiry
    this.#createSession = options.createSession
  }

  /** The key to open values with: from `doc` when given (read with {@link KEY_PROJECTION}), else known or read. */
  readKey(doc?: Document | null): Promise<Buffer | null> {
    return doc === undefined ? this.#key.forRead() : this.#key.fromDocument(doc)
  }

  /**
   * Runs `read` with the key held (or read). When a value fails to open, runs it once more with the
   * key as stored now: a long-lived manager may hold the key of a session that another process has
   * deleted and created again since.
   */
  async withReadKey<T>(read: (key: Buffer | null) => T | Promise<T>): Promise<T> {
    const key = await this.#key.forRead()
    try {
      return await read(key)
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error
      const stored = await this.#key.reread()
      if (stored === key || (stored !== null && key !== null && stored.equals(key))) throw error
      return read(stored)
    }
  }

  /**
   * The key to seal a write with. The session document is read (unless `doc`, read with
   * {@link KEY_PROJECTION}, is given); when it is missing or expired it is created first, with a
   * new key; a session written before encryption gets one installed.
   */
  async writeKey(doc?: Document | null): Promise<Buffer> {
    const current =
      doc === undefined ? await this.#sessions.findOne({ _id: this.sessionId }, { projection: KEY_PROJECTION }) : doc
    if (!current || isExpired(current, this.#expiry.now())) {
      this.#key.forget()
      await this.#createSession()
      return this.#key.forWrite()
    }
    return (await this.#key.fromDocument(current)) ?? this.#key.forWrite()
  }

  seal(key: Buffer, value: unknown, place: string): Binary {
    return seal(key, value, { sessionId: this.sessionId, place })
  }
}
