/**
 * The engine probes behind `checkDeployment`: each exercises, against the real deployment, one
 * guarantee or operator the library relies on, and says what it measured.
 *
 * Every probe works in its own collection of a throwaway database, so a probe that ran past its
 * time limit cannot disturb the next one. Values are checked exactly: an engine that accepts an
 * operator but applies it wrongly (FerretDB 1.24 computes only the first `$sum` of a `$group`)
 * fails the probe rather than passing it.
 */
import { isDeepStrictEqual } from 'node:util'
import { Binary, MongoServerError, type Db, type Document, type MongoClient, type UpdateFilter } from 'mongodb'
import { describeError } from '../logging.js'
import type { ServerCapabilities } from '../storage/capabilities.js'
import { ensureIndexes, INDEXES, openCollections } from '../storage/collections.js'
import { textIndexSpecs } from '../storage/text-index.js'

/** `fail` only for required probes; optional features that are missing are a `warn`. */
export type ProbeStatus = 'pass' | 'fail' | 'warn' | 'info'

export interface ProbeOutcome {
  status: ProbeStatus
  /** What was measured, in one line. */
  detail: string
  /** What to do about a `fail` or `warn`. */
  advice?: string
  /** Set by the retryable-writes probe when the deployment refuses them: later writes need retryWrites=false. */
  retryableWritesRejected?: true
}

/** What a probe runs against. */
export interface ProbeContext {
  client: MongoClient
  /** The throwaway database. */
  db: Db
  server: ServerCapabilities
  /** The server's `hello` reply. */
  hello: Document
}

export interface Probe {
  id: string
  title: string
  /** Whether the library cannot work correctly without it (a failure makes the check fail). */
  required: boolean
  run(context: ProbeContext): Promise<ProbeOutcome>
}

const pass = (detail: string): ProbeOutcome => ({ status: 'pass', detail })
const fail = (detail: string, advice?: string): ProbeOutcome => ({
  status: 'fail',
  detail,
  ...(advice !== undefined && { advice }),
})

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** Error code 11000 (E11000 duplicate key), as a server error or inside a bulk write error. */
function isDuplicateKey(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  return code === 11000 || code === 11001 || /E11000/.test(error.message)
}

const WRITERS = 20
const UPDATES_PER_WRITER = 10

const atomicUpdates: Probe = {
  id: 'atomic-updates',
  title: 'per-document atomicity',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_atomic')
    await collection.insertOne({ _id: 'counter' as never, n: 0, log: [] })
    // Concurrent writers share the client's pool, so their updates arrive over separate connections.
    await Promise.all(
      range(WRITERS).map(async (writer) => {
        for (const i of range(UPDATES_PER_WRITER)) {
          const update = { $inc: { n: 1 }, $push: { log: `${writer}-${i}` } }
          await collection.updateOne({ _id: 'counter' as never }, update as unknown as UpdateFilter<Document>)
        }
      }),
    )
    const doc = await collection.findOne({ _id: 'counter' as never })
    const expected = WRITERS * UPDATES_PER_WRITER
    const n = Number(doc?.n)
    const entries = Array.isArray(doc?.log) ? new Set(doc.log as unknown[]).size : 0
    const measured = `${expected} concurrent $inc + $push from ${WRITERS} writers: counter ${n}, ${entries} array entries`
    if (n === expected && entries === expected) return pass(measured)
    return fail(
      `${measured} (lost ${expected - Math.min(n, entries)} updates)`,
      'the engine does not apply single-document updates atomically: concurrent writers of one session ' +
        '(feedback counts, metadata, notification leases, conversation commits) would lose updates. Do not use it ' +
        'with more than one writer, or serialise its commands (as tools/ferretdb does for FerretDB 1.24).',
    )
  },
}

const ROUNDS = 6
const CONTENDERS = 10

