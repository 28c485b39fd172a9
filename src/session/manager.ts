/**
 * `MongoDBSessionManager`: a drop-in `sessionManager` for Strands `Agent`, `Graph` and `Swarm`
 * that persists in MongoDB.
 *
 * It subclasses the SDK's `SessionManager` (the SDK types the `sessionManager` option as that
 * class) and keeps every semantic of it — `saveLatestOn`, `snapshotTrigger`, the guardrail redaction
 * flush, the partial turn saved when a model call fails, immutable snapshot history, Graph/Swarm
 * state — while owning the agent's save and restore path: instead of serialising the whole
 * conversation on every save, it writes only the messages that changed (see `storage/agent-store.ts`).
 *
 * Private state uses ES `#private` fields: the base class's TypeScript-private members are real
 * properties at run time, and a subclass field with one of their names would replace them.
 */
import { SessionManager, type InvokableTool, type LocalAgent } from '@strands-agents/sdk'
import type { Graph, MultiAgentState, Swarm } from '@strands-agents/sdk/multiagent'
import type { MongoClient } from 'mongodb'
import { ClosedError } from '../errors.js'
import { log } from '../logging.js'
import { AgentStore, type SaveExtras, type SaveResult } from '../storage/agent-store.js'
import { detectCapabilities } from '../storage/capabilities.js'
import { ensureTextIndexes } from '../storage/text-index.js'
import { SessionKey } from '../storage/crypto/session-key.js'
import { DEFAULT_DATABASE_NAME, ensureIndexes, expiryIndexes, type SessionCollections } from '../storage/collections.js'
import { outsideDeadline, runWithDeadline, untilAborted } from '../storage/deadline.js'
import { wrapDriverError } from '../storage/driver-errors.js'
import { validateSnapshotId } from '../storage/snapshot-store.js'
import { validateIdentifier } from '../validation/identifiers.js'
import { uuidv7 } from '../model/ids.js'
import type { Feedback, FeedbackInput, Metadata } from '../model/types.js'
import { deleteSessions, metadataFieldIndexes, type SessionDeleteCounts } from '../features/catalogue.js'
import type { AgentConfig, AgentConfigUpdate, AgentSummary, PromptMetadata } from '../features/agent-config.js'
import type { FeedbackCounts, FeedbackPage, FeedbackPageOptions } from '../features/feedback.js'
import type { GuardrailEventPage } from '../features/guardrails.js'
import type { MetadataToolOptions, MetadataToolResult } from '../features/metadata-tool.js'
import type { MetricsSummary } from '../features/metrics.js'
import { SessionData } from '../features/session-data.js'
import { searchSessions } from '../features/session-search.js'
import {
  createSessionSearchTool,
  type SessionSearchToolOptions,
  type SessionSearchToolResult,
} from '../features/session-search-tool.js'
import {
  createWebSocketConnectionRegistry,
  type WebSocketConnectionRegistry,
} from '../features/websocket-connections.js'
import {
  NotificationDispatcher,
  type DispatcherStats,
  type FlushOptions,
  type FlushResult,
} from '../notifications/dispatcher.js'
import { attachTurnPipeline, type TurnPipelineHost } from '../turn/pipeline.js'
import { pingWithin } from './connection.js'
import { resolveOptions, type MongoDBSessionManagerOptions, type ResolvedOptions } from './options.js'

export type { MongoDBSessionManagerOptions }

export { DEFAULT_DATABASE_NAME }

type AgentTarget = { target: LocalAgent; isLatest: boolean }
type MultiAgentTarget = { target: Graph | Swarm; state?: MultiAgentState; isLatest: boolean }

function isAgentTarget(target: LocalAgent | Graph | Swarm): target is LocalAgent {
  return 'messages' in target
}

/**
 * Persists Strands agent sessions in MongoDB.
 *
 * @example
 * ```ts
 * const sessionManager = new MongoDBSessionManager({
 *   sessionId: 'user-session-123',
 *   connectionString: process.env.MONGODB_URI,
 *   databaseName: 'my_db',
 * })
 * const agent = new Agent({ model, sessionManager })
 * await agent.invoke('Hello!')
 * await sessionManager.close()
 * ```
 */
