/**
 * mongodb-session-manager — MongoDB session persistence for Strands Agents.
 *
 * Every export is named here (no `export *`), so the public surface is deliberate.
 */
export { MongoDBSessionManager, DEFAULT_DATABASE_NAME, type MongoDBSessionManagerOptions } from './session/manager.js'
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
  type MongoSessionErrorCode,
} from './errors.js'
export { configureLogger, LOGGER_NAMESPACE, type Logger, type LogLevel } from './logging.js'

// Session data (issue: metadata, feedback, metrics, agent config, guardrail audit, catalogue)
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
} from './features/catalogue.js'
export type { AgentConfig, AgentConfigUpdate, AgentSummary, PromptMetadata } from './features/agent-config.js'
export type { FeedbackCounts, FeedbackPage, FeedbackPageOptions } from './features/feedback.js'
export { recountFeedback } from './features/feedback.js'
export type { GuardrailEvent, GuardrailEventPage, PoliciesTriggered } from './features/guardrails.js'
export type { MetadataToolOptions, MetadataToolResult } from './features/metadata-tool.js'
export type { MetricsSummary, MetricsTotals } from './features/metrics.js'

// Hooks and notification delivery
export type {
  Feedback,
  FeedbackHook,
  FeedbackInput,
  FeedbackOriginal,
  FeedbackRating,
  HookContext,
  Metadata,
  MetadataAction,
  MetadataHook,
  MetadataHookArgs,
  MetadataHookResults,
  MetadataOriginal,
  MetadataValue,
  Notification,
  NotificationRequest,
  NotificationSender,
} from './hooks/types.js'
export { MAX_FEEDBACK_COMMENT_LENGTH } from './hooks/types.js'
export { NotificationDispatcher, type NotificationDispatcherOptions, type DispatcherStats } from './hooks/dispatcher.js'
export {
  relayPendingNotifications,
  startOutboxRelay,
  type RelayOptions,
  type RelayResult,
  type OutboxRelayWorker,
  type OutboxRelayWorkerOptions,
} from './hooks/outbox-relay.js'
export { toOutboxEntry, fromOutboxEntry, type OutboxEntryDocument } from './hooks/outbox.js'

// AWS integrations (the AWS SDK v3 clients are optional peer dependencies, loaded lazily)
export {
  createFeedbackSnsHook,
  createMetadataSqsHook,
  createMetadataWebSocketHook,
  isFeedbackSnsHookAvailable,
  isMetadataSqsHookAvailable,
  isMetadataWebSocketHookAvailable,
  createSnsSender,
  createSqsSender,
  createWebSocketSender,
  createWebSocketConnectionRegistry,
  isPermanentAwsError,
  buildFeedbackSubject,
  buildFeedbackMessage,
  buildMetadataEvent,
  serializeMetadataEvent,
  EVENT_ID_ATTRIBUTE,
  type FeedbackSnsHook,
  type FeedbackSnsHookOptions,
  type MetadataSqsHook,
  type MetadataSqsHookOptions,
  type MetadataWebSocketHook,
  type MetadataWebSocketHookOptions,
  type SnsSenderOptions,
  type SqsSenderOptions,
  type WebSocketSenderOptions,
  type WebSocketConnectionRegistry,
  type MetadataEventBody,
  type AwsClientLike,
} from './aws/index.js'
