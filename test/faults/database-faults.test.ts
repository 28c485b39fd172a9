/**
 * The fault suite: what each public call does when the database is down at first use, killed in
 * the middle of a turn, or frozen — and that everything heals once it is back.
 *
 * The database is the test server behind a fault proxy (test/support/fault-proxy.ts) that keeps
 * its port, so one client sees one server go away and come back. Figures (time to fail, time to
 * heal) are printed for the record; the assertions are on outcomes, not on wall-clock times.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DatabaseUnavailableError,
  MongoDBSessionManager,
  MongoDBSessionManagerFactory,
  MongoSessionError,
  deleteSessions,
  detectCapabilities,
  listSessions,
  recountFeedback,
  relayPendingNotifications,
} from '../../src/index.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js'
import { warmUp } from '../support/warm-up.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_faults')
})
afterAll(async () => {
  await t.cleanup()
})

/** Runs `call`, returning how long it took and what it threw. */
async function timed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now()
  try {
    await call()
    return { ms: Math.round(performance.now() - started), error: undefined }
  } catch (error) {
    return { ms: Math.round(performance.now() - started), error }
  }
}

function expectUnavailable(
  error: unknown,
  reason: DatabaseUnavailableError['reason'] | DatabaseUnavailableError['reason'][],
) {
  expect(error).toBeInstanceOf(DatabaseUnavailableError)
  const e = error as DatabaseUnavailableError
  expect(e).toBeInstanceOf(MongoSessionError)
  expect(e.code).toBe('MSM_UNAVAILABLE')
  expect(e.retryable).toBe(true)
  expect([reason].flat()).toContain(e.reason)
  expect(e.cause).toBeInstanceOf(Error)
  expect((e.cause as Error).name).toMatch(/^Mongo/)
}

/** Every public call of a manager that touches the database, as a user would make it. */
function publicCalls(manager: MongoDBSessionManager): [string, () => Promise<unknown>][] {
  const agent = testAgent({ sessionManager: manager })
  return [
    ['invoke', () => agent.invoke('hello')],
    ['ensureSession', () => manager.ensureSession()],
    ['updateMetadata', () => manager.updateMetadata({ status: 'x' })],
    ['getMetadata', () => manager.getMetadata()],
    ['deleteMetadata', () => manager.deleteMetadata(['status'])],
    ['addFeedback', () => manager.addFeedback({ rating: 'up', comment: 'ok' })],
    ['getFeedbacks', () => manager.getFeedbacks()],
    ['getFeedbackCounts', () => manager.getFeedbackCounts()],
    ['getMetricsSummary', () => manager.getMetricsSummary()],
    ['listAgents', () => manager.listAgents()],
    ['getApplicationName', () => manager.getApplicationName()],
    ['getGuardrailEvents', () => manager.getGuardrailEvents()],
    ['listSnapshotIds', () => manager.listSnapshotIds({ target: agent })],
    ['saveSnapshot', () => manager.saveSnapshot({ target: agent, isLatest: true })],
    ['deleteSession', () => manager.deleteSession()],
    ['registerWebSocketConnection', () => manager.registerWebSocketConnection('conn-1')],
  ]
}

