/**
 * One shared `MongoClient` (one connection pool) for many per-request session managers.
 *
 * In a web server, create the factory once at startup and a manager per request:
 * `factory.createSessionManager(sessionId)` costs no I/O — indexes are ensured once per process and
 * client, and the session document is created lazily by the first write. Closing the factory
 * closes the client if the factory created it; a borrowed client is left open.
 */
import type { MongoClient, MongoClientOptions } from 'mongodb'
import { ClosedError, ConfigurationError } from '../errors.js'
import { describeError, log } from '../logging.js'
import { ensureIndexes, expiryIndexes, openCollections } from '../storage/collections.js'
import { detectCapabilities, type ServerCapabilities } from '../storage/capabilities.js'
import { ensureTextIndexes } from '../storage/text-index.js'
import { pingWithin, resolveConnection } from './connection.js'
import { mapDriverErrors } from '../storage/driver-errors.js'
import { DEFAULT_DATABASE_NAME } from '../storage/collections.js'
import {
  NotificationDispatcher,
  type FlushOptions,
  type FlushResult,
  type NotificationDispatcherOptions,
} from '../notifications/dispatcher.js'
import { pruneExpiredSessions, type PruneOptions, type PruneResult } from '../features/retention.js'
import type { ExpiryPolicy } from '../storage/retention.js'
import { MongoDBSessionManager, type MongoDBSessionManagerOptions } from './manager.js'
import { resolveEncryption, resolveRetention } from './options.js'

/** Per-manager options the factory fills in: everything but the connection. */
export type SessionManagerDefaults = Omit<
  MongoDBSessionManagerOptions,
  'client' | 'connectionString' | 'clientOptions' | 'sessionId'
>

export type MongoDBSessionManagerFactoryOptions = SessionManagerDefaults & {
  /** Tuning of the notification dispatcher shared by every manager of the factory. */
  dispatcherOptions?: NotificationDispatcherOptions
  /** Connection string: the factory creates and owns the client. */
  connectionString?: string
  clientOptions?: MongoClientOptions
  /** Existing client: borrowed, never closed by the factory. */
  client?: MongoClient
}

export interface ConnectionStats {
  status: 'connected' | 'error' | 'closed'
  ownsClient: boolean
  databaseName: string
  server?: Pick<ServerCapabilities, 'engine' | 'version'>
  error?: string
}

export class MongoDBSessionManagerFactory {
  readonly #client: MongoClient
  readonly #ownsClient: boolean
  readonly #defaults: SessionManagerDefaults
  readonly #dispatcher: NotificationDispatcher
  readonly #expiry: ExpiryPolicy
  #closed = false

