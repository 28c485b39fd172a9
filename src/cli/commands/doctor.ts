/**
 * `doctor`: can we connect, what is the server, what can it do, are the library's indexes there,
 * and is anything waiting in the outbox. With `--check`, also runs the engine probes
 * (`checkDeployment`) in a throwaway database.
 */
import { checkDeployment, type DeploymentCheck, type ProbeStatus } from '../../diagnostics/engine-check.js'
import { detectCapabilities, type ServerCapabilities } from '../../storage/capabilities.js'
import { ensureTextIndexes } from '../../storage/text-index.js'
import { ensureIndexes, EXPIRY_INDEX, EXPIRY_TTL_INDEX, INDEXES } from '../../storage/collections.js'
import type { CollectionKey } from '../../storage/schema.js'
import { flag, intOption, stringOption, type Command } from '../command.js'
import { connectionSettings } from '../connection.js'
import { EXIT } from '../errors.js'
import type { Output } from '../output.js'

/** Index status of one collection. */
export interface CollectionReport {
  collection: string
  documents: number
  present: string[]
  missing: string[]
  /** Indexes not in the library's list (declared metadata fields, the application's own). */
  extra: string[]
}

/** How expired sessions are removed, as the indexes on `sessions.expires_at` say. */
export interface RetentionReport {
  /**
   * - `ttl`: a TTL index (engines with TTL indexes): the server deletes expired session documents
   *   after a grace period, and `sessions prune` deletes the rest;
   * - `prune`: a plain index (engines without TTL indexes, e.g. FerretDB 1.x): `sessions prune` does it all;
   * - `off`: no expiry index: retention is not configured (or its indexes not created yet).
   */
  mode: 'ttl' | 'prune' | 'off'
  /** Expired sessions whose documents are still stored (waiting for `sessions prune`). */
  expiredSessions: number
}

export interface DoctorReport {
  uri: string
  database: string
  prefix: string
  pingMs: number
  server: ServerCapabilities
  collections: CollectionReport[]
  pendingNotifications: number
  retention: RetentionReport
  /** The engine probes, with `--check`. */
  check?: DeploymentCheck
  ok: boolean
}

const STATUS_LABEL: Record<ProbeStatus, string> = { pass: 'pass', fail: 'FAIL', warn: 'warn', info: 'info' }

function printCheck(out: Output, check: DeploymentCheck): void {
  const s = out.style
  const paint: Record<ProbeStatus, (text: string) => string> = {
    pass: s.green,
    fail: (text) => s.bold(s.red(text)),
    warn: s.yellow,
    info: s.cyan,
  }
  out.heading(`Engine check (throwaway database ${check.databaseName}, ${check.dropped ? 'dropped' : 'NOT dropped'})`)
  out.table(
    ['', 'PROBE', 'RESULT'],
    check.probes.map((p) => [paint[p.status](STATUS_LABEL[p.status]), p.title, p.detail]),
  )
  const advice = check.probes.filter((p) => p.advice !== undefined)
  if (advice.length > 0) {
    out.line()
    for (const p of advice) out.line(`  ${paint[p.status](p.title)}: ${p.advice}`)
  }
  if (!check.dropped) out.line(s.yellow(`  drop the database ${check.databaseName} yourself: it could not be dropped`))
}

