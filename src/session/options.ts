/**
 * The options of `MongoDBSessionManager`, validated and resolved once, in one place, into one
 * frozen object that the manager and its turn pipeline read.
 */
import { validUserId } from '../features/session-data.js'
import type { MultiAgentSaveLatestStrategy, SaveLatestStrategy, SnapshotTriggerCallback } from '@strands-agents/sdk'
import type { MongoClient, MongoClientOptions } from 'mongodb'
import { ConfigurationError } from '../errors.js'
import type { FeedbackHook, MetadataHook } from '../hooks/types.js'
import { NotificationDispatcher } from '../notifications/dispatcher.js'
import { detectCapabilities } from '../storage/capabilities.js'
import { DEFAULT_DATABASE_NAME, openCollections, type SessionCollections } from '../storage/collections.js'
import type { KeyProvider } from '../storage/crypto/key-provider.js'
import { NO_EXPIRY, type ExpiryPolicy } from '../storage/retention.js'
import { MongoSnapshotStorage } from '../storage/snapshot-store.js'
import { parseDuration } from '../validation/duration.js'
import { validateIdentifier } from '../validation/identifiers.js'
import { DEFAULT_OPERATION_TIMEOUT_MS, resolveConnection } from './connection.js'

/** Session retention: how long a session lives without activity. See docs/retention.md. */
export interface RetentionOptions {
  /**
   * A session expires when it has had no activity (a turn, a metadata change, a feedback) for this
   * long: milliseconds, or a string of a whole number and a unit (`'30d'`, `'12h'`, `'15m'`, `'90s'`,
   * `'500ms'`, `'2w'`). An expired session reads as absent at once; its documents are deleted by
   * `pruneExpiredSessions` (and its session document by the server where it has TTL indexes).
   */
  expireAfter: number | string
  /** @internal The clock (tests). */
  now?: () => Date
}

/** Encryption at rest of the session's content. See docs/encryption.md. */
export interface EncryptionOptions {
  /** Wraps each session's data key under a master key, e.g. `createLocalKeyProvider(masterKey)`. */
  keyProvider: KeyProvider
}

/** Options of {@link MongoDBSessionManager}. */
export interface MongoDBSessionManagerOptions {
  /** Session id: 1–128 of `a-z`, `0-9`, `-`, `_` (the SDK's rule). Default `'default-session'`. */
  sessionId?: string
  /** MongoDB connection string; the manager creates, owns and closes the client. */
  connectionString?: string
  /** Options for the client created from `connectionString` (merged over the library's defaults). */
  clientOptions?: MongoClientOptions
  /** An existing client: borrowed, never closed by the manager. Exclusive with `connectionString`. */
  client?: MongoClient
  /** Database name. Default {@link DEFAULT_DATABASE_NAME}. */
  databaseName?: string
  /** Prefix for every collection name (e.g. `'support_'` → `support_sessions`). Default none. */
  collectionPrefix?: string
  /** Application name recorded when the session is created; immutable afterwards. */
  applicationName?: string
  /**
   * The session's user, recorded when the session is created; immutable afterwards (a different
   * value on an existing session is ignored with a warning). Filters `listSessions` and
   * `searchSessions`, and scopes `getSessionSearchTool()`.
   */
  userId?: string
  /** When the latest agent state is saved (SDK semantics). Default `'invocation'`. */
  saveLatestOn?: SaveLatestStrategy
  /** Decides after each invocation whether to also save an immutable snapshot (SDK semantics). */
  snapshotTrigger?: SnapshotTriggerCallback
  /** When Graph/Swarm state is saved (SDK semantics). Default `'node'`. */
  multiAgentSaveLatestOn?: MultiAgentSaveLatestStrategy
  /**
   * Keep messages that left the conversation (sliding-window trims, summarised prefixes) as
   * history for transcripts and audits. Default `true`. Rewritten versions of a message (e.g.
   * redacted text) are always removed.
   */
  retainTrimmedMessages?: boolean
  /**
   * Deadline of each call (a save, a restore, `getMetadata`, …) in milliseconds, `0` for none. Past
   * it the driver abandons the operation and the call throws {@link DatabaseUnavailableError} with
   * reason `'timeout'`. Default: `timeoutMS` from the connection string or client options when
   * given, else {@link DEFAULT_OPERATION_TIMEOUT_MS} (30 s).
   */
  operationTimeoutMs?: number
  /** Create the library's indexes on first use (once per process and client). Default `true`. */
  ensureIndexes?: boolean
  /** Interceptor(s) around `addFeedback` (as in the Python version), applied in order. */
  feedbackHook?: FeedbackHook | readonly FeedbackHook[] | null
  /** Interceptor(s) around `updateMetadata` / `getMetadata` / `deleteMetadata` and the metadata tool. */
  metadataHook?: MetadataHook | readonly MetadataHook[] | null
  /** Metadata fields declared for querying: indexed, and filterable in `listSessions`. */
  metadataFields?: readonly string[]
  /**
   * How hook notifications (SNS, SQS, WebSocket) are delivered:
   * - `'background'` (default, as in the Python version): sent after the change is stored, in the background;
   * - `'durable'`: also recorded in the same single-document write as the change, and removed once
   *   delivered, so `relayPendingNotifications` re-sends whatever a crash or an outage left behind.
   */
  delivery?: 'background' | 'durable'
  /**
   * Dispatcher that sends notifications. Default: one per manager, drained by `flush()`/`close()`.
   * Pass a shared one (the factory does) to bound concurrency across managers.
   */
  dispatcher?: NotificationDispatcher
  /** Record token usage, latency, time to first byte, cycles and tool calls per invocation. Default `true`. */
  captureMetrics?: boolean
  /** Record each agent's model id and system prompt. Default `true`. */
  captureAgentConfig?: boolean
  /** Record guardrail interventions (redactions) as audit events. Default `true`. */
  auditGuardrails?: boolean
  /** Expire sessions after a period without activity. Default: sessions never expire. */
  retention?: RetentionOptions
  /**
   * Encrypt message content and agent state with a data key per session (envelope encryption,
   * AES-256-GCM). Sessions written without it still read. Default: no encryption.
   */
  encryption?: EncryptionOptions
}

