/**
 * `doctor`: can we connect, what is the server, what can it do, are the library's indexes there,
 * and is anything waiting in the outbox.
 */
import { detectCapabilities, type ServerCapabilities } from '../../storage/capabilities.js'
import { ensureIndexes, INDEXES } from '../../storage/collections.js'
import type { CollectionKey } from '../../storage/schema.js'
import { flag, type Command } from '../command.js'
import { EXIT } from '../errors.js'

/** Index status of one collection. */
export interface CollectionReport {
  collection: string
  documents: number
  present: string[]
  missing: string[]
  /** Indexes not in the library's list (declared metadata fields, the application's own). */
  extra: string[]
}

export interface DoctorReport {
  uri: string
  database: string
  prefix: string
  pingMs: number
  server: ServerCapabilities
  collections: CollectionReport[]
  pendingNotifications: number
  ok: boolean
}

export const doctorCommand: Command = {
  path: ['doctor'],
  summary: 'Check the connection, server engine and version, capabilities and indexes',
  description: 'Exit code 0 when everything the library needs is in place, 1 otherwise.',
  options: {
    'create-indexes': { type: 'boolean', description: 'create missing indexes (idempotent), then report' },
  },
  examples: [
    'mongodb-session-manager doctor',
    'MONGODB_URI=mongodb://localhost:27017 mongodb-session-manager doctor --json',
  ],
  async run({ values, out, connect }) {
    const started = performance.now()
    const connection = await connect()
    const { client, collections } = connection
    await client.db('admin').command({ ping: 1 })
    const pingMs = Math.round(performance.now() - started)
    const server = await detectCapabilities(client)
    if (flag(values, 'create-indexes')) await ensureIndexes(client, collections)
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
    const ok = reports.every((r) => r.missing.length === 0)
    const report: DoctorReport = {
      uri: connection.redactedUri,
      database: connection.databaseName,
      prefix: connection.prefix,
      pingMs,
      server,
      collections: reports,
      pendingNotifications: pending,
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
    out.line()
    if (ok) out.line(s.green('✔ everything the library needs is in place'))
    else out.line(s.red("✘ indexes are missing: run 'doctor --create-indexes' (or start the application once)"))
    return ok ? EXIT.ok : EXIT.failure
  },
}
