/**
 * Retention: `expires_at` moves with every activity, an expired session reads as absent from the
 * moment it expires, a revival starts clean, and `pruneExpiredSessions` deletes every document of
 * expired sessions (batched, resumable, cancellable, notifications first). The clock is injected
 * and frozen, so every expiry time is exact and nothing depends on the wall clock.
 */
import { Agent, Graph } from '@strands-agents/sdk'
import { MultiAgentState } from '@strands-agents/sdk/multiagent'
import fc from 'fast-check'
import type { CommandStartedEvent, Document, MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ConfigurationError,
  listSessions,
  NotFoundError,
  MongoDBSessionManager,
  MongoDBSessionManagerFactory,
  pruneExpiredSessions,
  StorageOperationError,
  ValidationError,
} from '../../src/index.js'
import { openCollections, type SessionCollections } from '../../src/storage/collections.js'
import { emptyCounts, retireSession } from '../../src/storage/retention.js'
import { COLLECTIONS, type CollectionKey } from '../../src/storage/schema.js'
import { DURATION_UNITS, parseDuration } from '../../src/validation/duration.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { testAgent } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

const HOUR = 3_600_000

let t: TestDatabase
let prefixes = 0
beforeAll(async () => {
  t = await openTestDatabase('msm_retention')
})
afterAll(async () => {
  await t.cleanup()
})

/** A frozen clock, a factory with `retention: 1h` on it, and collections of their own (a prefix per test). */
function setup(options: { delivery?: 'durable'; client?: MongoClient } = {}) {
  const base = Date.now()
  let offset = 0
  const now = () => new Date(base + offset)
  const collectionPrefix = `r${++prefixes}_`
  const factory = new MongoDBSessionManagerFactory({
    client: options.client ?? t.client,
    databaseName: t.databaseName,
    collectionPrefix,
    retention: { expireAfter: '1h', now },
    ...(options.delivery && { delivery: options.delivery }),
  })
  const collections = openCollections(t.client.db(t.databaseName), collectionPrefix)
  return {
    now,
    advance: (ms: number) => void (offset += ms),
    factory,
    collections,
    collectionPrefix,
    expiresAt: async (id: string) => (await collections.sessions.findOne({ _id: id }))?.expires_at,
  }
}

/** Documents of `sessionId` in every collection. */
async function countsOf(collections: SessionCollections, sessionId: string): Promise<Record<CollectionKey, number>> {
  const bySession = { session_id: sessionId }
  return {
    sessions: await collections.sessions.countDocuments({ _id: sessionId }),
    messages: await collections.messages.countDocuments(bySession),
    snapshots: await collections.snapshots.countDocuments(bySession),
    snapshotChunks: await collections.snapshotChunks.countDocuments(bySession),
    feedback: await collections.feedback.countDocuments(bySession),
    guardrailEvents: await collections.guardrailEvents.countDocuments(bySession),
    storage: await collections.storage.countDocuments({
      _id: { $gte: `session/${sessionId}/`, $lt: `session/${sessionId}0` },
    }),
  }
}

function sum(...all: Record<CollectionKey, number>[]): Record<CollectionKey, number> {
  const out = Object.fromEntries(Object.keys(COLLECTIONS).map((k) => [k, 0])) as Record<CollectionKey, number>
  for (const counts of all) for (const key of Object.keys(out) as CollectionKey[]) out[key] += counts[key]
  return out
}

/** A session with turns, an immutable snapshot, metadata, feedback and a guardrail event. */
async function seed(s: ReturnType<typeof setup>, sessionId: string, turns = 3): Promise<void> {
  const manager = s.factory.createSessionManager(sessionId, { snapshotTrigger: () => true })
  const agent = testAgent({ sessionManager: manager })
  for (let i = 0; i < turns; i++) await agent.invoke(`turn ${i}`)
  await manager.updateMetadata({ topic: 'billing' })
  await manager.addFeedback({ rating: 'up' })
  await s.collections.guardrailEvents.insertOne({
    _id: `${sessionId}-g1`,
    session_id: sessionId,
    agent_id: 'agent',
    message_tracking_id: null,
    message_seq: null,
    action: 'redact',
    stop_reason: null,
    policies_triggered: null,
    created_at: s.now(),
  })
}

