/**
 * Concurrent writers, as separate processes would be: managers on separate clients (separate
 * connection pools) against the same session.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MongoDBSessionManager, SessionConflictError } from '../../src/index.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let other: MongoClient
beforeAll(async () => {
  t = await openTestDatabase('msm_conc')
  other = await t.newClient()
})
afterAll(async () => {
  await t.cleanup()
})

const turnWriter = fileURLToPath(new URL('../support/processes/turn-writer.ts', import.meta.url))

/** A turn-writer process; `next(prefix)` resolves with its next output line starting with `prefix`. */
function spawnTurnWriter(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', turnWriter, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  const waiters: { prefix: string; resolve: (line: string) => void }[] = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line)
    const index = waiters.findIndex((w) => line.startsWith(w.prefix))
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(line)
  })
  const done = new Promise<string[]>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(lines) : reject(new Error(`turn writer exited ${code}: ${stderr}`)),
    ),
  )
  const next = (prefix: string) => new Promise<string>((resolve) => waiters.push({ prefix, resolve }))
  const go = () => child.stdin!.end('go\n')
  return { done, next, go }
}

const on = (client: MongoClient, sessionId: string) =>
  new MongoDBSessionManager({ sessionId, client, databaseName: t.databaseName })

describe('opening the same new session at once', () => {
  it('succeeds for every opener and creates one document per session', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `open-race-${i}`)
    const results = await Promise.allSettled(
      ids.flatMap((id) => [
        on(t.client, id).ensureSession(),
        on(other, id).ensureSession(),
        on(other, id).ensureSession(),
      ]),
    )
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    expect(await t.db.collection('sessions').countDocuments({ _id: { $in: ids as never[] } })).toBe(20)
  })

  it('lets two first turns race: one commits, the other gets SessionConflictError and nothing of it remains', async () => {
    for (let round = 0; round < 5; round++) {
      const sessionId = `first-turn-race-${round}`
      const a = testAgent({ sessionManager: on(t.client, sessionId) })
      const b = testAgent({ sessionManager: on(other, sessionId) })
      // Both open the (empty) session before either writes, so both believe they write first.
      await Promise.all([a.initialize(), b.initialize()])
      const results = await Promise.allSettled([a.invoke('from a'), b.invoke('from b')])
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(rejected).toHaveLength(1)
      expect(rejected[0]!.reason).toBeInstanceOf(SessionConflictError)
      const winner = results[0]!.status === 'fulfilled' ? a : b
      const probe = testAgent({ sessionManager: on(t.client, sessionId) })
      await probe.initialize()
      expect(conversationOf(probe)).toEqual(conversationOf(winner))
      expect(await t.db.collection('messages').countDocuments({ session_id: sessionId })).toBe(2)
    }
  })
})

describe('two writers that both found the session new', () => {
  it('keeps the first confirmed turn: the second writer gets SessionConflictError, not an overwrite', async () => {
    const sessionId = 'first-turn-sequential'
    const a = testAgent({ sessionManager: on(t.client, sessionId) })
    const b = testAgent({ sessionManager: on(other, sessionId) })
    // Forced interleaving: both restore nothing, then A's turn completes before B's starts.
    await a.initialize()
    await b.initialize()
    expect(a.messages).toHaveLength(0)
    expect(b.messages).toHaveLength(0)
    await a.invoke('from a')
    const error = await b.invoke('from b').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)

    const probe = testAgent({ sessionManager: on(t.client, sessionId) })
    await probe.initialize()
    expect(conversationOf(probe)).toEqual(conversationOf(a))
    expect(await t.db.collection('messages').countDocuments({ session_id: sessionId })).toBe(2)

    // B reloads and continues on top of A's turn.
    await b.sessionManager!.restoreSnapshot({ target: b })
    await b.invoke('b after reload')
    const after = testAgent({ sessionManager: on(t.client, sessionId) })
    await after.initialize()
    expect(after.messages).toHaveLength(4)
  })

  it('also when the stale first writer only changed state (no message to insert)', async () => {
    const sessionId = 'first-turn-state-only'
    const a = testAgent({ sessionManager: on(t.client, sessionId) })
    const b = testAgent({ sessionManager: on(other, sessionId) })
    await a.initialize()
    await b.initialize()
    await a.invoke('from a')
    b.appState.set('note', 'b was here')
    const error = await b.sessionManager!.saveSnapshot({ target: b, isLatest: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)
    const probe = testAgent({ sessionManager: on(t.client, sessionId) })
    await probe.initialize()
    expect(conversationOf(probe)).toEqual(conversationOf(a))
    expect(probe.appState.get('note')).toBeUndefined()
  })
})