const compareAndSet: Probe = {
  id: 'compare-and-set',
  title: 'compare-and-set: one winner',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_cas')
    await collection.insertOne({ _id: 'cas' as never, v: 0 })
    const problems: string[] = []
    for (const round of range(ROUNDS)) {
      // Alternate the two forms the library uses: conditional updateOne and findOneAndUpdate.
      const byFindAndModify = round % 2 === 1
      const results = await Promise.all(
        range(CONTENDERS).map(async (contender) => {
          const filter = { _id: 'cas' as never, v: round }
          const update = { $set: { v: round + 1, winner: contender } }
          if (byFindAndModify) {
            return (await collection.findOneAndUpdate(filter, update, { returnDocument: 'after' })) ? 1 : 0
          }
          return (await collection.updateOne(filter, update)).modifiedCount
        }),
      )
      const winners = results.reduce((a, b) => a + b, 0)
      if (winners !== 1) {
        problems.push(`round ${round + 1} (${byFindAndModify ? 'findOneAndUpdate' : 'updateOne'}): ${winners} winners`)
      }
    }
    const measured = `${ROUNDS} rounds of ${CONTENDERS} concurrent conditional updates (updateOne, findOneAndUpdate)`
    if (problems.length === 0) return pass(`${measured}: exactly one winner each`)
    return fail(
      `${measured}: ${problems.join('; ')}`,
      'conditional updates are not atomic: two managers could both commit over each other, and two relays ' +
        'could both deliver one notification.',
    )
  },
}

const libraryIndexes: Probe = {
  id: 'indexes',
  title: "the library's indexes",
  required: true,
  async run({ client, db }) {
    const collections = openCollections(db, 'probe_')
    await ensureIndexes(client, collections)
    const missing: string[] = []
    let created = 0
    for (const [key, wanted] of Object.entries(INDEXES) as [keyof typeof INDEXES, (typeof INDEXES)['sessions']][]) {
      if (wanted.length === 0) continue
      const names = new Set((await collections[key].listIndexes().toArray()).map((index) => String(index.name)))
      for (const index of wanted) {
        if (names.has(String(index.name))) created += 1
        else missing.push(`${collections[key].collectionName}.${String(index.name)}`)
      }
    }
    if (missing.length === 0) return pass(`${created} indexes created and listed (compound, descending, dotted path)`)
    return fail(`created but not listed: ${missing.join(', ')}`)
  },
}

const uniqueIndex: Probe = {
  id: 'unique-index',
  title: 'unique index enforcement',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_unique')
    await collection.createIndex({ session_id: 1, agent_id: 1, seq: 1 }, { name: 'probe_unique', unique: true })
    await collection.insertOne({ _id: 'm1' as never, session_id: 's', agent_id: 'a', seq: 1 })
    await collection.insertOne({ _id: 'm2' as never, session_id: 's', agent_id: 'a', seq: 2 })
    // Inserts must fail with E11000 (the library recognises a concurrent writer by it); an update
    // creating a duplicate only has to be refused.
    const attempts: [string, () => Promise<unknown>, 'E11000' | 'any'][] = [
      ['insert', () => collection.insertOne({ _id: 'm3' as never, session_id: 's', agent_id: 'a', seq: 1 }), 'E11000'],
      [
        'same _id',
        () => collection.insertOne({ _id: 'm1' as never, session_id: 's', agent_id: 'b', seq: 9 }),
        'E11000',
      ],
      ['update', () => collection.updateOne({ _id: 'm2' as never }, { $set: { seq: 1 } }), 'any'],
    ]
    const problems: string[] = []
    const notes: string[] = []
    for (const [what, attempt, expected] of attempts) {
      try {
        await attempt()
        problems.push(`${what}: duplicate accepted`)
      } catch (error) {
        if (isDuplicateKey(error)) continue
        if (expected === 'E11000' || !(error instanceof MongoServerError)) {
          problems.push(`${what}: ${describeError(error)}`)
        } else {
          notes.push(`${what} refused without E11000 (code ${String(error.code)})`)
        }
      }
    }
    const left = (await collection.find({}).toArray()).map((d) => `${String(d._id)}:${String(d.seq)}`).sort()
    if (!isDeepStrictEqual(left, ['m1:1', 'm2:2'])) problems.push(`stored afterwards: [${left.join(', ')}]`)
    if (problems.length === 0) {
      return pass(
        `duplicates by insert, on _id and by update refused${notes.length > 0 ? `; ${notes.join('; ')}` : ' with E11000'}`,
      )
    }
    return fail(
      problems.join('; '),
      'the library detects concurrent commits of one conversation by E11000 on a unique index; without it, ' +
        'messages can be duplicated or a conflict reported as a storage error.',
    )
  },
}