export class MongoDBSessionManager extends SessionManager {
  readonly #r: Readonly<ResolvedOptions>
  readonly #agents: AgentStore
  readonly #data: SessionData
  readonly #sessionKey: SessionKey | undefined
  readonly #dispatcher: NotificationDispatcher
  readonly #ownsDispatcher: boolean
  /** API Gateway WebSocket connections registered per session (used by the WebSocket metadata hook). */
  readonly webSocketConnections: WebSocketConnectionRegistry
  readonly #stashes = new Set<NonNullable<NonNullable<LocalAgent['contextManager']>['stash']>>()
  #ready: Promise<void> | undefined
  #sessionEnsured: Promise<void> | undefined
  #closed = false

  constructor(options: MongoDBSessionManagerOptions) {
    const resolved = resolveOptions(options)
    super({
      sessionId: resolved.sessionId,
      // The base class persists Graph/Swarm state through this; agents go through #agents.
      storage: { snapshot: resolved.snapshotStorage },
      saveLatestOn: resolved.saveLatestOn,
      ...(resolved.snapshotTrigger !== undefined && { snapshotTrigger: resolved.snapshotTrigger }),
      ...(resolved.multiAgentSaveLatestOn !== undefined && { multiAgentSaveLatestOn: resolved.multiAgentSaveLatestOn }),
    })
    this.#r = resolved
    const sessionKey = resolved.keyProvider
      ? new SessionKey(resolved.keyProvider, resolved.collections.sessions, resolved.sessionId)
      : undefined
    this.#sessionKey = sessionKey
    this.#agents = new AgentStore({
      collections: resolved.collections,
      sessionId: resolved.sessionId,
      maxBsonObjectSize: resolved.maxBsonObjectSize,
      ensureSession: () => this.#ensureSession(),
      retainTrimmedMessages: resolved.retainTrimmedMessages,
      expiry: resolved.expiry,
      // The session expired under a long-lived manager: create it afresh (the expired one is retired first).
      revive: () => {
        this.#sessionEnsured = undefined
        // The revived session is a new session document: it gets a new data key.
        sessionKey?.forget()
        return this.#ensureSession()
      },
      ...(sessionKey && { sessionKey }),
    })
    this.#ownsDispatcher = resolved.dispatcher === undefined
    this.#dispatcher = resolved.dispatcher ?? new NotificationDispatcher()
    this.#data = new SessionData({
      collections: resolved.collections,
      sessionId: resolved.sessionId,
      applicationName: resolved.applicationName,
      userId: resolved.userId,
      ...(resolved.feedbackHook && { feedbackHook: resolved.feedbackHook }),
      ...(resolved.metadataHook && { metadataHook: resolved.metadataHook }),
      durable: resolved.delivery === 'durable',
      dispatcher: this.#dispatcher,
      manager: this,
      metadataFields: resolved.metadataFields,
      expiry: resolved.expiry,
      ...(sessionKey && { sessionKey }),
    })
    // Immutable snapshots and Graph/Swarm state are sealed like the rest of the session.
    if (this.#data.crypto) resolved.snapshotStorage.encryptWith(this.#data.crypto)
    this.webSocketConnections = createWebSocketConnectionRegistry(resolved.collections.sessions)
  }

  override get name(): string {
    return 'mongodb-session-manager'
  }

  /** The `MongoClient` in use (owned or borrowed). */
  get client(): MongoClient {
    return this.#r.client
  }

  /** Typed handles on the collections this manager uses. */
  get collections(): SessionCollections {
    return this.#r.collections
  }

  /** Whether `close()` closes the client (it was created from `connectionString`). */
  get ownsClient(): boolean {
    return this.#r.ownsClient
  }

  /**
   * Connected, indexes (once per process and client) and server capabilities; awaited by every
   * operation. `connect()` is a no-op on a connected client, and on a client whose earlier connect
   * failed it starts over: a manager first used while the database was down heals once it is back.
   */
  protected async ready(): Promise<void> {
    if (this.#closed) throw new ClosedError(`session manager '${this.sessionId}'`)
    await this.#r.client.connect()
    if (!this.#ready) {
      // Shared by every later call: it must not inherit the deadline of the call that started it.
      const run = outsideDeadline(async () => {
        if (this.#r.ensureIndexes) {
          const expiring = this.#r.expiry.expireAfterMs !== null
          await ensureIndexes(this.#r.client, this.#r.collections, {
            sessions: [
              ...metadataFieldIndexes(this.#r.metadataFields),
              ...(expiring ? expiryIndexes(await detectCapabilities(this.#r.client)) : []),
            ],
          })
          // In the background: a text index build can outlast any operation (see text-index.ts).
          void ensureTextIndexes(this.#r.client, this.#r.collections)
        }
        await detectCapabilities(this.#r.client)
      })
      this.#ready = run
      run.catch(() => {
        if (this.#ready === run) this.#ready = undefined
      })
    }
    return this.#ready
  }

  /**
   * Runs a public operation: ready first, every driver call bounded by the operation deadline, and
   * every driver error rethrown as the library's own.
   */
  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    const timeoutMs = this.#r.operationTimeoutMs
    let deadline: AbortSignal | undefined
    try {
      return await runWithDeadline(timeoutMs, async (signal) => {
        deadline = signal
        await untilAborted(this.ready(), signal)
        return await run()
      })
    } catch (error) {
      throw wrapDriverError(error, `${what} of session '${this.sessionId}'`, deadline?.aborted ? timeoutMs : undefined)
    }
  }

  /**
   * Checks that the database answers within `timeoutMs` (default 5 s): resolves with the round
   * trip time, or throws {@link DatabaseUnavailableError}. For readiness and health endpoints.
   */
  async healthCheck(options: { timeoutMs?: number } = {}): Promise<{ ok: true; latencyMs: number }> {
    if (this.#closed) throw new ClosedError(`session manager '${this.sessionId}'`)
    return pingWithin(this.#r.client, options.timeoutMs ?? 5_000)
  }

  /**
   * Creates the session document if it does not exist (an upsert: concurrent callers all succeed).
   * The application name is set only at creation; a different value on an existing session is
   * ignored with a warning.
   */
  async ensureSession(): Promise<void> {
    return this.#call('ensureSession', () => this.#ensureSession())
  }

  #ensureSession(): Promise<void> {
    if (!this.#sessionEnsured) {
      const run = outsideDeadline(() => this.#upsertSession())
      this.#sessionEnsured = run
      run.catch(() => {
        if (this.#sessionEnsured === run) this.#sessionEnsured = undefined
      })
    }
    return this.#sessionEnsured
  }

  async #upsertSession(): Promise<void> {
    await this.#data.ensureSession()
  }

  // ---------------------------------------------------------------------------------------------
  // Agent persistence: the same events and semantics as the SDK's SessionManager.
  // ---------------------------------------------------------------------------------------------

  override initAgent(agent: LocalAgent): void {
    const stash = agent.contextManager?.stash
    if (stash) this.#stashes.add(stash)
    attachTurnPipeline(agent, validateIdentifier(agent.id, 'agent id'), this.#pipelineHost)
  }

  /** What the turn pipeline of each agent uses of this manager. */
  get #pipelineHost(): TurnPipelineHost {
    const r = this.#r
    return {
      sessionId: r.sessionId,
      collections: r.collections,
      saveLatestOn: r.saveLatestOn,
      snapshotTrigger: r.snapshotTrigger,
      captureMetrics: r.captureMetrics,
      captureAgentConfig: r.captureAgentConfig,
      auditGuardrails: r.auditGuardrails,
      crypto: this.#data.crypto,
      operationTimeoutMs: r.operationTimeoutMs,
      restore: (agent) => this.restoreSnapshot({ target: agent }),
      saveLatest: (agent, extras) => this.#saveLatest(agent, extras),
      saveImmutable: (agent) => this.#saveImmutable(agent),
      seqOf: (agentId, trackingId) => this.#agents.seqOf(agentId, trackingId),
    }
  }

  /** Saves the agent's latest state (`isLatest: true`) or an immutable snapshot (`isLatest: false`). */
  override async saveSnapshot(params: { target: LocalAgent; isLatest: boolean }): Promise<void>
  override async saveSnapshot(params: {
    target: Graph | Swarm
    state?: MultiAgentState
    isLatest: boolean
  }): Promise<void>
  override async saveSnapshot(params: AgentTarget | MultiAgentTarget): Promise<void> {
    if (!isAgentTarget(params.target)) {
      return this.#call('saveSnapshot', async () => {
        // With retention a Graph/Swarm save is activity: it moves the expiry time (one more upsert).
        if (this.#expiring) await this.#data.touchSession()
        else await this.#ensureSession()
        return super.saveSnapshot(params as MultiAgentTarget)
      })
    }
    if (params.isLatest) await this.#saveLatest(params.target)
    else await this.#saveImmutable(params.target)
  }

  /**
   * Restores the latest state, or the immutable snapshot `snapshotId`. Returns `false` when there
   * is nothing to restore.
   */
  override async restoreSnapshot(params: { target: LocalAgent; snapshotId?: string }): Promise<boolean>
  override async restoreSnapshot(params: {
    target: Graph | Swarm
    state?: MultiAgentState
    snapshotId?: string
  }): Promise<boolean>
  override async restoreSnapshot(params: {
    target: LocalAgent | Graph | Swarm
    state?: MultiAgentState
    snapshotId?: string
  }): Promise<boolean> {
    return this.#call('restoreSnapshot', () => this.#restore(params))
  }

  async #restore(params: { target: LocalAgent | Graph | Swarm; state?: MultiAgentState; snapshotId?: string }) {
    if (params.snapshotId !== undefined) validateSnapshotId(params.snapshotId)
    // Graph/Swarm state and immutable snapshots live outside the session document: one more read
    // (with retention only) keeps an expired session's absent there too.
    const outside = !isAgentTarget(params.target) || params.snapshotId !== undefined
    if (outside && (await this.#data.isExpired())) return false
    if (!isAgentTarget(params.target)) {
      return super.restoreSnapshot(params as { target: Graph | Swarm; state?: MultiAgentState; snapshotId?: string })
    }
    const agent = params.target
    const agentId = validateIdentifier(agent.id, 'agent id')
    if (params.snapshotId === undefined) {
      const loaded = await this.#agents.load(agentId)
      if (!loaded) return false
      agent.loadSnapshot(loaded.snapshot)
      await this.#restoreStash(agent, loaded.snapshot.data)
      this.#agents.bind(agentId, agent.messages, loaded)
      return true
    }
    const snapshot = await this.#r.snapshotStorage.loadSnapshot({
      location: { sessionId: this.sessionId, scope: 'agent', scopeId: agentId },
      snapshotId: params.snapshotId,
    })
    if (!snapshot) return false
    agent.loadSnapshot(snapshot)
    await this.#restoreStash(agent, snapshot.data)
    await this.#agents.rebase(agentId)
    return true
  }

  /** Immutable snapshot ids of `target`, ascending (UUIDv7 = creation order), after `startAfter`. */
  override async listSnapshotIds(params: {
    target: LocalAgent
    limit?: number
    startAfter?: string
  }): Promise<string[]> {
    return this.#call('listSnapshotIds', async () => {
      const agentId = validateIdentifier(params.target.id, 'agent id')
      if (await this.#data.isExpired()) return []
      return this.#r.snapshotStorage.listSnapshotIds({
        location: { sessionId: this.sessionId, scope: 'agent', scopeId: agentId },
        ...(params.limit !== undefined && { limit: params.limit }),
        ...(params.startAfter !== undefined && { startAfter: params.startAfter }),
      })
    })
  }

  /**
   * Deletes everything stored for this session, in every collection, with bulk deletes; then
   * clears context-manager stash data, as the SDK does. Returns how many documents were removed.
   */
  override async deleteSession(): Promise<void> {
    await this.deleteSessionData()
  }

  /** Like {@link deleteSession}, returning the number of documents removed per collection. */
  async deleteSessionData(): Promise<SessionDeleteCounts> {
    const counts = await this.#call('deleteSession', () =>
      deleteSessions(this.#r.collections, { sessionIds: [this.sessionId] }),
    )
    this.#agents.forget()
    this.#sessionEnsured = undefined
    // Its data key was destroyed with it: a new session document gets a new one.
    this.#sessionKey?.forget()
    for (const stash of this.#stashes) {
      await stash.clear()
      await stash.clearSession()
    }
    return counts
  }

  get #expiring(): boolean {
    return this.#r.expiry.expireAfterMs !== null
  }

  #saveLatest(agent: LocalAgent, extras?: SaveExtras): Promise<SaveResult> {
    return this.#call('save', async () => {
      const agentId = validateIdentifier(agent.id, 'agent id')
      const snapshot = agent.takeSnapshot({ preset: 'session', exclude: ['messages'] })
      await this.#includeStash(agent, snapshot.data)
      const state = { data: snapshot.data, createdAt: snapshot.createdAt, appData: snapshot.appData }
      return this.#agents.save(agentId, agent.messages, state, extras)
    })
  }

  #saveImmutable(agent: LocalAgent): Promise<void> {
    return this.#call('save snapshot', async () => {
      await this.#ensureSession()
      const agentId = validateIdentifier(agent.id, 'agent id')
      const snapshot = agent.takeSnapshot({ preset: 'session' })
      await this.#includeStash(agent, snapshot.data)
      await this.#r.snapshotStorage.saveSnapshot({
        location: { sessionId: this.sessionId, scope: 'agent', scopeId: agentId },
        snapshotId: uuidv7(),
        isLatest: false,
        snapshot,
      })
    })
  }

  // Context-manager stash: the same rules as the SDK's SessionManager (inline unless durable).
  async #includeStash(agent: LocalAgent, data: Record<string, unknown>): Promise<void> {
    const contextManager = agent.contextManager
    const stash = contextManager?.stash
    if (!contextManager || !stash) return
    if (contextManager.stashIsDurable) {
      data.stash = { location: 'external', storageType: stash.storageTypeName }
      return
    }
    const entries = await stash.takeSnapshot()
    if (Object.keys(entries).length > 0) data.stash = { location: 'inline', entries }
  }

  async #restoreStash(agent: LocalAgent, data: Record<string, unknown>): Promise<void> {
    const stored = data.stash as { location?: string; entries?: unknown; storageType?: string } | undefined
    const stash = agent.contextManager?.stash
    if (!stored || !stash) return
    if (stored.location === 'inline') {
      await stash.loadSnapshot(stored.entries as Parameters<typeof stash.loadSnapshot>[0])
    } else if (stored.location === 'external' && stored.storageType && stored.storageType !== stash.storageTypeName) {
      log.warn(
        { session_id: this.sessionId, snapshot_storage: stored.storageType, current_storage: stash.storageTypeName },
        'stash storage type changed since the snapshot was created; stash data may be inaccessible',
      )
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Session data: metadata, feedback, metrics, agent configuration, guardrail audit
  // ---------------------------------------------------------------------------------------------

  /**
   * Merges `metadata` into the session's metadata (existing fields are kept) and returns the
   * metadata afterwards. Goes through `metadataHook`. Creates the session if needed.
   * @throws {@link ValidationError} for invalid keys or values; nothing is written.
   */
  async updateMetadata(metadata: Metadata): Promise<Metadata> {
    return this.#call('updateMetadata', () => this.#data.updateMetadata(metadata))
  }

  /** The session's metadata (`{}` if the session does not exist), or only `keys`. Goes through `metadataHook`. */
  async getMetadata(keys?: string[]): Promise<Metadata> {
    return this.#call('getMetadata', () => this.#data.getMetadata(keys))
  }

  /** Removes `keys` from the metadata and returns the metadata afterwards. Goes through `metadataHook`. */
  async deleteMetadata(keys: string[]): Promise<Metadata> {
    return this.#call('deleteMetadata', () => this.#data.deleteMetadata(keys))
  }

  /** A Strands tool (default name `manage_metadata`) that lets the agent get, set and delete metadata. */
  getMetadataTool(options: MetadataToolOptions = {}): InvokableTool<unknown, MetadataToolResult> {
    return this.#data.getMetadataTool(options)
  }

  /**
   * Stores user feedback and returns the stored entry. Goes through `feedbackHook`.
   * @throws {@link ValidationError} for a rating other than `'up' | 'down' | null` or a too long comment.
   */
  async addFeedback(feedback: FeedbackInput): Promise<Feedback> {
    return this.#call('addFeedback', () => this.#data.addFeedback(feedback))
  }

  /** Feedback of this session, oldest first, keyset-paged. */
  async getFeedbacks(options: FeedbackPageOptions = {}): Promise<FeedbackPage> {
    return this.#call('getFeedbacks', () => this.#data.getFeedbacks(options))
  }

  /** Per-rating feedback counts (`up`, `down`, `neutral`). */
  async getFeedbackCounts(): Promise<FeedbackCounts> {
    return this.#call('getFeedbackCounts', () => this.#data.getFeedbackCounts())
  }

  /** Token usage, latency and tool totals for the session and per agent. */
  async getMetricsSummary(): Promise<MetricsSummary> {
    return this.#call('getMetricsSummary', () => this.#data.getMetricsSummary())
  }

  /** Model id, system prompt and prompt metadata of an agent. @throws {@link NotFoundError} */
  async getAgentConfig(agentId: string): Promise<AgentConfig> {
    return this.#call('getAgentConfig', () => this.#data.getAgentConfig(agentId))
  }

  /** Sets config fields of an existing agent. @throws {@link NotFoundError} */
  async updateAgentConfig(agentId: string, update: AgentConfigUpdate): Promise<AgentConfig> {
    return this.#call('updateAgentConfig', () => this.#data.updateAgentConfig(agentId, update))
  }

  /** Replaces an agent's prompt metadata (never wiped by saves or automatic capture). @throws {@link NotFoundError} */
  async setPromptMetadata(agentId: string, promptMetadata: PromptMetadata): Promise<AgentConfig> {
    return this.#call('setPromptMetadata', () => this.#data.setPromptMetadata(agentId, promptMetadata))
  }

  /** Agents of this session with their config and message counts (no messages are read). */
  async listAgents(): Promise<AgentSummary[]> {
    return this.#call('listAgents', () => this.#data.listAgents())
  }

  /** Number of messages in an agent's conversation. @throws {@link NotFoundError} */
  async getMessageCount(agentId: string): Promise<number> {
    return this.#call('getMessageCount', () => this.#data.getMessageCount(agentId))
  }

  /** Guardrail interventions recorded for this session, oldest first, keyset-paged. */
  async getGuardrailEvents(
    options: { limit?: number; cursor?: string | null; agentId?: string } = {},
  ): Promise<GuardrailEventPage> {
    return this.#call('getGuardrailEvents', () => this.#data.getGuardrailEvents(options))
  }

  /** Registers an API Gateway WebSocket connection for this session's metadata events. */
  async registerWebSocketConnection(connectionId: string): Promise<void> {
    return this.#call('registerWebSocketConnection', async () => {
      await this.#ensureSession()
      await this.webSocketConnections.register(this.sessionId, connectionId)
    })
  }

  /** Removes a WebSocket connection (e.g. on `$disconnect`). */
  async removeWebSocketConnection(connectionId: string): Promise<void> {
    return this.#call('removeWebSocketConnection', () => this.webSocketConnections.remove(this.sessionId, connectionId))
  }

  /** The user id stored with the session, or `null`. */
  async getUserId(): Promise<string | null> {
    return this.#call('getUserId', () => this.#data.getUserId())
  }

  /**
   * Sets the title `listSessions` shows for this session (instead of its first user message);
   * `null` goes back to the automatic title. Creates the session when it does not exist yet.
   */
  async setTitle(title: string | null): Promise<void> {
    return this.#call('setTitle', () => this.#data.setTitle(title))
  }

  /**
   * A Strands tool (`search_sessions`) with which an agent searches the sessions of this manager's
   * `userId` (never another user's). Without a `userId`, the tool answers that there is nothing to search.
   */
  getSessionSearchTool(
    options: SessionSearchToolOptions = {},
  ): InvokableTool<{ query: string }, SessionSearchToolResult> {
    const userId = this.#r.userId
    return createSessionSearchTool(
      userId,
      (text, limit) =>
        this.#call('searchSessions', () =>
          searchSessions(
            this.#r.collections,
            { text, limit, ...(userId !== null && { userId }) },
            { keyProvider: this.#r.keyProvider },
          ),
        ),
      options,
    )
  }

  /** The application name stored with the session, or `null`. */
  async getApplicationName(): Promise<string | null> {
    return this.#call('getApplicationName', () => this.#data.getApplicationName())
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------------------------

  /** Delivery counters of this manager's notification dispatcher. */
  get notificationStats(): DispatcherStats {
    return this.#dispatcher.stats()
  }

  /**
   * Waits until every notification queued so far (on this manager's dispatcher: the factory's, when
   * made by one) has been delivered or given up, or `timeoutMs` (default 10 s) has passed, and
   * reports what is still pending. Call it before a Lambda handler returns: the runtime freezes the
   * process as soon as the handler resolves.
   */
  async flush(options?: FlushOptions): Promise<FlushResult> {
    return this.#dispatcher.flush(options)
  }

  /**
   * Drains pending notifications, then closes the client if this manager created it (a borrowed
   * client is left open). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ownsDispatcher) await this.#dispatcher.close()
    else await this.#dispatcher.flush()
    if (this.#r.ownsClient) await this.#r.client.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