describe('two writers on the same session and agent', () => {
  it('never loses or duplicates messages: the stale writer is told, reloads and continues', async () => {
    const sessionId = 'stale-writer-1'
    const seed = testAgent({ sessionManager: on(t.client, sessionId) })
    await seed.invoke('hello')
    const a = testAgent({ sessionManager: on(t.client, sessionId) })
    const b = testAgent({ sessionManager: on(other, sessionId) })
    await a.initialize()
    await b.initialize()
    await a.invoke('a speaks first')
    const error = await b.invoke('b is stale').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)
    expect((error as SessionConflictError).code).toBe('MSM_CONFLICT')

    // B reloads and goes on; A's turn is kept.
    await b.sessionManager!.restoreSnapshot({ target: b })
    expect(conversationOf(b)).toEqual(conversationOf(a))
    await b.invoke('b after reload')
    const probe = testAgent({ sessionManager: on(t.client, sessionId) })
    await probe.initialize()
    const texts = conversationOf(probe).map((m) => JSON.stringify(m))
    expect(texts.filter((m) => m.includes('a speaks first'))).toHaveLength(2) // the user message and the echo
    expect(texts.some((m) => m.includes('b is stale'))).toBe(false)
    expect(texts.filter((m) => m.includes('b after reload'))).toHaveLength(2)
    expect(probe.messages).toHaveLength(6)
    const trackingIds = probe.messages.map((m) => m.trackingId)
    expect(new Set(trackingIds).size).toBe(trackingIds.length)
    expect(await t.db.collection('messages').countDocuments({ session_id: sessionId })).toBe(6)
  })

  it('many turns by two writers: every confirmed turn is there exactly once, a stale one is always told', async () => {
    const sessionId = 'many-races-1'
    const writers = [t.client, other].map((client) => testAgent({ sessionManager: on(client, sessionId) }))
    const confirmed: string[] = []
    const reload = (agent: (typeof writers)[number]) => agent.sessionManager!.restoreSnapshot({ target: agent })
    // Forced interleavings: in each round both writers are up to date; one commits first, so the
    // other is stale whatever the timing, and must get SessionConflictError, reload and commit.
    for (const agent of writers) await agent.initialize()
    for (let round = 0; round < 6; round++) {
      const first = writers[round % 2]!
      const second = writers[(round + 1) % 2]!
      await first.invoke(`round ${round} first`)
      confirmed.push(`round ${round} first`)
      await expect(second.invoke(`round ${round} stale`)).rejects.toBeInstanceOf(SessionConflictError)
      await reload(second)
      await second.invoke(`round ${round} second`)
      confirmed.push(`round ${round} second`)
      await reload(first)
    }
    // Then free races: whoever loses is told, and what was confirmed is kept.
    for (let round = 0; round < 6; round++) {
      const results = await Promise.allSettled(writers.map((agent, i) => agent.invoke(`race ${round} writer ${i}`)))
      for (const [i, result] of results.entries()) {
        if (result.status === 'fulfilled') confirmed.push(`race ${round} writer ${i}`)
        else expect(result.reason).toBeInstanceOf(SessionConflictError)
      }
      for (const agent of writers) await reload(agent)
    }
    const probe = testAgent({ sessionManager: on(t.client, sessionId) })
    await probe.initialize()
    const userTexts = probe.messages
      .filter((m) => m.role === 'user')
      .map((m) => (m.content[0] as { text: string }).text)
    expect(userTexts.slice().sort()).toEqual(confirmed.slice().sort())
    const ids = probe.messages.map((m) => m.trackingId)
    expect(new Set(ids).size).toBe(ids.length)
    // Conversation alternates user/assistant: no half-committed turns.
    expect(probe.messages.map((m) => m.role)).toEqual(
      probe.messages.map((_, i) => (i % 2 === 0 ? 'user' : 'assistant')),
    )
  })
})

describe('a write retried after a network error', () => {
  it('does not duplicate messages when the insert reply is lost', async () => {
    const proxy = await startFaultProxy(t.uri)
    const client = await t.newClient()
    const viaProxy = await new MongoClient(proxy.uri, { serverSelectionTimeoutMS: 5_000 }).connect()
    try {
      const agent = testAgent({ sessionManager: on(viaProxy, 'net-retry-1') })
      await agent.invoke('before the fault')
      proxy.dropNextReply('insert')
      await agent.invoke('insert reply lost')
      proxy.dropNextReply('update')
      await agent.invoke('commit reply lost')
      expect(proxy.dropped).toBe(2)
      const probe = testAgent({ sessionManager: on(client, 'net-retry-1') })
      await probe.initialize()
      expect(conversationOf(probe)).toEqual(conversationOf(agent))
      expect(await t.db.collection('messages').countDocuments({ session_id: 'net-retry-1' })).toBe(6)
      const session = await t.db.collection('sessions').findOne({ _id: 'net-retry-1' as never })
      expect(Object.values(session?.agents ?? {}).map((a) => (a as { revision: number }).revision)).toEqual([3])
    } finally {
      await viaProxy.close()
      await proxy.close()
    }
  })
})

describe('writers in separate processes', () => {
  it('keeps every turn a writer was told is saved, exactly once (4 processes × 25 turns, one new session)', async () => {
    const sessionId = 'processes-1'
    const writers = ['w0', 'w1', 'w2', 'w3'].map((name) =>
      spawnTurnWriter([t.uri, t.databaseName, sessionId, name, '25']),
    )
    // Forced interleaving: every writer restores the still-absent session, then w0's first turn
    // completes before the others invoke. Each of them must be told of the conflict.
    const restored = await Promise.all(writers.map((w) => w.next('restored ')))
    expect(restored).toEqual(['restored 0', 'restored 0', 'restored 0', 'restored 0'])
    writers[0]!.go()
    expect(await writers[0]!.next('saved ')).toBe('saved w0 turn 0')
    const firstOutcomes = writers.slice(1).map((w) => w.next(''))
    for (const w of writers.slice(1)) w.go()
    expect(await Promise.all(firstOutcomes)).toEqual(['conflict', 'conflict', 'conflict'])
    const outputs = await Promise.all(writers.map((w) => w.done))
    const saved = outputs.flatMap((out) => out.filter((line) => line.startsWith('saved ')).map((l) => l.slice(6)))
    expect(saved).toHaveLength(100)

    const probe = testAgent({ sessionManager: on(t.client, sessionId) })
    await probe.initialize()
    const userTexts = probe.messages
      .filter((m) => m.role === 'user')
      .map((m) => (m.content[0] as { text: string }).text)
    expect(userTexts.slice().sort()).toEqual(saved.slice().sort())
    expect(probe.messages).toHaveLength(200)
  }, 240_000)
})