describe('database down at first use, then back', () => {
  let proxy: FaultProxy
  beforeAll(async () => {
    proxy = await startFaultProxy(t.uri, 'down')
  })
  afterAll(async () => {
    await proxy.close()
  })

  it('fails fast with DatabaseUnavailableError (default options), then heals by itself', async () => {
    const manager = new MongoDBSessionManager({
      sessionId: 'down-first',
      connectionString: proxy.uri,
      databaseName: t.databaseName,
    })
    const first = await timed(() => manager.getMetadata())
    expectUnavailable(first.error, 'unreachable')
    expect((first.error as Error).message).toContain('ECONNREFUSED') // the real cause, not "Topology is closed"
    const again = await timed(() => manager.getMetadata())
    expectUnavailable(again.error, 'unreachable')

    await proxy.setMode('up')
    const healed = await timed(() => manager.updateMetadata({ status: 'back' }))
    expect(healed.error).toBeUndefined()
    expect(await manager.getMetadata()).toEqual({ status: 'back' })
    console.log(
      `[faults] down at first use: first call failed in ${first.ms} ms, second in ${again.ms} ms; ` +
        `after the server came back the next call succeeded in ${healed.ms} ms`,
    )
    await manager.close()
    await proxy.setMode('down')
  })

  it('every public call of the manager throws DatabaseUnavailableError, and an agent turn works once it is back', async () => {
    const manager = new MongoDBSessionManager({
      sessionId: 'down-calls',
      connectionString: proxy.uri,
      clientOptions: { serverSelectionTimeoutMS: 800 },
      databaseName: t.databaseName,
    })
    for (const [name, call] of publicCalls(manager)) {
      const { error } = await timed(call)
      expect(error, name).toBeInstanceOf(DatabaseUnavailableError)
    }
    expect(await manager.healthCheck({ timeoutMs: 300 }).catch((e: unknown) => e)).toBeInstanceOf(
      DatabaseUnavailableError,
    )
    await proxy.setMode('up')
    expect((await manager.healthCheck()).ok).toBe(true)
    const agent = testAgent({ sessionManager: manager })
    await agent.invoke('after the outage')
    const probe = testAgent({
      sessionManager: new MongoDBSessionManager({
        sessionId: 'down-calls',
        client: t.client,
        databaseName: t.databaseName,
      }),
    })
    await probe.initialize()
    expect(conversationOf(probe)).toEqual(conversationOf(agent))
    await manager.close()
    await proxy.setMode('down')
  })

  it('the exported functions that take a client or collections throw DatabaseUnavailableError too', async () => {
    const manager = new MongoDBSessionManager({
      sessionId: 'down-functions',
      connectionString: proxy.uri,
      clientOptions: { serverSelectionTimeoutMS: 800 },
      databaseName: t.databaseName,
    })
    const { collections } = manager
    const calls: [string, () => Promise<unknown>][] = [
      ['listSessions', () => listSessions(collections)],
      ['deleteSessions', () => deleteSessions(collections, { sessionIds: ['down-functions'] })],
      ['recountFeedback', () => recountFeedback(collections, 'down-functions')],
      [
        'relayPendingNotifications',
        () =>
          relayPendingNotifications({
            collections: { sessions: collections.sessions, feedback: collections.feedback },
            senders: [{ channel: 'sqs', send: async () => {} }],
          }),
      ],
      ['detectCapabilities', () => detectCapabilities(manager.client)],
      ['webSocketConnections.list', () => manager.webSocketConnections.list('down-functions')],
    ]
    for (const [name, call] of calls) {
      const { error } = await timed(call)
      expect(error, name).toBeInstanceOf(DatabaseUnavailableError)
    }
    await manager.close()
  })

  it('the factory: connect() fails with DatabaseUnavailableError, and works once the server is back', async () => {
    const factory = new MongoDBSessionManagerFactory({
      connectionString: proxy.uri,
      clientOptions: { serverSelectionTimeoutMS: 800 },
      databaseName: t.databaseName,
    })
    expectUnavailable(await factory.connect().catch((e: unknown) => e), 'unreachable')
    const early = factory.createSessionManager('factory-down')
    expectUnavailable(await early.getMetadata().catch((e: unknown) => e), 'unreachable')
    await proxy.setMode('up')
    await factory.connect()
    expect((await factory.healthCheck()).ok).toBe(true)
    expect(await early.updateMetadata({ a: 1 })).toEqual({ a: 1 })
    expect(await factory.createSessionManager('factory-down').getMetadata()).toEqual({ a: 1 })
    await factory.close()
    await proxy.setMode('down')
  })
})

