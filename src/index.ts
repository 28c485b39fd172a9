/**
 * mongodb-session-manager — MongoDB session persistence for Strands Agents.
 *
 * Every export is named here (no `export *`), so the public surface is deliberate.
 */
export { MongoDBSessionManager, DEFAULT_DATABASE_NAME, type MongoDBSessionManagerOptions } from './session/manager.js'
export { DEFAULT_CLIENT_OPTIONS } from './session/connection.js'
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
export type { DeletedCounts } from './storage/session-delete.js'
export type { SessionCollections } from './storage/collections.js'
export { detectCapabilities, type ServerCapabilities } from './storage/capabilities.js'
export {
  MongoSessionError,
  ValidationError,
  NotFoundError,
  SessionConflictError,
  DocumentTooLargeError,
  StorageOperationError,
  ConfigurationError,
  ClosedError,
  UnsupportedError,
  type MongoSessionErrorCode,
} from './errors.js'
export { configureLogger, LOGGER_NAMESPACE, type Logger, type LogLevel } from './logging.js'