const KNOWN_OPTIONS = new Set<string>([
  'sessionId',
  'connectionString',
  'clientOptions',
  'client',
  'databaseName',
  'collectionPrefix',
  'applicationName',
  'userId',
  'saveLatestOn',
  'snapshotTrigger',
  'multiAgentSaveLatestOn',
  'retainTrimmedMessages',
  'ensureIndexes',
  'operationTimeoutMs',
  'feedbackHook',
  'metadataHook',
  'metadataFields',
  'delivery',
  'dispatcher',
  'captureMetrics',
  'captureAgentConfig',
  'auditGuardrails',
  'retention',
  'encryption',
])

/** The resolved options: everything the manager needs, decided once. */
export interface ResolvedOptions {
  sessionId: string
  client: MongoClient
  ownsClient: boolean
  collections: SessionCollections
  maxBsonObjectSize: () => Promise<number>
  snapshotStorage: MongoSnapshotStorage
  saveLatestOn: SaveLatestStrategy
  snapshotTrigger: SnapshotTriggerCallback | undefined
  applicationName: string | null
  userId: string | null
  ensureIndexes: boolean
  operationTimeoutMs: number
  retainTrimmedMessages: boolean
  metadataFields: readonly string[]
  multiAgentSaveLatestOn: MultiAgentSaveLatestStrategy | undefined
  feedbackHook: FeedbackHook | readonly FeedbackHook[] | undefined
  metadataHook: MetadataHook | readonly MetadataHook[] | undefined
  delivery: 'background' | 'durable'
  /** The dispatcher given, or `undefined` when the manager makes (and owns) its own. */
  dispatcher: NotificationDispatcher | undefined
  captureMetrics: boolean
  captureAgentConfig: boolean
  auditGuardrails: boolean
  /** Session expiry (`expireAfterMs: null` without `retention`). */
  expiry: ExpiryPolicy
  /** The master key provider, or `null` without encryption. */
  keyProvider: KeyProvider | null
}

