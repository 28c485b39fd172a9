/**
 * `SessionData`: the session-data features of one session (metadata, metadata tool, feedback,
 * hooks, metrics, agent configuration, guardrail audit, application name) behind one object that
 * `MongoDBSessionManager` delegates to.
 *
 * @example
 * ```ts
 * const data = new SessionData({ collections, sessionId: 'user-session-123', applicationName: 'support-bot', metadataHook })
 * await data.updateMetadata({ status: 'processing' })
 * await data.addFeedback({ rating: 'down', comment: 'The response was incomplete' })
 * ```
 */
import type { InvokableTool } from '@strands-agents/sdk'
import { ValidationError } from '../errors.js'
import {
  HookCall,
  runInterceptors,
  toHookList,
  type Interceptor,
  type NotificationDispatcherLike,
} from '../hooks/compose.js'
import type {
  Feedback,
  FeedbackInput,
  Metadata,
  MetadataAction,
  MetadataHookArgs,
  MetadataHookResults,
} from '../model/types.js'
import type { FeedbackHook, MetadataHook } from '../hooks/types.js'
import type { SessionCollections } from '../storage/collections.js'
import type { SessionKey } from '../storage/crypto/session-key.js'
import { SessionCrypto } from '../storage/crypto/session-crypto.js'
import { escapeKey } from '../storage/encoding.js'
import { toFeedbackInput, validateFeedbackInput } from '../validation/feedback.js'
import { validateIdentifier } from '../validation/identifiers.js'
import { validateMetadataKey, validateMetadataKeys, validateMetadataUpdate } from '../validation/metadata.js'
import {
  loadAgentConfig,
  loadAgents,
  loadMessageCount,
  storeAgentConfigUpdate,
  storePromptMetadata,
  type AgentConfig,
  type AgentConfigUpdate,
  type AgentSummary,
  type PromptMetadata,
} from './agent-config.js'
import {
  loadFeedbackCounts,
  loadFeedbackPage,
  storeFeedback,
  type FeedbackContext,
  type FeedbackCounts,
  type FeedbackPage,
  type FeedbackPageOptions,
} from './feedback.js'
import { loadGuardrailEvents, type GuardrailEventPage } from './guardrails.js'
import {
  applicationNameChecker,
  immutableFieldChecker,
  loadMetadata,
  storeMetadataDelete,
  storeMetadataUpdate,
  type MetadataContext,
} from './metadata.js'
import { createMetadataTool, type MetadataToolOptions, type MetadataToolResult } from './metadata-tool.js'
import { loadMetricsSummary, type MetricsSummary } from './metrics.js'
import { sessionSkeleton } from './session-skeleton.js'
import { shortenText } from '../storage/catalogue-text.js'
import { expiryFields, isExpired, NO_EXPIRY, upsertLiveSession, type ExpiryPolicy } from '../storage/retention.js'

/** Options of {@link SessionData}. */
export interface SessionDataOptions {
  collections: SessionCollections
  /** Validated against `^[a-z0-9_-]+$`. */
  sessionId: string
  /** Written when this object creates the session; immutable afterwards (a different value is ignored with a warning). */
  applicationName?: string | null
  /** The session's user, written when this object creates the session; immutable afterwards, like `applicationName`. */
  userId?: string | null
  /** Interceptors around `addFeedback`, applied in order. */
  feedbackHook?: FeedbackHook | readonly FeedbackHook[]
  /** Interceptors around `updateMetadata` / `getMetadata` / `deleteMetadata` (and the metadata tool), applied in order. */
  metadataHook?: MetadataHook | readonly MetadataHook[]
  /**
   * Durable delivery: notifications registered by hooks before the storage call are written in
   * the same single-document write as the change (`outbox`), so a relay can deliver them after a crash.
   */
  durable?: boolean
  /** Receives notifications to deliver (after the write succeeded, or immediately for those registered after it). */
  dispatcher?: NotificationDispatcherLike
  /** Passed to hooks as `context.manager`. */
  manager?: unknown
  /** Metadata fields declared for querying (indexed; filterable in `listSessions`). */
  metadataFields?: readonly string[]
  /** Session expiry (`retention`): activity moves the expiry time; an expired session reads as absent. */
  expiry?: ExpiryPolicy
  /** The session's data key (encryption on): a session document this creates gets a new one. */
  sessionKey?: SessionKey
}