describe('the retention option', () => {
  it('accepted durations parse to the exact number of milliseconds; anything else is a ConfigurationError', () => {
    const units = Object.keys(DURATION_UNITS)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(...units), (n, unit) => {
        expect(parseDuration(`${n}${unit}`, 'x')).toBe(n * DURATION_UNITS[unit]!)
      }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        expect(parseDuration(ms, 'x')).toBe(ms)
      }),
    )
    const valid = /^[0-9]{1,16}(ms|s|m|h|d|w)$/
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(
            '',
            '0d',
            '0',
            '1.5h',
            ' 1h',
            '1h ',
            '1 h',
            '-1h',
            '1H',
            '1y',
            '1h30m',
            'd',
            '1e3ms',
            '30days',
          ),
        ),
        (text) => {
          const ok = valid.test(text) && Number(text.match(/^[0-9]+/)![0]) > 0
          if (ok) return // covered by the first property (up to safe-integer overflow, checked below)
          expect(() => parseDuration(text, 'x')).toThrow(ConfigurationError)
        },
      ),
    )
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, null, {}, [], true]) {
      expect(() => parseDuration(bad, 'x')).toThrow(ConfigurationError)
    }
    // Beyond a safe integer number of milliseconds: refused, not rounded.
    expect(() => parseDuration('9999999999999999w', 'x')).toThrow(ConfigurationError)
  })

  it('bad retention options fail at construction, on the manager and on the factory', () => {
    const client = t.client
    for (const retention of [
      { expireAfter: '30 days' },
      { expireAfter: 0 },
      { expireAfter: '1h', extra: 1 },
      'x',
      {},
    ]) {
      expect(() => new MongoDBSessionManager({ client, retention: retention as never })).toThrow(ConfigurationError)
      expect(() => new MongoDBSessionManagerFactory({ client, retention: retention as never })).toThrow(
        ConfigurationError,
      )
    }
  })
})

describe('expires_at', () => {
  it('moves with each kind of activity, in the write the activity makes', async () => {
    const s = setup()
    const manager = s.factory.createSessionManager('moves')
    const agent = testAgent({ sessionManager: manager })
    await agent.invoke('hello')
    expect(await s.expiresAt('moves')).toEqual(new Date(s.now().getTime() + HOUR))
    s.advance(10 * 60_000)
    await agent.invoke('a second turn')
    expect(await s.expiresAt('moves')).toEqual(new Date(s.now().getTime() + HOUR))
    s.advance(10 * 60_000)
    await manager.updateMetadata({ status: 'open' })
    expect(await s.expiresAt('moves')).toEqual(new Date(s.now().getTime() + HOUR))
    s.advance(10 * 60_000)
    await manager.deleteMetadata(['status'])
    expect(await s.expiresAt('moves')).toEqual(new Date(s.now().getTime() + HOUR))
    s.advance(10 * 60_000)
    await manager.addFeedback({ rating: 'down' })
    expect(await s.expiresAt('moves')).toEqual(new Date(s.now().getTime() + HOUR))
    // Reads are not activity.
    s.advance(10 * 60_000)
    await manager.getMetadata()
    await testAgent({ sessionManager: s.factory.createSessionManager('moves') }).initialize()
    expect(await s.expiresAt('moves')).toEqual(new Date(s.now().getTime() - 10 * 60_000 + HOUR))
  })

  it('a session first created by metadata or by feedback gets an expiry too', async () => {
    const s = setup()
    await s.factory.createSessionManager('by-metadata').updateMetadata({ a: 1 })
    await s.factory.createSessionManager('by-feedback').addFeedback({ rating: null })
    expect(await s.expiresAt('by-metadata')).toEqual(new Date(s.now().getTime() + HOUR))
    expect(await s.expiresAt('by-feedback')).toEqual(new Date(s.now().getTime() + HOUR))
  })
})

