/**
 * Who owns the `MongoClient`. A client passed in is borrowed and never closed by us; a client
 * made from a connection string is owned and closed by `close()`.
 */
import { MongoClient, type MongoClientOptions } from 'mongodb'
import { ConfigurationError, DatabaseUnavailableError } from '../errors.js'
import { toLibraryError } from '../storage/driver-errors.js'
import { describeError, log } from '../logging.js'
import { rememberSecretsOf } from '../redaction.js'

/** Either an existing client (borrowed) or a connection string (we create and own the client). */
export type ConnectionOptions =
  | { client: MongoClient; connectionString?: never; clientOptions?: never }
  | { connectionString: string; clientOptions?: MongoClientOptions; client?: never }

export interface ResolvedConnection {
  client: MongoClient
  owned: boolean
}

/** Deadline of each public operation unless the options (or the client's `timeoutMS`) set one. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 30_000

/**
 * Defaults for clients we create: a shared pool sized for web servers, and a bounded wait for a
 * server when none answers. Each applies only where neither the connection string nor
 * `clientOptions` says anything: what the user sets always wins.
 */
export const DEFAULT_CLIENT_OPTIONS: Readonly<MongoClientOptions> = Object.freeze({
  maxPoolSize: 100,
  minPoolSize: 0,
  maxIdleTimeMS: 30_000,
  serverSelectionTimeoutMS: 5_000,
  connectTimeoutMS: 10_000,
  retryWrites: true,
  retryReads: true,
  appName: 'mongodb-session-manager',
})

/** Lower-cased names of the options given in a connection string's query. */
export function connectionStringOptionNames(connectionString: string): Set<string> {
  // Credentials, hosts and the path cannot hold an unencoded '?': the first one starts the query.
  const start = connectionString.indexOf('?')
  const query = start >= 0 ? connectionString.slice(start + 1).split('#')[0]! : ''
  const names = new Set<string>()
  for (const pair of query.split('&')) {
    const name = pair.split('=')[0]
    if (!name) continue
    try {
      names.add(decodeURIComponent(name).toLowerCase())
    } catch {
      names.add(name.toLowerCase())
    }
  }
  return names
}

/**
 * The options for a client created from `connectionString`: `clientOptions`, plus each library
 * default that neither the connection string nor `clientOptions` sets.
 */
export function effectiveClientOptions(
  connectionString: string,
  clientOptions: MongoClientOptions = {},
  defaults: Readonly<MongoClientOptions> = DEFAULT_CLIENT_OPTIONS,
): MongoClientOptions {
  const given = connectionStringOptionNames(connectionString)
  for (const name of Object.keys(clientOptions)) given.add(name.toLowerCase())
  const unset = Object.entries(defaults).filter(([name]) => !given.has(name.toLowerCase()))
  return { ...Object.fromEntries(unset), ...clientOptions }
}

export function resolveConnection(options: {
  client?: MongoClient | undefined
  connectionString?: string | undefined
  clientOptions?: MongoClientOptions | undefined
  /** Defaults for a created client, in place of {@link DEFAULT_CLIENT_OPTIONS} (the CLI has its own). */
  defaults?: Readonly<MongoClientOptions>
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
  // Secrets of the connection string are masked wherever a later message would quote them.
  rememberSecretsOf(options.connectionString)
  try {
    const debug = log.isDebug()
    const client = new MongoClient(options.connectionString, {
      // At debug level every write is logged (collection and command, never documents or credentials).
      ...(debug && { monitorCommands: true }),
      ...effectiveClientOptions(options.connectionString, options.clientOptions, options.defaults),
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

/** One `ping` that must answer within `timeoutMs`, whatever the client's own timeouts. */
export async function pingWithin(client: MongoClient, timeoutMs: number): Promise<{ ok: true; latencyMs: number }> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigurationError(`healthCheck timeoutMs must be a positive number, got ${String(timeoutMs)}`)
  }
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DatabaseUnavailableError('timeout', `health check: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  const ping = (async () => {
    // connect() waits for server selection, which has its own, possibly longer, timeout.
    await client.connect()
    await client.db('admin').command({ ping: 1 }, { timeoutMS: timeoutMs })
  })()
  ping.catch(() => undefined)
  try {
    await Promise.race([ping, deadline])
  } catch (error) {
    throw toLibraryError(error, 'health check')
  } finally {
    clearTimeout(timer)
  }
  return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 }
}
