/**
 * `checkDeployment`: runs the engine probes (see `engine-probes.ts`) against a deployment, in a
 * throwaway database that is dropped afterwards, and reports what passed and what did not.
 *
 * The probes write (about 17 MiB in total, most of it one near-limit document), so the database
 * must not exist yet: a name that already holds collections is refused rather than dropped.
 */
import { randomBytes } from 'node:crypto'
import type { Document, MongoClient, MongoClientOptions } from 'mongodb'
import { DatabaseUnavailableError, ValidationError } from '../errors.js'
import { describeError } from '../logging.js'
import { detectCapabilities, type ServerCapabilities } from '../storage/capabilities.js'
import { toLibraryError } from '../storage/driver-errors.js'
import { resolveConnection } from '../session/connection.js'
import { PROBES, type Probe, type ProbeContext, type ProbeStatus } from './engine-probes.js'

export type { ProbeStatus } from './engine-probes.js'

/** Options of {@link checkDeployment}: a client (borrowed, left open) or a connection string. */
export type CheckDeploymentOptions = (
  | { client: MongoClient; connectionString?: never; clientOptions?: never }
  | { connectionString: string; clientOptions?: MongoClientOptions; client?: never }
) & {
  /**
   * The throwaway database the probes write to, dropped afterwards. It must not exist yet.
   * Default: `msm_check_<time>_<random>`.
   */
  databaseName?: string
  /**
   * Time limit of each probe, in milliseconds (default 30 000). A probe over it fails. Connecting and
   * dropping the database get at least 10 s.
   */
  timeoutMs?: number
}

/** The outcome of one probe. */
export interface ProbeResult {
  id: string
  title: string
  /** `fail` only for required probes; a missing optional feature is a `warn`. */
  status: ProbeStatus
  required: boolean
  /** What was measured. */
  detail: string
  /** What to do about a `fail` or `warn`. */
  advice?: string
  durationMs: number
}

/** The report of {@link checkDeployment}. */
export interface DeploymentCheck {
  /** Every required probe passed. */
  ok: boolean
  server: ServerCapabilities
  /** The throwaway database the probes used. */
  databaseName: string
  /** Whether it was dropped afterwards (if not, drop it yourself). */
  dropped: boolean
  probes: ProbeResult[]
}