describe('an expired session', () => {
  it('reads as absent from the moment it expires, before anything is deleted', async () => {
    const s = setup()
    await seed(s, 'expiring')
    const stored = await countsOf(s.collections, 'expiring')
    const restoredMessages = async () => {
      const agent = testAgent({ sessionManager: s.factory.createSessionManager('expiring') })
      await agent.initialize()
      return agent.messages.length
    }
    const listed = async () => (await listSessions(s.collections, {}, { now: s.now() })).items.map((i) => i.sessionId)
    s.advance(HOUR - 1)
    expect(await restoredMessages()).toBe(6)
    expect(await s.factory.createSessionManager('expiring').getMetadata()).toEqual({ topic: 'billing' })
    expect(await listed()).toEqual(['expiring'])

    s.advance(1)
    const manager = s.factory.createSessionManager('expiring')
    expect(await restoredMessages()).toBe(0)
    expect(await manager.getMetadata()).toEqual({})
    expect(await manager.getMetadata(['topic'])).toEqual({})
    expect(await manager.getFeedbackCounts()).toEqual({ up: 0, down: 0, neutral: 0 })
    expect((await manager.getMetricsSummary()).session.invocations).toBe(0)
    expect(await manager.listAgents()).toEqual([])
    expect(await manager.getFeedbacks()).toEqual({ items: [], nextCursor: null })
    expect(await manager.getGuardrailEvents()).toEqual({ items: [], nextCursor: null })
    await expect(manager.getAgentConfig('agent')).rejects.toBeInstanceOf(NotFoundError)
    await expect(manager.getMessageCount('agent')).rejects.toBeInstanceOf(NotFoundError)
    expect(await listed()).toEqual([])
    // Nothing was deleted by reading it.
    expect(await countsOf(s.collections, 'expiring')).toEqual(stored)
  })
})

describe('state outside the session document', () => {
  it('immutable snapshots and Graph state of an expired session read as absent; a Graph save revives it clean', async () => {
    const s = setup()
    await seed(s, 'outside')
    const manager = s.factory.createSessionManager('outside')
    const agent = testAgent({ sessionManager: manager })
    await agent.initialize()
    const ids = await manager.listSnapshotIds({ target: agent })
    expect(ids.length).toBeGreaterThan(0)
    const makeGraph = (sessionManager?: MongoDBSessionManager) => {
      const node = (id: string) => new Agent({ id, model: new ScriptedModel([{ text: id }]), printer: false })
      return new Graph({
        id: 'pipeline',
        nodes: [node('worker'), node('reviewer')],
        edges: [['worker', 'reviewer']],
        ...(sessionManager && { sessionManager }),
      })
    }
    await makeGraph(s.factory.createSessionManager('outside')).invoke('do it')
    expect(await s.expiresAt('outside')).toEqual(new Date(s.now().getTime() + HOUR))
    const restoreGraph = () =>
      s.factory.createSessionManager('outside').restoreSnapshot({ target: makeGraph(), state: new MultiAgentState() })
    expect(await restoreGraph()).toBe(true)

    s.advance(HOUR)
    const later = s.factory.createSessionManager('outside')
    expect(await later.listSnapshotIds({ target: agent })).toEqual([])
    expect(await later.restoreSnapshot({ target: agent, snapshotId: ids[0]! })).toBe(false)
    expect(await restoreGraph()).toBe(false)

    // A Graph run revives the session: fresh, with only the new Graph state.
    s.advance(1)
    await makeGraph(s.factory.createSessionManager('outside')).invoke('again')
    expect(await s.expiresAt('outside')).toEqual(new Date(s.now().getTime() + HOUR))
    expect(await restoreGraph()).toBe(true)
    expect(await countsOf(s.collections, 'outside')).toMatchObject({
      sessions: 1,
      messages: 0,
      feedback: 0,
      snapshots: 1,
    })
    expect(await s.factory.createSessionManager('outside').getMetadata()).toEqual({})
  })
})

