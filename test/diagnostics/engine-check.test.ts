/**
 * `checkDeployment` against real servers: the test server (every required probe passes), FerretDB
 * 1.24 reached without the relay that serialises its commands (atomicity and compare-and-set
 * fail), and a server that stops answering (every probe ends at its time limit). The throwaway
 * database is gone afterwards, and an existing database is never touched.
 */
import net from 'node:net'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { checkDeployment, DatabaseUnavailableError, ValidationError, type DeploymentCheck } from '../../src/index.js'
import { startFerretDB, type RunningFerretDB } from '../../tools/ferretdb/launcher.js'
import { testMongoUri, uniqueName } from '../support/mongo.js'

let client: MongoClient

beforeAll(async () => {
  client = await new MongoClient(testMongoUri()).connect()
})

afterAll(async () => {
  await client.close()
})

async function databaseExists(name: string): Promise<boolean> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true })
  return databases.some((d) => d.name === name)
}

const statuses = (check: DeploymentCheck): Record<string, string> =>
  Object.fromEntries(check.probes.map((p) => [p.id, p.status]))

const REQUIRED = [
  'retryable-writes',
  'atomic-updates',
  'compare-and-set',
  'unique-index',
  'indexes',
  'update-operators',
  'query-operators',
  'find-and-modify',
  'bulk-write',
  'aggregation',
  'document-size',
]

describe('checkDeployment on the test server', () => {
  let check: DeploymentCheck
  const databaseName = uniqueName('msm_check')

  beforeAll(async () => {
    check = await checkDeployment({ client, databaseName })
  })

  it('passes every required probe and drops its database', async () => {
    expect(check.ok).toBe(true)
    expect(check.probes.filter((p) => p.required).map((p) => p.id)).toEqual(REQUIRED)
    for (const probe of check.probes.filter((p) => p.required)) {
      expect(['pass', 'info'], `${probe.id}: ${probe.detail}`).toContain(probe.status)
    }
    expect(check.databaseName).toBe(databaseName)
    expect(check.dropped).toBe(true)
    expect(await databaseExists(databaseName)).toBe(false)
    // The borrowed client is left open.
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 })
  })

  it('reports what it measured', () => {
    const byId = Object.fromEntries(check.probes.map((p) => [p.id, p]))
    expect(byId['atomic-updates']!.detail).toContain('counter 200, 200 array entries')
    expect(byId['compare-and-set']!.detail).toContain('exactly one winner each')
    expect(byId['document-size']!.detail).toContain(`maxBsonObjectSize ${check.server.maxBsonObjectSize / 1048576} MiB`)
  })

  it.runIf(inject('mongoEngine') === 'ferretdb' && !process.env.MONGODB_URI)(
    'on FerretDB 1.24: no TTL or text indexes, no transactions, standalone, one $sum per $group',
    () => {
      expect(statuses(check)).toEqual({
        'retryable-writes': 'info',
        'atomic-updates': 'pass',
        'compare-and-set': 'pass',
        'unique-index': 'pass',
        indexes: 'pass',
        'update-operators': 'pass',
        'query-operators': 'pass',
        'find-and-modify': 'pass',
        'bulk-write': 'pass',
        aggregation: 'pass',
        'several-sums': 'info',
        'document-size': 'pass',
        'ttl-index': 'warn',
        'text-index': 'info',
        transactions: 'warn',
      })
      const byId = Object.fromEntries(check.probes.map((p) => [p.id, p]))
      expect(byId['ttl-index']!.detail).toMatch(/^not available: .*expireAfterSeconds/)
      expect(byId.transactions!.detail).toMatch(/^not supported: /)
      expect(byId['text-index']!.detail).toMatch(/^not available: /)
      expect(byId['retryable-writes']!.detail).toContain('standalone')
    },
  )
})