describe('database killed in the middle of a turn', () => {
  it('the turn fails with DatabaseUnavailableError; after restart a fresh restore is whole, and the agent continues', async () => {
    const proxy = await startFaultProxy(t.uri)
    try {
      const manager = new MongoDBSessionManager({
        sessionId: 'killed-mid-turn',
        connectionString: proxy.uri,
        clientOptions: { serverSelectionTimeoutMS: 800 },
        databaseName: t.databaseName,
      })
      const agent = testAgent({ sessionManager: manager })
      await agent.invoke('first turn')
      // The server dies as the second turn commits (its messages were already inserted).
      proxy.switchOn('update', 'down')
      const failed = await timed(() => agent.invoke('second turn'))
      expectUnavailable(failed.error, ['unreachable', 'network'])
      // ensureSession is answered from memory once the session is known to exist.
      for (const [name, call] of publicCalls(manager).filter(([name]) => name !== 'ensureSession')) {
        const { error } = await timed(call)
        expect(error, name).toBeInstanceOf(DatabaseUnavailableError)
      }

      await proxy.setMode('up')
      const fresh = testAgent({
        sessionManager: new MongoDBSessionManager({
          sessionId: 'killed-mid-turn',
          client: t.client,
          databaseName: t.databaseName,
        }),
      })
      await fresh.initialize()
      // The uncommitted turn is not there, not even in part.
      expect(fresh.messages.map((m) => m.role)).toEqual(['user', 'assistant'])
      await fresh.invoke('after restart')
      expect(fresh.messages).toHaveLength(4)
      console.log(`[faults] killed mid-turn: invoke failed in ${failed.ms} ms with ${(failed.error as Error).name}`)
      await manager.close()
    } finally {
      await proxy.close()
    }
  })
})

describe('a frozen database', () => {
  beforeAll(async () => {
    // Create the indexes beforehand, so the first call of each test is not index creation racing
    // the short deadline on a loaded machine.
    await new MongoDBSessionManager({
      sessionId: 'frozen-setup',
      client: t.client,
      databaseName: t.databaseName,
    }).ensureSession()
  })

  it.each([
    ['frozen', 'accepting connections but never answering'],
    ['heartbeats-only', 'answering heartbeats but never data commands'],
  ] as const)('%s (%s): every call fails at the operation deadline, and works again after', async (mode, _what) => {
    const proxy = await startFaultProxy(t.uri)
    try {
      const manager = new MongoDBSessionManager({
        sessionId: `stuck-${mode}`,
        connectionString: proxy.uri,
        databaseName: t.databaseName,
        operationTimeoutMs: 2_000,
      })
      await warmUp(() => manager.updateMetadata({ before: true }))
      await proxy.setMode(mode)
      const read = await timed(() => manager.getMetadata())
      expectUnavailable(read.error, 'timeout')
      const write = await timed(() => manager.updateMetadata({ during: true }))
      expectUnavailable(write.error, 'timeout')
      const turn = await timed(() => testAgent({ sessionManager: manager }).invoke('stuck'))
      expectUnavailable(turn.error, 'timeout')
      expect(await manager.healthCheck({ timeoutMs: 300 }).catch((e: unknown) => e)).toBeInstanceOf(
        DatabaseUnavailableError,
      )
      console.log(
        `[faults] ${mode} (deadline 2000 ms): getMetadata ${read.ms} ms, updateMetadata ${write.ms} ms, invoke ${turn.ms} ms`,
      )
      await proxy.setMode('up')
      expect(await warmUp(() => manager.getMetadata(['before']))).toEqual({ before: true })
      await manager.close()
    } finally {
      await proxy.close()
    }
  })
})

describe('after close(), the process exits by itself', () => {
  const script = fileURLToPath(new URL('../support/processes/fault-exit.ts', import.meta.url))

  function run(scenario: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, t.uri, t.databaseName, scenario])
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      // A process that does not exit on its own is a failure, however long we would wait.
      const guard = setTimeout(() => child.kill('SIGKILL'), 45_000)
      child.on('exit', (code) => {
        clearTimeout(guard)
        resolve({ code, stdout, stderr })
      })
    })
  }

  it.each([
    ['down-first', 'unreachable'],
    ['killed-mid-turn', undefined],
    ['frozen', 'timeout'],
  ])('%s', async (scenario, reason) => {
    const { code, stdout, stderr } = await run(scenario)
    expect(code, stderr).toBe(0)
    const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as { name: string; code: string; reason: string }
    expect(outcome.name).toBe('DatabaseUnavailableError')
    expect(outcome.code).toBe('MSM_UNAVAILABLE')
    if (reason) expect(outcome.reason).toBe(reason)
  })
})
