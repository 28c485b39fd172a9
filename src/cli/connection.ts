/**
 * Opening the database for a command from `--uri` / `MONGODB_URI`, `--db`, `--prefix`.
 * The connection string is only ever shown redacted.
 */
import type { MongoClient } from 'mongodb'
import { openCollections, type SessionCollections } from '../storage/collections.js'
import { DEFAULT_DATABASE_NAME } from '../storage/collections.js'
import { DEFAULT_CLIENT_OPTIONS, resolveConnection } from '../session/connection.js'
import { describeError, redactText, redactUri, rememberSecretsOf } from '../redaction.js'
import { intOption, stringOption, type OptionValues } from './command.js'
import { CliError, UsageError } from './errors.js'

/** An open connection for one command run. */
export interface Connection {
  client: MongoClient
  collections: SessionCollections
  databaseName: string
  prefix: string
  /** The connection string with credentials removed, safe to print. */
  redactedUri: string
  close(): Promise<void>
}

/** Connection settings from the options and environment; validated without connecting. */
export interface ConnectionSettings {
  uri: string
  databaseName: string
  prefix: string
  timeoutMs: number
}

/** Reads `--uri`/`MONGODB_URI`, `--db`/`MONGODB_DATABASE`, `--prefix`, `--timeout`. */
export function connectionSettings(values: OptionValues, env: NodeJS.ProcessEnv): ConnectionSettings {
  const uri = stringOption(values, 'uri') ?? env.MONGODB_URI
  if (!uri) throw new UsageError('no MongoDB connection string: pass --uri or set MONGODB_URI')
  // From here on, every message of this process masks the string's secrets, wherever they appear.
  rememberSecretsOf(uri)
  if (!/^mongodb(\+srv)?:\/\//.test(uri)) {
    throw new UsageError(`--uri must start with mongodb:// or mongodb+srv:// (got ${JSON.stringify(redactUri(uri))})`)
  }
  const databaseName = stringOption(values, 'db') ?? env.MONGODB_DATABASE ?? DEFAULT_DATABASE_NAME
  if (!/^[^/\\. "$*<>:|?\u0000]{1,63}$/.test(databaseName)) {
    throw new UsageError(`--db ${JSON.stringify(databaseName)} is not a valid MongoDB database name`)
  }
  const prefix = stringOption(values, 'prefix') ?? ''
  if (!/^[A-Za-z0-9_-]{0,40}$/.test(prefix)) {
    throw new UsageError('--prefix may only contain letters, digits, "_" and "-" (at most 40)')
  }
  const timeoutMs = intOption(values, 'timeout', 5_000, 100, 600_000)
  return { uri, databaseName, prefix, timeoutMs }
}

/** Connects (failing within the timeout when the server is unreachable) and opens the collections. */
export async function openConnection(settings: ConnectionSettings): Promise<Connection> {
  const redactedUri = redactUri(settings.uri)
  let client: MongoClient
  try {
    // Defaults only: whatever the connection string sets wins.
    client = resolveConnection({
      connectionString: settings.uri,
      defaults: {
        ...DEFAULT_CLIENT_OPTIONS,
        serverSelectionTimeoutMS: settings.timeoutMs,
        connectTimeoutMS: settings.timeoutMs,
        appName: 'mongodb-session-manager-cli',
        maxPoolSize: 10,
      },
    }).client
  } catch (error) {
    throw new UsageError(redactText(error instanceof Error ? error.message : String(error), settings.uri))
  }
  try {
    await client.connect()
  } catch (error) {
    await client.close().catch(() => undefined)
    const reason = describeError(error, settings.uri).replace(/^[A-Za-z]+: /, '')
    throw new CliError(`cannot connect to ${redactedUri}: ${reason}`)
  }
  const db = client.db(settings.databaseName)
  return {
    client,
    collections: openCollections(db, settings.prefix),
    databaseName: settings.databaseName,
    prefix: settings.prefix,
    redactedUri,
    close: () => client.close(),
  }
}
