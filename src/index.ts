/**
 * mongodb-session-manager — MongoDB session persistence for Strands Agents.
 *
 * Every export is named here (no `export *`), so the public surface is deliberate.
 */
export { MongoDBSessionManager, DEFAULT_DATABASE_NAME, type MongoDBSessionManagerOptions } from './session/manager.js'
export type { EncryptionOptions, RetentionOptions } from './session/options.js'
export { DEFAULT_CLIENT_OPTIONS, logWrites } from './session/connection.js'
export {
  MongoDBSessionManagerFactory,
  initializeGlobalFactory,
  getGlobalFactory,
  closeGlobalFactory,
  createMongoDBSessionManager,
  type MongoDBSessionManagerFactoryOptions,
  type SessionManagerDefaults,
  type ConnectionStats,
} from './session/factory.js'
export { MongoStorage, type MongoStorageOptions } from './storage/mongo-storage.js'
export type { SessionCollections } from './storage/collections.js'
export { detectCapabilities, type ServerCapabilities } from './storage/capabilities.js'
export {
  checkDeployment,
  type CheckDeploymentOptions,
  type DeploymentCheck,
  type ProbeResult,
  type ProbeStatus,
} from './diagnostics/engine-check.js'
export {
  MongoSessionError,
  ValidationError,
  NotFoundError,
  SessionConflictError,
  DocumentTooLargeError,
  StorageOperationError,
  DatabaseUnavailableError,
  ConfigurationError,
  ClosedError,
  DecryptionError,
  type MongoSessionErrorCode,
} from './errors.js'
export {
  createLocalKeyProvider,
  type KeyProvider,
  type LocalKeyProviderOptions,
} from './storage/crypto/key-provider.js'
export { rotateMasterKey, type RotateMasterKeyOptions, type RotateMasterKeyResult } from './features/encryption.js'
export { configureLogger, LOGGER_NAMESPACE, type Logger, type LogLevel } from './logging.js'

// Session data: metadata, feedback, metrics, agent config, guardrail audit, catalogue
export {
  listSessions,
  deleteSessions,
  type ListSessionsQuery,
  type DeleteSessionsFilter,
  type SessionFilter,
  type SessionSummary,
  type SessionPage,
  type SessionDeleteCounts,
  type CatalogueOptions,
  type MetadataFilterValue,
  type SessionTokenTotals,
} from './features/catalogue.js'
export {
  searchSessions,
  SEARCH_SESSION_WINDOW,
  SEARCH_MESSAGE_SESSIONS,
  SEARCH_MESSAGE_LIMIT,
  SEARCH_TEXT_USER_SESSIONS,
  SEARCH_TEXT_MESSAGE_LIMIT,
  type SearchSessionsQuery,
  type SessionSearchHit,
  type SessionSearchMode,
  type CatalogueSearchOptions,
} from './features/session-search.js'
export type { SessionSearchToolOptions, SessionSearchToolResult } from './features/session-search-tool.js'
export {
  pruneExpiredSessions,
  type PruneOptions,
  type PruneProgress,
  type PruneResult,
  type PruneTarget,
  type RetentionCounts,
} from './features/retention.js'
export type { AgentConfig, AgentConfigUpdate, AgentSummary, PromptMetadata } from './features/agent-config.js'
export type { FeedbackCounts, FeedbackPage, FeedbackPageOptions } from './features/feedback.js'
export { recountFeedback } from './features/feedback.js'
export type { GuardrailEvent, GuardrailEventPage, PoliciesTriggered } from './features/guardrails.js'
export type { MetadataToolOptions, MetadataToolResult } from './features/metadata-tool.js'
export type { MetricsSummary, MetricsTotals } from './features/metrics.js'

// The data model, hooks and notification delivery
export type {
  Feedback,
  FeedbackInput,
  FeedbackRating,
  Metadata,
  MetadataAction,
  MetadataHookArgs,
  MetadataHookResults,
  MetadataValue,
  Notification,
  NotificationRequest,
  NotificationSender,
  NotificationSendOptions,
} from './model/types.js'
export { MAX_FEEDBACK_COMMENT_LENGTH } from './model/types.js'
export type { FeedbackHook, FeedbackOriginal, HookContext, MetadataHook, MetadataOriginal } from './hooks/types.js'
export {
  NotificationDispatcher,
  type NotificationDispatcherOptions,
  type DispatcherStats,
  type FlushOptions,
  type FlushResult,
} from './notifications/dispatcher.js'
export {
  relayPendingNotifications,
  startOutboxRelay,
  type RelayOptions,
  type RelayResult,
  type OutboxRelayWorker,
  type OutboxRelayWorkerOptions,
} from './notifications/outbox-relay.js'
export { toOutboxEntry, fromOutboxEntry, type OutboxEntryDocument } from './notifications/outbox.js'

// The WebSocket connection registry lives with the session; the AWS hooks, senders and wire
// formats are in the `mongodb-session-manager/aws` entry, so this one never loads an AWS package.
export {
  createWebSocketConnectionRegistry,
  type WebSocketConnectionRegistry,
} from './features/websocket-connections.js'