const updateOperators: Probe = {
  id: 'update-operators',
  title: 'update operators',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_update')
    const id = 'ops' as never
    await collection.insertOne({
      _id: id,
      a: 1,
      b: 'x',
      arr: [1, 2],
      subs: [
        { k: 1, v: 'a' },
        { k: 2, v: 'b' },
      ],
      set: ['p'],
    })
    const steps: [string, Document, (doc: Document) => boolean][] = [
      ['$set', { $set: { a: 2, 'nested.deep': true } }, (d) => d.a === 2 && d.nested?.deep === true],
      ['$unset', { $unset: { b: '' } }, (d) => !('b' in d)],
      ['$inc', { $inc: { n: 5 } }, (d) => d.n === 5],
      ['$push/$each', { $push: { arr: { $each: [3, 4] } } }, (d) => isDeepStrictEqual(d.arr, [1, 2, 3, 4])],
      ['$pull', { $pull: { arr: 2 } }, (d) => isDeepStrictEqual(d.arr, [1, 3, 4])],
      ['$pullAll', { $pullAll: { subs: [{ k: 1, v: 'a' }] } }, (d) => isDeepStrictEqual(d.subs, [{ k: 2, v: 'b' }])],
      [
        '$addToSet',
        { $addToSet: { set: 'q' } },
        (d) => isDeepStrictEqual(d.set, ['p', 'q']), // and once more below: no duplicate
      ],
      ['$addToSet (present)', { $addToSet: { set: 'p' } }, (d) => isDeepStrictEqual(d.set, ['p', 'q'])],
    ]
    const broken: string[] = []
    for (const [name, update, check] of steps) {
      try {
        await collection.updateOne({ _id: id }, update)
        const doc = await collection.findOne({ _id: id })
        if (!doc || !check(doc)) broken.push(`${name} (wrong result)`)
      } catch (error) {
        broken.push(`${name} (${describeError(error)})`)
      }
    }
    // Upserts with $setOnInsert: the first creates, the second leaves the inserted fields alone.
    try {
      for (const value of ['first', 'second']) {
        await collection.updateOne(
          { _id: 'upserted' as never },
          { $setOnInsert: { created: value }, $inc: { calls: 1 } },
          { upsert: true },
        )
      }
      const doc = await collection.findOne({ _id: 'upserted' as never })
      if (doc?.created !== 'first' || doc.calls !== 2) broken.push('upsert with $setOnInsert (wrong result)')
    } catch (error) {
      broken.push(`upsert with $setOnInsert (${describeError(error)})`)
    }
    if (broken.length === 0) {
      return pass(
        `${steps.length + 1} updates: $set, $unset, $inc, $push/$each, $pull, $pullAll, $addToSet, upsert+$setOnInsert`,
      )
    }
    return fail(`not supported or wrong: ${broken.join('; ')}`)
  },
}

const queryOperators: Probe = {
  id: 'query-operators',
  title: 'query operators, sort, limit, projection',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_query')
    await collection.insertMany([
      { _id: 'q1' as never, app: 'a', t: 1, out: [{ due: 5 }], key: 'session/abc/1' },
      { _id: 'q2' as never, app: 'b', t: 2, key: 'session/abc/2' },
      { _id: 'q3' as never, app: 'a', t: 3, flag: null, key: 'other' },
      { _id: 'q4' as never, app: 'c', t: 4, out: [{ due: 1 }, { due: 9 }] },
    ])
    const queries: [string, Document, string[]][] = [
      ['$exists', { out: { $exists: true } }, ['q1', 'q4']],
      ['$exists: false', { flag: { $exists: false } }, ['q1', 'q2', 'q4']],
      ['$gt/$lt', { t: { $gt: 1, $lt: 4 } }, ['q2', 'q3']],
      ['$gte/$lte', { t: { $gte: 2, $lte: 3 } }, ['q2', 'q3']],
      ['$in', { app: { $in: ['a', 'c'] } }, ['q1', 'q3', 'q4']],
      ['$ne', { app: { $ne: 'a' } }, ['q2', 'q4']],
      ['$or', { $or: [{ app: 'b' }, { t: 4 }] }, ['q2', 'q4']],
      ['$and', { $and: [{ app: 'a' }, { t: { $gt: 1 } }] }, ['q3']],
      ['$regex prefix', { key: { $regex: '^session/abc/' } }, ['q1', 'q2']],
      ['dotted path into an array', { 'out.due': { $lte: 5 } }, ['q1', 'q4']],
      ['_id range', { _id: { $gte: 'q2', $lt: 'q4' } as never }, ['q2', 'q3']],
    ]
    const wrong: string[] = []
    for (const [name, filter, expected] of queries) {
      try {
        const ids = (await collection.find(filter, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id))
        if (!isDeepStrictEqual(ids.sort(), expected)) wrong.push(`${name} matched [${ids.join(', ')}]`)
      } catch (error) {
        wrong.push(`${name} (${describeError(error)})`)
      }
    }
    try {
      const page = await collection
        .find({}, { projection: { app: 1 } })
        .sort({ t: -1, _id: -1 })
        .limit(2)
        .toArray()
      if (
        !isDeepStrictEqual(page, [
          { _id: 'q4', app: 'c' },
          { _id: 'q3', app: 'a' },
        ])
      ) {
        wrong.push(`sort/limit/projection returned ${JSON.stringify(page)}`)
      }
      const counted = await collection.countDocuments({ app: 'a' })
      if (counted !== 2) wrong.push(`countDocuments counted ${counted}`)
    } catch (error) {
      wrong.push(`sort/limit/projection/count (${describeError(error)})`)
    }
    if (wrong.length === 0) return pass(`${queries.length} filters, sort + limit + projection, countDocuments`)
    return fail(`wrong or unsupported: ${wrong.join('; ')}`)
  },
}