/** Session-data features of one session. All methods are async and safe to call concurrently. */
export class SessionData {
  readonly sessionId: string
  readonly collections: SessionCollections
  readonly applicationName: string | null
  readonly userId: string | null
  readonly durable: boolean
  readonly metadataFields: readonly string[]
  readonly expiry: ExpiryPolicy
  readonly #feedbackHooks: FeedbackHook[]
  readonly #metadataHooks: MetadataHook[]
  readonly #dispatcher: NotificationDispatcherLike | undefined
  readonly #manager: unknown
  readonly #metadataCtx: MetadataContext
  readonly #feedbackCtx: FeedbackContext
  readonly #sessionKey: SessionKey | undefined
  /** Encryption on: seals and opens this session's values under its data key. */
  readonly crypto: SessionCrypto | undefined

  constructor(options: SessionDataOptions) {
    this.sessionId = validateIdentifier(options.sessionId, 'sessionId')
    this.collections = options.collections
    const appName = options.applicationName ?? null
    if (appName !== null && (typeof appName !== 'string' || appName.length === 0 || appName.length > 256)) {
      throw new ValidationError('applicationName must be a non-empty string of at most 256 characters', {
        field: 'applicationName',
      })
    }
    this.applicationName = appName
    this.userId = validUserId(options.userId)
    this.durable = options.durable ?? false
    this.metadataFields = [...(options.metadataFields ?? [])]
    this.expiry = options.expiry ?? NO_EXPIRY
    this.#feedbackHooks = toHookList(options.feedbackHook, 'feedbackHook')
    this.#metadataHooks = toHookList(options.metadataHook, 'metadataHook')
    this.#dispatcher = options.dispatcher
    this.#manager = options.manager
    this.#sessionKey = options.sessionKey
    this.crypto = options.sessionKey
      ? new SessionCrypto({
          sessionId: this.sessionId,
          key: options.sessionKey,
          sessions: this.collections.sessions,
          expiry: this.expiry,
          createSession: () => this.ensureSession(),
        })
      : undefined
    const onStoredApplicationName = applicationNameChecker(this.sessionId, appName)
    this.#metadataCtx = {
      collections: this.collections,
      sessionId: this.sessionId,
      applicationName: appName,
      durable: this.durable,
      expiry: this.expiry,
      onStoredApplicationName,
      userId: this.userId,
      onStoredUserId: immutableFieldChecker(this.sessionId, this.userId, 'user id'),
      ...(this.crypto && {
        crypto: this.crypto,
        // Declared fields stay in clear: listings filter on them, through their indexes.
        clearPaths: this.metadataFields.map((field) => validateMetadataKey(field).segments.map(escapeKey)),
      }),
    }
    this.#feedbackCtx = { ...this.#metadataCtx }
  }

  #call(): HookCall {
    return new HookCall(this.sessionId, this.#manager, this.#dispatcher)
  }

  async #runMetadata<A extends MetadataAction>(
    action: A,
    args: MetadataHookArgs[A],
    base: (args: MetadataHookArgs[A], call: HookCall) => Promise<MetadataHookResults[A]>,
  ): Promise<MetadataHookResults[A]> {
    const call = this.#call()
    try {
      const hooks = this.#metadataHooks as unknown as Interceptor<A, MetadataHookArgs[A], MetadataHookResults[A]>[]
      return await runInterceptors(hooks, (next) => base(next, call), action, this.sessionId, args, call)
    } finally {
      call.finish()
    }
  }

  /**
   * Merges `metadata` into the session's metadata and returns the metadata afterwards (or what the
   * hooks return). Dotted keys address nested fields; object values replace the value at their key.
   * Creates the session when it does not exist. Invalid keys/values → `ValidationError`, nothing written.
   */
  async updateMetadata(metadata: Metadata): Promise<Metadata> {
    // Validated up front so hooks see clean, detached input; validated again below in case a hook changed it.
    const clean = validateMetadataUpdate(metadata).metadata
    return this.#runMetadata('update', { metadata: clean }, (args, call) =>
      storeMetadataUpdate(this.#metadataCtx, args?.metadata, call),
    )
  }

  /** The session's metadata (`{}` when the session does not exist), or only `keys` (missing keys left out). */
  async getMetadata(keys?: string[]): Promise<Metadata> {
    const args: MetadataHookArgs['get'] =
      keys === undefined ? {} : { keys: validateMetadataKeys(keys).map((p) => p.key) }
    return this.#runMetadata('get', args, (next, call) => loadMetadata(this.#metadataCtx, next, call))
  }

  /** Removes `keys` (missing keys are ignored) and returns the metadata afterwards. Creates the session when missing. */
  async deleteMetadata(keys: string[]): Promise<Metadata> {
    const clean = validateMetadataKeys(keys).map((p) => p.key)
    return this.#runMetadata('delete', { keys: clean }, (args, call) =>
      storeMetadataDelete(this.#metadataCtx, args?.keys, call),
    )
  }

  /** A Strands tool (default name `manage_metadata`) whose calls go through the metadata hooks. */
  getMetadataTool(options: MetadataToolOptions = {}): InvokableTool<unknown, MetadataToolResult> {
    return createMetadataTool(this, options) as unknown as InvokableTool<unknown, MetadataToolResult>
  }

  /**
   * Stores feedback (`rating`: `'up' | 'down' | null`) and returns the stored entry (or what the
   * hooks return). Invalid input → `ValidationError`, nothing stored.
   */
  async addFeedback(feedback: FeedbackInput): Promise<Feedback> {
    const clean = toFeedbackInput(validateFeedbackInput(feedback))
    const call = this.#call()
    try {
      return await runInterceptors(
        this.#feedbackHooks as unknown as Interceptor<'add', FeedbackInput, Feedback>[],
        (next) => storeFeedback(this.#feedbackCtx, next, call),
        'add',
        this.sessionId,
        clean,
        call,
      )
    } finally {
      call.finish()
    }
  }

  /** Feedback of this session, oldest first, keyset-paged (`limit` 1–500, default 50). */
  async getFeedbacks(options: FeedbackPageOptions = {}): Promise<FeedbackPage> {
    if (await this.isExpired()) return { items: [], nextCursor: null }
    return loadFeedbackPage(this.collections, this.sessionId, options, this.crypto ?? null)
  }

  /** Per-rating feedback counts kept on the session (zeros when the session does not exist). */
  getFeedbackCounts(): Promise<FeedbackCounts> {
    return loadFeedbackCounts(this.collections, this.sessionId, this.expiry)
  }

  /** Metric totals per session and per agent. */
  getMetricsSummary(): Promise<MetricsSummary> {
    return loadMetricsSummary(this.collections, this.sessionId, this.expiry)
  }

  /** Configuration of one agent; unknown session or agent → `NotFoundError`. */
  getAgentConfig(agentId: string): Promise<AgentConfig> {
    return loadAgentConfig(this.collections, this.sessionId, agentId, this.crypto ?? null, this.expiry)
  }

  /** Sets the given config fields of an existing agent and returns its config; unknown agent → `NotFoundError`. */
  updateAgentConfig(agentId: string, update: AgentConfigUpdate): Promise<AgentConfig> {
    return storeAgentConfigUpdate(this.collections, this.sessionId, agentId, update, this.crypto ?? null)
  }

  /** Replaces an existing agent's prompt metadata; never wiped by saves or by the automatic capture. */
  setPromptMetadata(agentId: string, promptMetadata: PromptMetadata): Promise<AgentConfig> {
    return storePromptMetadata(this.collections, this.sessionId, agentId, promptMetadata, this.crypto ?? null)
  }

  /** Agents of this session with config and message counts (no messages are read); `[]` when the session does not exist. */
  listAgents(): Promise<AgentSummary[]> {
    return loadAgents(this.collections, this.sessionId, this.expiry, this.crypto ?? null)
  }

  /** Messages in an agent's active conversation; unknown agent → `NotFoundError`. */
  getMessageCount(agentId: string): Promise<number> {
    return loadMessageCount(this.collections, this.sessionId, agentId, this.expiry)
  }

  /** Guardrail events of this session, oldest first, keyset-paged. */
  async getGuardrailEvents(
    options: { limit?: number; cursor?: string | null; agentId?: string } = {},
  ): Promise<GuardrailEventPage> {
    if (await this.isExpired()) return { items: [], nextCursor: null }
    return loadGuardrailEvents(this.collections, this.sessionId, options, this.crypto ?? null)
  }

  /**
   * With retention: whether the session is expired now (one read of the session document). Without,
   * never asked: reads of documents outside the session document cost no extra command.
   */
  async isExpired(): Promise<boolean> {
    if (this.expiry.expireAfterMs === null) return false
    const doc = await this.collections.sessions.findOne({ _id: this.sessionId }, { projection: { expires_at: 1 } })
    return isExpired(doc, this.expiry.now())
  }

  /** The stored application name, or `null` (not set, or no session). */
  async getApplicationName(): Promise<string | null> {
    const doc = await this.collections.sessions.findOne(
      { _id: this.sessionId },
      { projection: { application_name: 1 } },
    )
    return doc?.application_name ?? null
  }

  /** The stored user id, or `null` (not set, or no session). */
  async getUserId(): Promise<string | null> {
    const doc = await this.collections.sessions.findOne({ _id: this.sessionId }, { projection: { user_id: 1 } })
    return doc?.user_id ?? null
  }

  /**
   * Sets the session's title (shown by `listSessions` instead of the automatic one, the first user
   * message); `null` removes it. One upsert: on a session that does not exist yet, it creates it.
   */
  async setTitle(title: string | null): Promise<void> {
    if (title !== null && (typeof title !== 'string' || title.trim().length === 0)) {
      throw new ValidationError('title must be a non-empty string or null', { field: 'title' })
    }
    const now = this.expiry.now()
    const value = title === null ? null : shortenText(title, TITLE_MAX)
    await upsertLiveSession(this.collections, this.sessionId, now, (live) =>
      this.collections.sessions.updateOne(
        { _id: this.sessionId, ...live },
        {
          $set: { updated_at: now, ...expiryFields(this.expiry, now), ...(value !== null && { title: value }) },
          ...(value === null && { $unset: { title: '' } }),
          $setOnInsert: sessionSkeleton(this.sessionId, this.applicationName, now, ['updated_at'], this.userId),
        },
        { upsert: true },
      ),
    )
  }

  /**
   * Records an activity that writes nothing else to the session document (a Graph/Swarm save): one
   * upsert that moves the expiry time, creating the session (afresh, if it had expired) when needed.
   */
  async touchSession(): Promise<void> {
    const now = this.expiry.now()
    await upsertLiveSession(this.collections, this.sessionId, now, (live) =>
      this.collections.sessions.updateOne(
        { _id: this.sessionId, ...live },
        {
          $set: { updated_at: now, ...expiryFields(this.expiry, now) },
          $setOnInsert: sessionSkeleton(this.sessionId, this.applicationName, now, ['updated_at'], this.userId),
        },
        { upsert: true },
      ),
    )
  }

  /**
   * Creates the session document if it does not exist (one upsert, `$setOnInsert` only) and
   * returns whether it was created and the stored application name. A different configured name
   * on an existing session is ignored with a warning.
   */
  async ensureSession(): Promise<{ created: boolean; applicationName: string | null }> {
    const now = this.expiry.now()
    // The data key is created in the write that creates the session document (no write of its own);
    // a session whose key this manager already read exists: no new key (with KMS, no request).
    const dataKey =
      this.#sessionKey && !(await this.#sessionKey.isKnown()) ? await this.#sessionKey.forInsert() : undefined
    // Creating the session is its first activity; an expired session is retired and created afresh.
    const result = await upsertLiveSession(this.collections, this.sessionId, now, (live) =>
      this.collections.sessions.updateOne(
        { _id: this.sessionId, ...live },
        {
          $setOnInsert: {
            ...sessionSkeleton(this.sessionId, this.applicationName, now, [], this.userId),
            ...expiryFields(this.expiry, now),
            ...dataKey?.fields,
          },
        },
        { upsert: true },
      ),
    )
    const created = result.upsertedCount > 0
    if (created) dataKey?.created()
    const stored = created
      ? { application_name: this.applicationName, user_id: this.userId }
      : await this.collections.sessions.findOne(
          { _id: this.sessionId },
          { projection: { application_name: 1, user_id: 1 } },
        )
    this.#metadataCtx.onStoredApplicationName?.(stored?.application_name ?? null)
    this.#metadataCtx.onStoredUserId?.(stored?.user_id ?? null)
    return { created, applicationName: stored?.application_name ?? null }
  }
}

/** Characters of a title set with `setTitle()`, at most (longer ones are shortened). */
const TITLE_MAX = 200

/** A user id: a non-empty string of at most 256 characters, or null. */
export function validUserId(value: unknown): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new ValidationError('userId must be a non-empty string of at most 256 characters', { field: 'userId' })
  }
  return value
}