  constructor(options: MongoDBSessionManagerFactoryOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('MongoDBSessionManagerFactory options must be an object')
    }
    const { connectionString, clientOptions, client, dispatcherOptions, ...defaults } = options
    // Validated here, so a bad duration fails at startup rather than at the first request.
    this.#expiry = resolveRetention(defaults.retention)
    resolveEncryption(defaults.encryption)
    const resolved = resolveConnection({ client, connectionString, clientOptions })
    this.#client = resolved.client
    this.#ownsClient = resolved.owned
    this.#defaults = defaults
    // One dispatcher for every manager: bounded concurrency across requests, and one place to drain.
    this.#dispatcher = defaults.dispatcher ?? new NotificationDispatcher(dispatcherOptions)
  }

  /** The notification dispatcher shared by the factory's managers. */
  get dispatcher(): NotificationDispatcher {
    return this.#dispatcher
  }

  /**
   * Waits for every notification queued by the factory's managers (e.g. at the end of a Lambda
   * handler), or `timeoutMs` (default 10 s), and reports what is still pending.
   */
  async flush(options?: FlushOptions): Promise<FlushResult> {
    return this.#dispatcher.flush(options)
  }

  /** The shared client. */
  get client(): MongoClient {
    return this.#client
  }

  /**
   * Connects, checks the server answers, and ensures indexes. Optional: the first operation does it
   * too. Fails within the client's server selection timeout (5 s by default) with
   * {@link DatabaseUnavailableError} when no server answers; calling it again later retries.
   */
  async connect(): Promise<this> {
    this.#assertOpen()
    return mapDriverErrors('connect', async () => {
      await this.#client.connect()
      await this.#client.db('admin').command({ ping: 1 })
      if (this.#defaults.ensureIndexes !== false) {
        const db = this.#client.db(this.#defaults.databaseName ?? DEFAULT_DATABASE_NAME)
        const expiring = this.#expiry.expireAfterMs !== null
        const collections = openCollections(db, this.#defaults.collectionPrefix ?? '')
        await ensureIndexes(this.#client, collections, {
          sessions: expiring ? expiryIndexes(await detectCapabilities(this.#client)) : [],
        })
        // In the background: a text index build can outlast any operation (see text-index.ts).
        void ensureTextIndexes(this.#client, collections)
      }
      return this
    })
  }

  /**
   * Checks that the database answers within `timeoutMs` (default 5 s): resolves with the round
   * trip time, or throws {@link DatabaseUnavailableError}. For readiness and health endpoints.
   */
  async healthCheck(options: { timeoutMs?: number } = {}): Promise<{ ok: true; latencyMs: number }> {
    this.#assertOpen()
    return pingWithin(this.#client, options.timeoutMs ?? 5_000)
  }

  /**
   * Deletes every document of every expired session (`retention`) in the factory's database, in
   * every collection, in batches; see {@link pruneExpiredSessions}. Safe to run from several
   * processes at once and to interrupt: the next run finishes what an interrupted one left.
   */
  async pruneExpiredSessions(options: PruneOptions = {}): Promise<PruneResult> {
    this.#assertOpen()
    return pruneExpiredSessions(
      {
        client: this.#client,
        databaseName: this.#defaults.databaseName ?? DEFAULT_DATABASE_NAME,
        collectionPrefix: this.#defaults.collectionPrefix ?? '',
      },
      { now: this.#expiry.now, ...options },
    )
  }

  /** A manager for `sessionId` on the shared client; `overrides` replace the factory's defaults. */
  createSessionManager(sessionId: string, overrides: SessionManagerDefaults = {}): MongoDBSessionManager {
    this.#assertOpen()
    return new MongoDBSessionManager({
      dispatcher: this.#dispatcher,
      ...this.#defaults,
      ...overrides,
      sessionId,
      client: this.#client,
    })
  }

  /** Connection health for `/health` endpoints. Never throws; never includes the connection string. */
  async getConnectionStats(): Promise<ConnectionStats> {
    const databaseName = this.#defaults.databaseName ?? DEFAULT_DATABASE_NAME
    if (this.#closed) return { status: 'closed', ownsClient: this.#ownsClient, databaseName }
    try {
      await this.#client.db('admin').command({ ping: 1 })
      const { engine, version } = await detectCapabilities(this.#client)
      return { status: 'connected', ownsClient: this.#ownsClient, databaseName, server: { engine, version } }
    } catch (error) {
      return { status: 'error', ownsClient: this.#ownsClient, databaseName, error: describeError(error) }
    }
  }

  /**
   * Drains pending notifications, then closes the client if the factory created it. Managers made
   * by the factory must not be used afterwards.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (!this.#defaults.dispatcher) await this.#dispatcher.close()
    else await this.#dispatcher.flush()
    if (this.#ownsClient) await this.#client.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('MongoDBSessionManagerFactory')
  }
}

let globalFactory: MongoDBSessionManagerFactory | undefined

/**
 * Opt-in convenience for apps that prefer a process-wide factory (e.g. set up in a server's
 * startup hook). Replacing an existing global factory closes it first (with a warning).
 */
export async function initializeGlobalFactory(
  options: MongoDBSessionManagerFactoryOptions,
): Promise<MongoDBSessionManagerFactory> {
  const factory = new MongoDBSessionManagerFactory(options)
  const previous = globalFactory
  globalFactory = factory
  if (previous) {
    log.warn({}, 'initializeGlobalFactory called again: closing the previous global factory')
    await previous.close()
  }
  try {
    await factory.connect()
  } catch (error) {
    if (globalFactory === factory) globalFactory = undefined
    await factory.close()
    throw error
  }
  return factory
}

/** The global factory; throws a {@link ConfigurationError} when `initializeGlobalFactory` was not called. */
export function getGlobalFactory(): MongoDBSessionManagerFactory {
  if (!globalFactory) {
    throw new ConfigurationError('the global factory is not initialized: call initializeGlobalFactory() first')
  }
  return globalFactory
}

/** Closes and forgets the global factory. Safe to call when there is none. */
export async function closeGlobalFactory(): Promise<void> {
  const factory = globalFactory
  globalFactory = undefined
  await factory?.close()
}

/**
 * Creates a manager and checks the connection before returning it (fail fast at startup).
 * `new MongoDBSessionManager(options)` is the lazy alternative.
 */
export async function createMongoDBSessionManager(
  options: MongoDBSessionManagerOptions,
): Promise<MongoDBSessionManager> {
  const manager = new MongoDBSessionManager(options)
  try {
    await manager.ensureSession()
  } catch (error) {
    await manager.close()
    throw error
  }
  return manager
}
