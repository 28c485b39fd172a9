/**
 * Who owns the `MongoClient`. A client passed in is borrowed and never closed by us; a client
 * made from a connection string is owned and closed by `close()`.
 */
import { MongoClient, type MongoClientOptions } from 'mongodb'
import { ConfigurationError } from '../errors.js'
import { describeError, log } from '../logging.js'

/** Either an existing client (borrowed) or a connection string (we create and own the client). */
export type ConnectionOptions =
  | { client: MongoClient; connectionString?: never; clientOptions?: never }
  | { connectionString: string; clientOptions?: MongoClientOptions; client?: never }

export interface ResolvedConnection {
  client: MongoClient
  owned: boolean
}

/** Defaults for clients we create: a shared pool sized for web servers, fail fast when the server is down. */
export const DEFAULT_CLIENT_OPTIONS: MongoClientOptions = {
  maxPoolSize: 100,
  minPoolSize: 0,
  maxIdleTimeMS: 30_000,
  serverSelectionTimeoutMS: 5_000,
  connectTimeoutMS: 10_000,
  retryWrites: true,
  retryReads: true,
  appName: 'mongodb-session-manager',
}

export function resolveConnection(options: {
  client?: MongoClient | undefined
  connectionString?: string | undefined
  clientOptions?: MongoClientOptions | undefined
}): ResolvedConnection {
  if (options.client && options.connectionString) {
    throw new ConfigurationError('pass either `client` or `connectionString`, not both')
  }
  if (options.client) {
    if (!(options.client instanceof MongoClient)) {
      throw new ConfigurationError('`client` must be a MongoClient from the `mongodb` package')
    }
    return { client: options.client, owned: false }
  }
  if (typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
    throw new ConfigurationError('a MongoDB `connectionString` or an existing `client` is required')
  }
  if (!/^mongodb(\+srv)?:\/\//.test(options.connectionString)) {
    throw new ConfigurationError('`connectionString` must start with mongodb:// or mongodb+srv://')
  }
  try {
    const debug = log.isDebug()
    const client = new MongoClient(options.connectionString, {
      ...DEFAULT_CLIENT_OPTIONS,
      // At debug level every write is logged (collection and command, never documents or credentials).
      ...(debug && { monitorCommands: true }),
      ...options.clientOptions,
    })
    if (debug) logWrites(client)
    return { client, owned: true }
  } catch (error) {
    // The driver's message can quote the URI: redact it, and do not attach the original error.
    throw new ConfigurationError(`invalid MongoDB connection string or client options: ${describeError(error)}`)
  }
}

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'createIndexes'])

/**
 * Logs each write command of `client` at debug level: what and where, never the documents.
 * For a borrowed client, call it yourself after creating the client with `monitorCommands: true`.
 */
export function logWrites(client: MongoClient): void {
  client.on('commandStarted', (event) => {
    if (!WRITE_COMMANDS.has(event.commandName) || !log.isDebug()) return
    const command = event.command as Record<string, unknown>
    const batch = (command.documents ?? command.updates ?? command.deletes) as unknown[] | undefined
    log.debug(
      {
        db: event.databaseName,
        collection: String(command[event.commandName]),
        ...(batch !== undefined && { operations: batch.length }),
        request_id: event.requestId,
      },
      `mongodb ${event.commandName}`,
    )
  })
}