describe('reviving an expired session', () => {
  it('by a turn (a new request) starts a clean conversation: no old message, feedback or metadata', async () => {
    const s = setup()
    await seed(s, 'revive-turn')
    s.advance(2 * HOUR)
    const agent = testAgent({ sessionManager: s.factory.createSessionManager('revive-turn') })
    await agent.invoke('a fresh start')
    expect(agent.messages.map((m) => m.role)).toEqual(['user', 'assistant'])
    const stored = await s.collections.messages.find({ session_id: 'revive-turn' }).toArray()
    expect(stored).toHaveLength(2)
    expect(JSON.stringify(stored)).toContain('a fresh start')
    expect(JSON.stringify(stored)).not.toContain('turn 0')
    const again = testAgent({ sessionManager: s.factory.createSessionManager('revive-turn') })
    await again.initialize()
    expect(again.messages).toHaveLength(2)
    const manager = s.factory.createSessionManager('revive-turn')
    expect(await manager.getMetadata()).toEqual({})
    expect(await manager.getFeedbacks()).toEqual({ items: [], nextCursor: null })
    expect((await manager.getMetricsSummary()).session.invocations).toBe(1)
    expect(await countsOf(s.collections, 'revive-turn')).toMatchObject({
      sessions: 1,
      messages: 2,
      snapshots: 0,
      snapshotChunks: 0,
      feedback: 0,
      guardrailEvents: 0,
    })
    expect(await s.expiresAt('revive-turn')).toEqual(new Date(s.now().getTime() + HOUR))
  })

  it('by a turn of a long-lived agent: the expired session is retired and what the agent holds is stored anew', async () => {
    const s = setup()
    const manager = s.factory.createSessionManager('revive-long')
    const agent = testAgent({ sessionManager: manager })
    await agent.invoke('before')
    await manager.addFeedback({ rating: 'up' })
    const oldOps = (await s.collections.messages.find({ session_id: 'revive-long' }).toArray()).map((d) => d.op_id)
    s.advance(2 * HOUR)
    await agent.invoke('after')
    const stored = await s.collections.messages.find({ session_id: 'revive-long' }).toArray()
    expect(stored).toHaveLength(agent.messages.length)
    expect(stored.filter((d) => oldOps.includes(d.op_id))).toEqual([])
    expect(await manager.getFeedbacks()).toEqual({ items: [], nextCursor: null })
    expect(await s.expiresAt('revive-long')).toEqual(new Date(s.now().getTime() + HOUR))
    // And it goes on as usual.
    await agent.invoke('later')
    const restored = testAgent({ sessionManager: s.factory.createSessionManager('revive-long') })
    await restored.initialize()
    expect(restored.messages).toHaveLength(agent.messages.length)
  })

  it('by metadata or by feedback starts clean too', async () => {
    const s = setup()
    await seed(s, 'revive-meta')
    await seed(s, 'revive-feedback')
    s.advance(2 * HOUR)
    const meta = s.factory.createSessionManager('revive-meta')
    expect(await meta.updateMetadata({ fresh: true })).toEqual({ fresh: true })
    expect(await countsOf(s.collections, 'revive-meta')).toMatchObject({ sessions: 1, messages: 0, feedback: 0 })
    const agent = testAgent({ sessionManager: s.factory.createSessionManager('revive-meta') })
    await agent.initialize()
    expect(agent.messages).toEqual([])

    const fb = s.factory.createSessionManager('revive-feedback')
    const entry = await fb.addFeedback({ rating: 'down', comment: 'new' })
    expect((await fb.getFeedbacks()).items.map((f) => f.id)).toEqual([entry.id])
    expect(await fb.getFeedbackCounts()).toEqual({ up: 0, down: 1, neutral: 0 })
    expect(await fb.getMetadata()).toEqual({})
    expect(await countsOf(s.collections, 'revive-feedback')).toMatchObject({ sessions: 1, messages: 0, feedback: 1 })
  })
})

describe('reviving with durable delivery', () => {
  it("a feedback's own pending notification does not hold back the revival it makes", async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const sender = { channel: 'test', send: () => gate }
    const s = setup({ delivery: 'durable' })
    await seed(s, 'durable-revive')
    s.advance(2 * HOUR)
    const manager = s.factory.createSessionManager('durable-revive', {
      feedbackHook: async (original, _action, _id, args, context) => {
        context.notify({ channel: 'test', target: 'somewhere', payload: { n: 1 } }, sender)
        return original(args)
      },
    })
    const entry = await manager.addFeedback({ rating: 'down' })
    // Still undelivered: the new feedback carries it.
    const stored = await s.collections.feedback.findOne({ _id: entry.id })
    expect(stored?.outbox).toHaveLength(1)
    expect(await manager.getFeedbackCounts()).toEqual({ up: 0, down: 1, neutral: 0 })
    expect((await manager.getFeedbacks()).items.map((f) => f.id)).toEqual([entry.id])
    expect(await countsOf(s.collections, 'durable-revive')).toMatchObject({ sessions: 1, messages: 0, feedback: 1 })
    release()
    await s.factory.flush()
  })
})