describe('checkDeployment options and errors', () => {
  it('creates and closes its own client from a connection string', async () => {
    const databaseName = uniqueName('msm_check_uri')
    const check = await checkDeployment({ connectionString: testMongoUri(), databaseName })
    expect(check.ok).toBe(true)
    expect(await databaseExists(databaseName)).toBe(false)
  })

  it('refuses a database that already exists, and leaves it alone', async () => {
    const databaseName = uniqueName('msm_check_existing')
    await client.db(databaseName).collection('precious').insertOne({ keep: true })
    try {
      const error = await checkDeployment({ client, databaseName }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).field).toBe('databaseName')
      expect(await client.db(databaseName).collection('precious').countDocuments()).toBe(1)
    } finally {
      await client.db(databaseName).dropDatabase()
    }
  })

  it('validates its options', async () => {
    await expect(checkDeployment({ client, databaseName: 'bad/name' })).rejects.toBeInstanceOf(ValidationError)
    await expect(checkDeployment({ client, timeoutMs: 5 })).rejects.toBeInstanceOf(ValidationError)
  })

  it('throws DatabaseUnavailableError when nothing answers', async () => {
    const error = await checkDeployment({
      connectionString: 'mongodb://127.0.0.1:1/',
      clientOptions: { serverSelectionTimeoutMS: 300 },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseUnavailableError)
    expect((error as DatabaseUnavailableError).retryable).toBe(true)
  })
})

describe.skipIf(Boolean(process.env.MONGODB_URI))('FerretDB 1.24 without the serialising relay', () => {
  let server: RunningFerretDB

  beforeAll(async () => {
    server = await startFerretDB()
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('fails atomicity and compare-and-set, and still drops its database', async () => {
    const databaseName = uniqueName('msm_check_raw')
    const check = await checkDeployment({ connectionString: server.unrelayedUri, databaseName })
    expect(check.ok).toBe(false)
    const byId = Object.fromEntries(check.probes.map((p) => [p.id, p]))
    expect(byId['atomic-updates']).toMatchObject({ status: 'fail', required: true })
    expect(byId['atomic-updates']!.detail).toMatch(/lost \d+ updates/)
    expect(byId['atomic-updates']!.advice).toContain('atomically')
    expect(byId['compare-and-set']).toMatchObject({ status: 'fail', required: true })
    expect(byId['compare-and-set']!.detail).toMatch(/round \d+ \((updateOne|findOneAndUpdate)\): \d+ winners/)
    // Operators do not depend on concurrency: they still pass.
    expect(byId['update-operators']!.status).toBe('pass')
    expect(check.dropped).toBe(true)
    const raw = await new MongoClient(server.unrelayedUri).connect()
    try {
      const { databases } = await raw.db('admin').admin().listDatabases({ nameOnly: true })
      expect(databases.map((d) => d.name)).not.toContain(databaseName)
    } finally {
      await raw.close()
    }
  })
})

/**
 * A proxy that passes handshakes, listings and the final drop on, and swallows every other command
 * (the server never sees it, the client never gets an answer): every probe hangs until its time limit.
 */
async function startStallingProxy(targetUri: string): Promise<{ uri: string; close(): Promise<void> }> {
  const target = new URL(targetUri.replace(/^mongodb:/, 'http:'))
  const answered = new Set([
    'hello',
    'ismaster',
    'isMaster',
    'ping',
    'buildInfo',
    'buildinfo',
    'listCollections',
    'dropDatabase',
    'endSessions',
  ])
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname)
    sockets.add(client).add(upstream)
    let buffered = Buffer.alloc(0)
    client.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const message = buffered.subarray(0, buffered.readInt32LE(0))
        buffered = buffered.subarray(message.length)
        // OP_MSG section 0: the command's name is the first key of the body document. Anything else
        // (the legacy OP_QUERY handshake) is answered.
        const opMsg = message.readInt32LE(12) === 2013
        if (!opMsg || answered.has(message.toString('utf8', 26, message.indexOf(0, 26)))) upstream.write(message)
      }
    })
    upstream.on('data', (chunk: Buffer) => client.write(chunk))
    const destroy = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', destroy).on('close', destroy)
    upstream.on('error', destroy).on('close', destroy)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('a deployment that stops answering', () => {
  it('ends every probe at its time limit', async () => {
    const proxy = await startStallingProxy(testMongoUri())
    const databaseName = uniqueName('msm_check_stall')
    try {
      const check = await checkDeployment({ connectionString: proxy.uri, databaseName, timeoutMs: 300 })
      expect(check.ok).toBe(false)
      for (const probe of check.probes) {
        expect(probe.status, probe.id).toBe(probe.required ? 'fail' : 'warn')
        expect(probe.detail, probe.id).toBe('did not finish within 300 ms')
      }
      // Nothing reached the server: there is nothing to drop.
      expect(check.dropped).toBe(true)
      expect(await databaseExists(databaseName)).toBe(false)
    } finally {
      await proxy.close()
    }
  })
})