export const doctorCommand: Command = {
  path: ['doctor'],
  summary: 'Check the connection, server engine and version, capabilities and indexes',
  description:
    'Exit code 0 when everything the library needs is in place, 1 otherwise.\n' +
    '--check also runs the engine probes (atomicity, compare-and-set, unique indexes, operators, document\n' +
    'size, retryable writes, TTL indexes, transactions) in a throwaway database that is dropped afterwards;\n' +
    'a required probe that fails makes the exit code 1, missing optional features are warnings.',
  options: {
    'create-indexes': { type: 'boolean', description: 'create missing indexes (idempotent), then report' },
    check: { type: 'boolean', description: 'run the engine probes in a throwaway database' },
    'check-db': {
      type: 'string',
      value: '<name>',
      description: 'throwaway database for --check; must not exist (default: msm_check_<random>)',
    },
    'probe-timeout': { type: 'string', value: '<ms>', description: 'time limit of each probe (default 30000)' },
  },
  examples: [
    'mongodb-session-manager doctor',
    'MONGODB_URI=mongodb://localhost:27017 mongodb-session-manager doctor --json',
    'mongodb-session-manager doctor --check',
  ],
  async run({ values, out, connect, env }) {
    const check = flag(values, 'check')
    const checkDb = stringOption(values, 'check-db')
    const probeTimeoutMs = intOption(values, 'probe-timeout', 30_000, 100, 600_000)
    const started = performance.now()
    const connection = await connect()
    const { client, collections } = connection
    await client.db('admin').command({ ping: 1 })
    const pingMs = Math.round(performance.now() - started)
    const server = await detectCapabilities(client)
    if (flag(values, 'create-indexes')) {
      await ensureIndexes(client, collections)
      // Best effort (never throws); on engines without text indexes it does nothing.
      await ensureTextIndexes(client, collections)
    }
    const reports: CollectionReport[] = []
    for (const [key, wanted] of Object.entries(INDEXES) as [CollectionKey, (typeof INDEXES)[CollectionKey]][]) {
      const collection = collections[key]
      const existing = (
        await collection
          .listIndexes()
          .toArray()
          .catch(() => [])
      ).map((i) => String(i.name))
      const names = wanted.map((i) => String(i.name))
      reports.push({
        collection: collection.collectionName,
        documents: await collection.estimatedDocumentCount().catch(() => 0),
        present: names.filter((n) => existing.includes(n)),
        missing: names.filter((n) => !existing.includes(n)),
        extra: existing.filter((n) => n !== '_id_' && !names.includes(n)),
      })
    }
    const pending =
      (await collections.sessions.countDocuments({ 'outbox.due_at': { $exists: true } })) +
      (await collections.feedback.countDocuments({ 'outbox.due_at': { $exists: true } }))
    const indexesOk = reports.every((r) => r.missing.length === 0)
    const sessionIndexes = reports.find((r) => r.collection === collections.sessions.collectionName)?.extra ?? []
    const retention: RetentionReport = {
      mode: sessionIndexes.includes(EXPIRY_TTL_INDEX) ? 'ttl' : sessionIndexes.includes(EXPIRY_INDEX) ? 'prune' : 'off',
      expiredSessions: await collections.sessions.countDocuments({ expires_at: { $lte: new Date() } }),
    }
    let checked: DeploymentCheck | undefined
    if (check) {
      const settings = connectionSettings(values, env)
      // From the connection string, as the library makes its client: the check can then go on with
      // retryWrites=false when the deployment rejects retryable writes.
      checked = await checkDeployment({
        connectionString: settings.uri,
        clientOptions: {
          serverSelectionTimeoutMS: settings.timeoutMs,
          connectTimeoutMS: settings.timeoutMs,
          appName: 'mongodb-session-manager-cli',
        },
        ...(checkDb !== undefined && { databaseName: checkDb }),
        timeoutMs: probeTimeoutMs,
      })
    }
    const ok = indexesOk && (checked?.ok ?? true)
    const report: DoctorReport = {
      uri: connection.redactedUri,
      database: connection.databaseName,
      prefix: connection.prefix,
      pingMs,
      server,
      collections: reports,
      pendingNotifications: pending,
      retention,
      ...(checked && { check: checked }),
      ok,
    }
    if (out.json) {
      out.printJson(report)
      return ok ? EXIT.ok : EXIT.failure
    }
    const s = out.style
    const yes = (v: boolean) => (v ? s.green('yes') : s.dim('no'))
    out.heading('Connection')
    out.fields([
      ['uri', report.uri],
      ['database', `${report.database}${report.prefix ? ` (prefix ${report.prefix})` : ''}`],
      ['ping', `${pingMs} ms (connect + ping)`],
    ])
    out.line()
    out.heading('Server')
    out.fields([
      ['engine', `${server.engine} ${server.version} (MongoDB ${server.mongodbCompatibility} compatible)`],
      ['max document size', `${(server.maxBsonObjectSize / 1024 / 1024).toFixed(0)} MiB`],
      ['transactions', yes(server.transactions)],
      ['TTL indexes', yes(server.ttlIndexes)],
      ['change streams', yes(server.changeStreams)],
      ['text indexes', yes(server.textIndexes)],
    ])
    out.line()
    out.heading('Collections and indexes')
    out.table(
      ['COLLECTION', 'DOCUMENTS', 'INDEXES', 'MISSING', 'OTHER'],
      reports.map((r) => [
        r.collection,
        String(r.documents),
        `${r.present.length}/${r.present.length + r.missing.length}`,
        r.missing.length > 0 ? s.red(r.missing.join(', ')) : s.green('none'),
        r.extra.length > 0 ? r.extra.join(', ') : s.dim('-'),
      ]),
    )
    out.line()
    out.fields(
      [['pending notifications', pending > 0 ? s.yellow(`${pending} document(s) with an outbox (run 'relay')`) : '0']],
      '',
    )
    const expired = retention.expiredSessions > 0 ? `; ${retention.expiredSessions} expired session(s) to prune` : ''
    const mode = {
      ttl: `TTL index (the server deletes expired session documents after a grace period; 'sessions prune' deletes the rest)${expired}`,
      prune: `prune ('sessions prune' deletes expired sessions; this engine has no TTL indexes)${expired}`,
      off: s.dim('off (no expiry index: retention not configured)'),
    }[retention.mode]
    out.fields([['retention', mode]], '')
    out.line()
    if (checked) {
      printCheck(out, checked)
      out.line()
    }
    if (!indexesOk)
      out.line(s.red("✘ indexes are missing: run 'doctor --create-indexes' (or start the application once)"))
    if (checked && !checked.ok) {
      const failed = checked.probes.filter((p) => p.required && p.status === 'fail').map((p) => p.title)
      out.line(s.red(`✘ the deployment fails ${failed.length} required engine probe(s): ${failed.join(', ')}`))
    }
    if (ok) {
      const warnings = checked?.probes.filter((p) => p.status === 'warn').length ?? 0
      const suffix = checked
        ? `; every required engine probe passed${warnings > 0 ? ` (${warnings} warning(s))` : ''}`
        : ''
      out.line(s.green(`✔ everything the library needs is in place${suffix}`))
    }
    return ok ? EXIT.ok : EXIT.failure
  },
}