describe('retirements that overlap a revival', () => {
  it('a retirement lagging behind another one and a revival never deletes a document of the new session', async () => {
    const s = setup()
    await seed(s, 'lagging')
    s.advance(2 * HOUR)
    let interleaved = false
    // The lagging retirement reads the expired session, deletes one batch, then stalls while another
    // retirement completes and a writer revives the session; then it resumes with what it read.
    const status = await retireSession(s.collections, 'lagging', {
      now: s.now(),
      batchSize: 1,
      counts: emptyCounts(),
      onBatch: async () => {
        if (interleaved) return
        interleaved = true
        expect((await s.factory.pruneExpiredSessions()).sessions).toBe(1)
        const manager = s.factory.createSessionManager('lagging')
        await testAgent({ sessionManager: manager }).invoke('a new life')
        await manager.addFeedback({ rating: 'up' })
        await manager.updateMetadata({ fresh: true })
      },
    })
    expect(interleaved).toBe(true)
    expect(status).toBe('absent')
    expect(await countsOf(s.collections, 'lagging')).toEqual({
      sessions: 1,
      messages: 2,
      snapshots: 0,
      snapshotChunks: 0,
      feedback: 1,
      guardrailEvents: 0,
      storage: 0,
    })
    const agent = testAgent({ sessionManager: s.factory.createSessionManager('lagging') })
    await agent.initialize()
    expect(agent.messages).toHaveLength(2)
    expect(await s.factory.createSessionManager('lagging').getMetadata()).toEqual({ fresh: true })
  })
})