const DEFAULT_TIMEOUT_MS = 30_000
const DATABASE_NAME = /^[^/\\. "$*<>:|?\u0000]{1,63}$/

/** A step that ran past its time limit. */
class TimeLimitError extends Error {
  override readonly name = 'TimeLimitError'
}

/** Runs `operation`, rejecting when it has not settled within `ms` (the operation itself is not cancelled). */
async function within<T>(ms: number, operation: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeLimitError(`did not finish within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([operation(), deadline])
  } finally {
    clearTimeout(timer)
  }
}

async function runProbe(
  probe: Probe,
  context: ProbeContext,
  timeoutMs: number,
): Promise<{ result: ProbeResult; retryableWritesRejected: boolean }> {
  const started = performance.now()
  let outcome: Pick<ProbeResult, 'status' | 'detail' | 'advice'>
  let retryableWritesRejected = false
  try {
    const { retryableWritesRejected: rejected, ...rest } = await within(timeoutMs, () => probe.run(context))
    outcome = rest
    retryableWritesRejected = rejected === true
  } catch (error) {
    const detail = error instanceof TimeLimitError ? error.message : `error: ${describeError(error)}`
    outcome = { status: probe.required ? 'fail' : 'warn', detail }
  }
  return {
    result: {
      id: probe.id,
      title: probe.title,
      required: probe.required,
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    },
    retryableWritesRejected,
  }
}

function validate(options: CheckDeploymentOptions): { databaseName: string; timeoutMs: number } {
  const databaseName = options.databaseName ?? `msm_check_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  if (!DATABASE_NAME.test(databaseName)) {
    throw new ValidationError(`databaseName ${JSON.stringify(databaseName)} is not a valid MongoDB database name`, {
      field: 'databaseName',
    })
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 100) {
    throw new ValidationError('timeoutMs must be an integer of at least 100', { field: 'timeoutMs' })
  }
  return { databaseName, timeoutMs }
}

/**
 * Checks that a deployment gives the guarantees and operators the library relies on: per-document
 * atomicity under concurrent updates, compare-and-set with exactly one winner, unique-index
 * enforcement, the update/query/aggregation operators it uses, `findOneAndUpdate`, `bulkWrite`,
 * a near-limit document, and retryable writes; plus the optional TTL indexes and transactions.
 *
 * Runs in a throwaway database (dropped afterwards, even when a probe fails). Throws a
 * `ValidationError` for bad options or a database that already exists, and a
 * `DatabaseUnavailableError` when the deployment cannot be reached; a probe that fails is reported,
 * not thrown.
 *
 * @example
 * const report = await checkDeployment({ connectionString: process.env.MONGODB_URI! })
 * for (const probe of report.probes) console.log(probe.status, probe.title, probe.detail)
 * if (!report.ok) process.exitCode = 1
 */
export async function checkDeployment(options: CheckDeploymentOptions): Promise<DeploymentCheck> {
  const { databaseName, timeoutMs } = validate(options)
  // Connecting, listing and dropping get at least 10 s whatever the probes' limit: on a busy server
  // they can wait behind other clients' writes, and cutting them short would misreport the drop.
  const stepMs = Math.max(timeoutMs, 10_000)
  const { client, owned } = resolveConnection(options)
  // Replaced by a client with retryWrites=false when the deployment rejects retryable writes.
  let probeClient = client
  try {
    let hello: Document
    let server: ServerCapabilities
    try {
      await within(stepMs, () => client.connect())
      hello = await within(stepMs, () => client.db('admin').command({ hello: 1 }))
      server = await within(stepMs, () => detectCapabilities(client))
    } catch (error) {
      if (error instanceof TimeLimitError) {
        throw new DatabaseUnavailableError(
          'timeout',
          `check deployment: the server did not answer within ${timeoutMs} ms`,
        )
      }
      throw toLibraryError(error, 'check deployment')
    }
    const listCollections = () =>
      within(stepMs, () => client.db(databaseName).listCollections({}, { nameOnly: true }).toArray())
    const existing = await listCollections()
    if (existing.length > 0) {
      throw new ValidationError(
        `database '${databaseName}' already exists (${existing.length} collections); ` +
          'the check needs a new database it can drop afterwards',
        { field: 'databaseName' },
      )
    }
    const probes: ProbeResult[] = []
    try {
      for (const probe of PROBES) {
        const context: ProbeContext = { client: probeClient, db: probeClient.db(databaseName), server, hello }
        const { result, retryableWritesRejected } = await runProbe(probe, context, timeoutMs)
        if (retryableWritesRejected && owned && probeClient === client) {
          // Every later write would fail the same way: go on with the setting the advice asks for.
          probeClient = resolveConnection({
            connectionString: options.connectionString!,
            clientOptions: { ...options.clientOptions, retryWrites: false },
          }).client
          result.detail += '; the other probes ran with retryWrites=false'
        }
        probes.push(result)
      }
    } finally {
      // Dropped even after a failed probe; a probe still running past its limit may recreate a
      // collection, so `dropped` reports what the server lists afterwards.
      await within(stepMs, () => client.db(databaseName).dropDatabase()).catch(() => undefined)
    }
    const remaining = await listCollections().catch(() => [{}])
    return {
      ok: probes.every((p) => !p.required || p.status !== 'fail'),
      server,
      databaseName,
      dropped: remaining.length === 0,
      probes,
    }
  } finally {
    // Closing sends endSessions, which a server that stopped answering never acknowledges.
    if (probeClient !== client) await within(stepMs, () => probeClient.close()).catch(() => undefined)
    if (owned) await within(stepMs, () => client.close()).catch(() => undefined)
  }
}