const findAndModify: Probe = {
  id: 'find-and-modify',
  title: 'findOneAndUpdate (upsert, sort)',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_fam')
    const upsert = async () =>
      collection.findOneAndUpdate(
        { _id: 'fam' as never },
        { $inc: { n: 1 }, $setOnInsert: { created: true } },
        { upsert: true, returnDocument: 'after' },
      )
    const first = await upsert()
    const second = await upsert()
    await collection.insertMany([1, 2, 3].map((seq) => ({ _id: `s${seq}` as never, group: 'g', seq })))
    const latest = await collection.findOneAndUpdate(
      { group: 'g' },
      { $set: { touched: true } },
      { sort: { seq: -1 }, returnDocument: 'after' },
    )
    const problems: string[] = []
    if (first?.n !== 1 || first.created !== true) problems.push(`upsert returned ${JSON.stringify(first)}`)
    if (second?.n !== 2) problems.push(`second call returned ${JSON.stringify(second)}`)
    if (String(latest?._id) !== 's3' || latest?.touched !== true)
      problems.push(`sorted update returned ${JSON.stringify(latest)}`)
    if (problems.length === 0) return pass('upsert returning the new document; update of the first by sort order')
    return fail(problems.join('; '))
  },
}

const bulkWrite: Probe = {
  id: 'bulk-write',
  title: 'bulkWrite and insertMany',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_bulk')
    await collection.insertMany(['r/1', 'r/2', 'r/3', 'keep'].map((id) => ({ _id: id as never, v: 0 })))
    const result = await collection.bulkWrite(
      [
        { replaceOne: { filter: { _id: 'new-1' as never }, replacement: { v: 1 }, upsert: true } },
        { replaceOne: { filter: { _id: 'keep' as never }, replacement: { v: 2 }, upsert: true } },
        { deleteOne: { filter: { _id: 'r/1' as never } } },
        { deleteMany: { filter: { _id: { $gte: 'r/', $lt: 'r0' } as never } } },
      ],
      { ordered: false },
    )
    const ids = (await collection.find({}).toArray()).map((d) => `${String(d._id)}=${String(d.v)}`).sort()
    const expected = ['keep=2', 'new-1=1']
    if (result.upsertedCount === 1 && result.deletedCount === 3 && isDeepStrictEqual(ids, expected)) {
      return pass('unordered replaceOne (upsert), deleteOne, deleteMany by _id range: counts and contents exact')
    }
    return fail(
      `upserted ${result.upsertedCount} (expected 1), deleted ${result.deletedCount} (expected 3), left [${ids.join(', ')}]`,
    )
  },
}

const aggregation: Probe = {
  id: 'aggregation',
  title: 'aggregation: $match, $group, $sum',
  required: true,
  async run({ db }) {
    const collection = db.collection<Document>('probe_aggregate')
    await collection.insertMany([
      { rating: 'up', agent: 'x' },
      { rating: 'up', agent: 'y' },
      { rating: 'down', agent: 'x' },
      { rating: 'other', agent: 'x' },
    ])
    // The feedback counts and report group by a field and by a compound key with one `$sum: 1`.
    const byRating = await collection
      .aggregate([{ $match: { rating: { $in: ['up', 'down'] } } }, { $group: { _id: '$rating', n: { $sum: 1 } } }])
      .toArray()
    const byPair = await collection
      .aggregate([{ $group: { _id: { rating: '$rating', agent: '$agent' }, n: { $sum: 1 } } }])
      .toArray()
    const ratings = Object.fromEntries(byRating.map((g) => [String(g._id), g.n]))
    const pairs = Object.fromEntries(byPair.map((g) => [`${String(g._id?.rating)}/${String(g._id?.agent)}`, g.n]))
    const expectedPairs = { 'up/x': 1, 'up/y': 1, 'down/x': 1, 'other/x': 1 }
    if (isDeepStrictEqual(ratings, { up: 2, down: 1 }) && isDeepStrictEqual(pairs, expectedPairs)) {
      return pass('$match + $group by a field and by a compound key with $sum: exact counts')
    }
    return fail(`grouped ${JSON.stringify(ratings)} and ${JSON.stringify(pairs)}`)
  },
}