describe('pruneExpiredSessions', () => {
  it('dry run counts without writing; the prune deletes every document of expired sessions only', async () => {
    const s = setup()
    await seed(s, 'old-a')
    await seed(s, 'old-b', 1)
    s.advance(30 * 60_000)
    await seed(s, 'young')
    await s.collections.storage.insertOne({
      _id: 'session/old-a/extra',
      data: new (await import('mongodb')).Binary(Buffer.from('x')),
      updated_at: s.now(),
    })
    s.advance(31 * 60_000) // old-a and old-b expired, young not
    const expected = sum(await countsOf(s.collections, 'old-a'), await countsOf(s.collections, 'old-b'))
    expect(expected.messages).toBe(8)
    expect(expected.snapshots).toBeGreaterThan(0)
    expect(expected.snapshotChunks).toBeGreaterThan(0)
    expect(expected.storage).toBe(1)
    const young = await countsOf(s.collections, 'young')

    const dry = await s.factory.pruneExpiredSessions({ dryRun: true })
    expect(dry).toMatchObject({ dryRun: true, aborted: false, sessions: 2, counts: expected })
    expect(sum(await countsOf(s.collections, 'old-a'), await countsOf(s.collections, 'old-b'))).toEqual(expected)

    const result = await s.factory.pruneExpiredSessions()
    expect(result).toMatchObject({ dryRun: false, aborted: false, sessions: 2, skippedPendingNotifications: 0 })
    expect(result.counts).toEqual(expected)
    expect(sum(await countsOf(s.collections, 'old-a'), await countsOf(s.collections, 'old-b'))).toEqual(sum())
    expect(await countsOf(s.collections, 'young')).toEqual(young)
    expect((await s.factory.pruneExpiredSessions()).sessions).toBe(0)
  })

  it('honours batchSize: no command lists or deletes more documents than that', async () => {
    const monitored = await t.newClient({ monitorCommands: true })
    const s = setup({ client: monitored })
    await seed(s, 'batched', 4)
    s.advance(2 * HOUR)
    const events: CommandStartedEvent[] = []
    const listener = (e: CommandStartedEvent) => events.push(e)
    monitored.on('commandStarted', listener)
    const progress: number[] = []
    const result = await pruneExpiredSessions(
      { client: monitored, databaseName: t.databaseName, collectionPrefix: s.collectionPrefix },
      { batchSize: 3, now: s.now, onProgress: (p) => progress.push(p.counts.messages) },
    )
    monitored.off('commandStarted', listener)
    expect(result.counts.messages).toBe(8)
    const deletes = events.filter(
      (e) => e.commandName === 'delete' && e.command.delete === `${s.collectionPrefix}messages`,
    )
    expect(deletes).toHaveLength(3) // 8 messages in batches of 3
    for (const d of deletes) {
      const filter = (d.command.deletes as Document[])[0]!.q as Document
      expect((filter._id as { $in: string[] }).$in.length).toBeLessThanOrEqual(3)
    }
    for (const find of events.filter((e) => e.commandName === 'find')) {
      if (find.command.limit !== undefined) expect(find.command.limit).toBeLessThanOrEqual(3)
    }
    expect(progress).toContain(3)
    expect(progress).toContain(6)
    await expect(pruneExpiredSessions(s.collections, { batchSize: 0 })).rejects.toThrow(ValidationError)
  })

  it('an AbortSignal stops it with what was done; the half-pruned session never reads as live; the next prune finishes', async () => {
    const s = setup()
    await seed(s, 'crashy', 4)
    s.advance(2 * HOUR)
    const expected = await countsOf(s.collections, 'crashy')
    const controller = new AbortController()
    // Stop after the first batch, in the middle of the first collection (a crash at that point).
    const first = await s.factory.pruneExpiredSessions({
      batchSize: 2,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    })
    expect(first.aborted).toBe(true)
    expect(first.sessions).toBe(0)
    expect(first.counts.messages).toBe(2)
    expect(first.counts.sessions).toBe(0)
    // Half deleted: still expired, so absent to every reader.
    const raw = await s.collections.sessions.findOne({ _id: 'crashy' })
    expect(raw?.pruning).toBe(true)
    const agent = testAgent({ sessionManager: s.factory.createSessionManager('crashy') })
    await agent.initialize()
    expect(agent.messages).toEqual([])
    expect(await s.factory.createSessionManager('crashy').getMetadata()).toEqual({})
    expect((await listSessions(s.collections, {}, { now: s.now() })).items).toEqual([])

    const second = await s.factory.pruneExpiredSessions({ batchSize: 2 })
    expect(second.aborted).toBe(false)
    expect(second.sessions).toBe(1)
    expect(sum(first.counts, second.counts)).toEqual(expected)
    expect(await countsOf(s.collections, 'crashy')).toEqual(sum())

    // Already aborted: nothing happens.
    await seed(s, 'untouched')
    s.advance(2 * HOUR)
    const before = await countsOf(s.collections, 'untouched')
    const none = await s.factory.pruneExpiredSessions({ signal: AbortSignal.abort() })
    expect(none).toMatchObject({ aborted: true, sessions: 0, counts: sum() })
    expect(await countsOf(s.collections, 'untouched')).toEqual(before)
  })

  it('leaves sessions with undelivered durable notifications until they are delivered or given up', async () => {
    const s = setup()
    await seed(s, 'notify-session')
    await seed(s, 'notify-feedback')
    const entry = { event_id: 'e1', channel: 'sqs', target: 'q', payload: {}, created_at: s.now(), due_at: s.now() }
    await s.collections.sessions.updateOne(
      { _id: 'notify-session' },
      { $push: { outbox: { ...entry, session_id: 'notify-session' } } },
    )
    await s.collections.feedback.updateOne(
      { session_id: 'notify-feedback' },
      { $push: { outbox: { ...entry, session_id: 'notify-feedback' } } },
    )
    s.advance(2 * HOUR)
    const kept = [await countsOf(s.collections, 'notify-session'), await countsOf(s.collections, 'notify-feedback')]
    const first = await s.factory.pruneExpiredSessions()
    expect(first).toMatchObject({ sessions: 0, skippedPendingNotifications: 2, counts: sum() })
    expect(await countsOf(s.collections, 'notify-session')).toEqual(kept[0])
    // A writer cannot revive it either, until the notifications are out.
    await expect(s.factory.createSessionManager('notify-session').updateMetadata({ a: 1 })).rejects.toThrow(
      StorageOperationError,
    )

    // Delivered (removed) on one, given up (moved to outbox_failed) on the other.
    await s.collections.sessions.updateOne({ _id: 'notify-session' }, { $set: { outbox: [] } })
    await s.collections.feedback.updateOne(
      { session_id: 'notify-feedback' },
      { $set: { outbox: [], outbox_failed: [{ ...entry, failed_at: s.now(), error: 'gone' }] } },
    )
    const second = await s.factory.pruneExpiredSessions()
    expect(second).toMatchObject({ sessions: 2, skippedPendingNotifications: 0, counts: sum(...kept) })
    expect(
      sum(await countsOf(s.collections, 'notify-session'), await countsOf(s.collections, 'notify-feedback')),
    ).toEqual(sum())
  })

  it('on this engine without TTL indexes, a plain index on expires_at serves the prune', async () => {
    const s = setup()
    await s.factory.connect()
    const names = (await s.collections.sessions.listIndexes().toArray()).map((i) => i.name)
    const { ttlIndexes } = await (await import('../../src/storage/capabilities.js')).detectCapabilities(t.client)
    expect(names).toContain(ttlIndexes ? 'msm_expires_ttl' : 'msm_expires')
  })
})