export function resolveOptions(options: MongoDBSessionManagerOptions): Readonly<ResolvedOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('MongoDBSessionManager options must be an object')
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key))
  if (unknown.length > 0) {
    throw new ConfigurationError(`unknown MongoDBSessionManager option(s): ${unknown.join(', ')}`)
  }
  const sessionId = validateIdentifier(options.sessionId ?? 'default-session', 'sessionId')
  const databaseName = options.databaseName ?? DEFAULT_DATABASE_NAME
  if (typeof databaseName !== 'string' || !/^[^/\\. "$*<>:|?\u0000]{1,63}$/.test(databaseName)) {
    throw new ConfigurationError(`databaseName ${JSON.stringify(databaseName)} is not a valid MongoDB database name`)
  }
  const prefix = options.collectionPrefix ?? ''
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]{0,40}$/.test(prefix)) {
    throw new ConfigurationError('collectionPrefix may only contain letters, digits, "_" and "-" (at most 40)')
  }
  const saveLatestOn = options.saveLatestOn ?? 'invocation'
  if (!['message', 'invocation', 'trigger'].includes(saveLatestOn)) {
    throw new ConfigurationError(
      `saveLatestOn must be 'message', 'invocation' or 'trigger', got ${String(saveLatestOn)}`,
    )
  }
  const delivery = options.delivery ?? 'background'
  if (delivery !== 'background' && delivery !== 'durable') {
    throw new ConfigurationError(`delivery must be 'background' or 'durable', got ${String(delivery)}`)
  }
  if (options.dispatcher !== undefined && !(options.dispatcher instanceof NotificationDispatcher)) {
    throw new ConfigurationError('dispatcher must be a NotificationDispatcher')
  }
  if (options.operationTimeoutMs !== undefined) validTimeout(options.operationTimeoutMs)
  const expiry = resolveRetention(options.retention)
  const keyProvider = resolveEncryption(options.encryption)
  // Last: a client made from a connection string is only created once everything else is valid.
  const { client, owned } = resolveConnection(options)
  const collections = openCollections(client.db(databaseName), prefix)
  // Detected once per client; every size check asks for it.
  const maxBsonObjectSize = () => detectCapabilities(client).then((c) => c.maxBsonObjectSize)
  return Object.freeze({
    sessionId,
    client,
    ownsClient: owned,
    collections,
    maxBsonObjectSize,
    snapshotStorage: new MongoSnapshotStorage(collections, maxBsonObjectSize),
    saveLatestOn,
    snapshotTrigger: options.snapshotTrigger,
    applicationName: options.applicationName ?? null,
    userId: validUserId(options.userId),
    ensureIndexes: options.ensureIndexes ?? true,
    operationTimeoutMs: validTimeout(
      options.operationTimeoutMs ?? client.options.timeoutMS ?? DEFAULT_OPERATION_TIMEOUT_MS,
    ),
    retainTrimmedMessages: options.retainTrimmedMessages ?? true,
    metadataFields: Object.freeze([...(options.metadataFields ?? [])]),
    multiAgentSaveLatestOn: options.multiAgentSaveLatestOn,
    feedbackHook: options.feedbackHook ?? undefined,
    metadataHook: options.metadataHook ?? undefined,
    delivery,
    dispatcher: options.dispatcher,
    captureMetrics: options.captureMetrics ?? true,
    captureAgentConfig: options.captureAgentConfig ?? true,
    auditGuardrails: options.auditGuardrails ?? true,
    expiry,
    keyProvider,
  })
}

/** Validates `encryption` into its key provider (`null`: off). */
export function resolveEncryption(encryption: unknown): KeyProvider | null {
  if (encryption === undefined || encryption === null) return null
  if (typeof encryption !== 'object' || Array.isArray(encryption)) {
    throw new ConfigurationError('encryption must be an object such as { keyProvider: createLocalKeyProvider(key) }')
  }
  const { keyProvider, ...rest } = encryption as Record<string, unknown>
  if (Object.keys(rest).length > 0) {
    throw new ConfigurationError(`unknown encryption option(s): ${Object.keys(rest).join(', ')}`)
  }
  const provider = keyProvider as Partial<KeyProvider> | null | undefined
  if (
    typeof provider !== 'object' ||
    provider === null ||
    typeof provider.kind !== 'string' ||
    typeof provider.generateDataKey !== 'function' ||
    typeof provider.wrapDataKey !== 'function' ||
    typeof provider.unwrapDataKey !== 'function'
  ) {
    throw new ConfigurationError('encryption.keyProvider must be a key provider, e.g. createLocalKeyProvider(key)')
  }
  return provider as KeyProvider
}

/** Validates `retention` into the expiry policy every read and write of the manager applies. */
export function resolveRetention(retention: unknown): ExpiryPolicy {
  if (retention === undefined || retention === null) return NO_EXPIRY
  if (typeof retention !== 'object' || Array.isArray(retention)) {
    throw new ConfigurationError('retention must be an object such as { expireAfter: "30d" }')
  }
  const { expireAfter, now, ...rest } = retention as Record<string, unknown>
  if (Object.keys(rest).length > 0) {
    throw new ConfigurationError(`unknown retention option(s): ${Object.keys(rest).join(', ')}`)
  }
  if (now !== undefined && typeof now !== 'function') throw new ConfigurationError('retention.now must be a function')
  return Object.freeze({
    expireAfterMs: parseDuration(expireAfter, 'retention.expireAfter'),
    now: (now as (() => Date) | undefined) ?? NO_EXPIRY.now,
  })
}

/** The deadline of each call, in milliseconds (0: none). */
function validTimeout(timeoutMs: unknown): number {
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 0) {
    throw new ConfigurationError(
      `operationTimeoutMs must be a whole number of milliseconds ≥ 0, got ${String(timeoutMs)}`,
    )
  }
  return timeoutMs
}