/** What the CLI's metrics totals use; it has a fallback, so a wrong answer is information. */
const severalSums: Probe = {
  id: 'several-sums',
  title: '$group with several $sum',
  required: false,
  async run({ db }) {
    const collection = db.collection<Document>('probe_sums')
    await collection.insertMany([{ metrics: { tokens: 4, calls: 1 } }, { metrics: { tokens: 6, calls: 2 } }])
    const [row] = await collection
      .aggregate([
        {
          $group: {
            _id: null,
            documents: { $sum: 1 },
            tokens: { $sum: '$metrics.tokens' },
            calls: { $sum: '$metrics.calls' },
          },
        },
      ])
      .toArray()
    const got = { documents: row?.documents, tokens: row?.tokens, calls: row?.calls }
    const expected = { documents: 2, tokens: 10, calls: 3 }
    if (isDeepStrictEqual(got, expected))
      return pass('three accumulators (count, nested-path sums) in one $group: exact')
    return {
      status: 'info',
      detail: `three $sum accumulators in one $group gave ${JSON.stringify(got)} instead of ${JSON.stringify(expected)}`,
      advice: "handled: the CLI's metrics totals detect all-zero sums and add the per-session totals up client-side",
    }
  },
}

const documentSize: Probe = {
  id: 'document-size',
  title: 'maximum document size',
  required: true,
  async run({ db, server }) {
    const limit = server.maxBsonObjectSize
    // Leave room for the BSON envelope: the library checks sizes itself before writing.
    const payload = limit - 64 * 1024
    const collection = db.collection<Document>('probe_size')
    await collection.insertOne({ _id: 'big' as never, data: new Binary(Buffer.alloc(payload, 0x61)) })
    const doc = await collection.findOne({ _id: 'big' as never })
    await collection.deleteOne({ _id: 'big' as never })
    const read = doc?.data instanceof Binary ? doc.data.length() : -1
    const mib = (limit / 1024 / 1024).toFixed(limit % (1024 * 1024) === 0 ? 0 : 1)
    if (read === payload) {
      return pass(`maxBsonObjectSize ${mib} MiB (hello); a ${payload}-byte binary written and read back whole`)
    }
    return fail(`maxBsonObjectSize ${mib} MiB (hello), but a ${payload}-byte binary came back with ${read} bytes`)
  },
}

/** The server error engines without retryable writes answer with (DocumentDB < 8.0.2, older Cosmos DB). */
function isRetryableWritesUnsupported(error: unknown): boolean {
  return (
    error instanceof Error &&
    ((error as { code?: unknown }).code === 301 || /retryable writes? (are|is) not supported/i.test(error.message))
  )
}

const RETRY_ADVICE =
  'set retryWrites=false: add it to the connection string (`?retryWrites=false`), or to the options ' +
  'of the client you pass as `client`'

const retryableWrites: Probe = {
  id: 'retryable-writes',
  title: 'retryable writes',
  required: true,
  async run({ client, db, hello }) {
    const replicated = typeof hello.setName === 'string' || hello.msg === 'isdbgrid'
    const sessions = hello.logicalSessionTimeoutMinutes != null
    const enabled = client.options.retryWrites
    try {
      await db.collection<Document>('probe_retry').insertOne({ _id: 'retry' as never })
    } catch (error) {
      if (enabled && isRetryableWritesUnsupported(error)) {
        return {
          ...fail(`writes with retryWrites=true are rejected: ${describeError(error)}`, RETRY_ADVICE),
          retryableWritesRejected: true,
        }
      }
      throw error
    }
    if (!replicated || !sessions) {
      return {
        status: 'info',
        detail: 'not used: a standalone server (drivers retry writes only on replica sets and sharded clusters)',
      }
    }
    if (!enabled)
      return { status: 'info', detail: 'disabled by the client options (retryWrites=false); writes succeed' }
    return pass('supported: a write with retryWrites=true succeeded')
  },
}

const ttlIndexes: Probe = {
  id: 'ttl-index',
  title: 'TTL indexes',
  required: false,
  async run({ db }) {
    const collection = db.collection<Document>('probe_ttl')
    const unused =
      'retention works without them: run pruneExpiredSessions (or `sessions prune`) on a schedule to delete expired sessions'
    try {
      await collection.createIndex({ expires_at: 1 }, { name: 'probe_ttl', expireAfterSeconds: 3600 })
    } catch (error) {
      if (!(error instanceof MongoServerError)) throw error
      return { status: 'warn', detail: `not available: ${describeError(error)}`, advice: unused }
    }
    const index = (await collection.listIndexes().toArray()).find((i) => i.name === 'probe_ttl')
    if (index?.expireAfterSeconds === 3600) {
      return pass(
        'an index with expireAfterSeconds=3600 was created and read back (expiry itself is not waited for: ' +
          'the server removes expired documents about once a minute)',
      )
    }
    return {
      status: 'warn',
      detail: `not available: the index was created but reads back ${index ? 'without expireAfterSeconds' : 'missing'}`,
      advice: unused,
    }
  },
}

const textIndex: Probe = {
  id: 'text-index',
  title: 'text indexes ($text)',
  required: false,
  async run({ db }) {
    const collection = db.collection<Document>('probe_text')
    const fallback = 'searchSessions answers with its bounded scan (a substring match over the most recent sessions)'
    const spec = textIndexSpecs().messages
    let ids: string[]
    try {
      await collection.createIndexes([spec])
      await collection.insertMany([
        { _id: 'phrase' as never, content: [{ text: 'The invoice dispute is settled' }] },
        { _id: 'words' as never, content: [{ text: 'a dispute about an invoice' }] },
        { _id: 'second-block' as never, content: [{ toolUse: { name: 'x' } }, { text: 'Invoice Dispute, again' }] },
        { _id: 'other' as never, content: [{ text: 'nothing to see' }] },
      ])
      const found = await collection
        .find({ $text: { $search: '"invoice dispute"' } }, { projection: { _id: 1 } })
        .toArray()
      ids = found.map((d) => String(d._id)).sort()
    } catch (error) {
      if (!(error instanceof MongoServerError)) throw error
      return { status: 'info', detail: `not available: ${describeError(error)}`, advice: fallback }
    }
    const measured = `a phrase query over the library's message text index found [${ids.join(', ')}]`
    if (isDeepStrictEqual(ids, ['phrase', 'second-block'])) {
      return pass(`${measured}: searchSessions uses text indexes here`)
    }
    return { status: 'info', detail: `${measured}, expected [phrase, second-block]`, advice: fallback }
  },
}

const transactions: Probe = {
  id: 'transactions',
  title: 'multi-document transactions',
  required: false,
  async run({ client, db }) {
    const collection = db.collection<Document>('probe_transaction')
    const session = client.startSession()
    try {
      session.startTransaction()
      await collection.insertOne({ _id: 'a' as never }, { session })
      await collection.insertOne({ _id: 'b' as never }, { session })
      await session.commitTransaction()
    } catch (error) {
      if (session.inTransaction()) await session.abortTransaction().catch(() => undefined)
      if (!(error instanceof MongoServerError) && !(error instanceof Error && /transaction/i.test(error.message))) {
        throw error
      }
      return {
        status: 'warn',
        detail: `not supported: ${describeError(error)}`,
        advice: 'the library does not use transactions: nothing it does needs them',
      }
    } finally {
      await session.endSession()
    }
    const count = await collection.countDocuments({})
    if (count === 2) return pass('a two-document transaction committed (the library does not use transactions)')
    return { status: 'warn', detail: `a committed two-document transaction left ${count} documents` }
  },
}

/**
 * Every probe, in the order they run. Retryable writes come first among the writes: when the
 * deployment rejects them, every later write fails the same way.
 */
export const PROBES: readonly Probe[] = [
  retryableWrites,
  atomicUpdates,
  compareAndSet,
  uniqueIndex,
  libraryIndexes,
  updateOperators,
  queryOperators,
  findAndModify,
  bulkWrite,
  aggregation,
  severalSums,
  documentSize,
  ttlIndexes,
  textIndex,
  transactions,
]

export { isRetryableWritesUnsupported }
