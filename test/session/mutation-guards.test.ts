/**
 * Guards of the save path that only show under a precise interleaving: a stale writer whose save
 * inserts no message (state-only change, pure trim), and a save whose next sequence number is
 * taken by another writer's uncommitted message. Two managers on separate clients, as two
 * processes would be, with the order forced step by step.
 */
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Message } from '@strands-agents/sdk'
import { DocumentTooLargeError, MongoDBSessionManager, SessionConflictError } from '../../src/index.js'
import { messageDocumentId } from '../../src/storage/message-codec.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let other: MongoClient
beforeAll(async () => {
  t = await openTestDatabase('msm_guards')
  other = await t.newClient()
})
afterAll(async () => {
  await t.cleanup()
})

const AGENT_ID = 'writer'
const on = (client: MongoClient, sessionId: string) =>
  new MongoDBSessionManager({ sessionId, client, databaseName: t.databaseName })
const agentOn = (client: MongoClient, sessionId: string) =>
  testAgent({ id: AGENT_ID, sessionManager: on(client, sessionId) })

async function storedAgent(sessionId: string) {
  const doc = await t.db.collection('sessions').findOne({ _id: sessionId as never })
  return doc?.agents?.[AGENT_ID] as { revision: number; ranges: { first: number; last: number }[] } | undefined
}

/** What a fresh restore of the session gives. */
async function restored(sessionId: string) {
  const probe = agentOn(t.client, sessionId)
  await probe.initialize()
  return probe
}

/** A and B both restore after one committed turn; then B commits a second turn. A is now stale. */
async function staleWriter(sessionId: string, turns = 1) {
  const seed = agentOn(t.client, sessionId)
  await seed.invoke('first turn')
  const a = agentOn(t.client, sessionId)
  const b = agentOn(other, sessionId)
  await a.initialize()
  await b.initialize()
  for (let turn = 1; turn <= turns; turn++) await b.invoke(`b commits turn ${turn}`)
  expect((await storedAgent(sessionId))?.revision).toBe(1 + turns)
  return { a, b }
}

describe('a stale writer whose save inserts no message', () => {
  it('a state-only change gets SessionConflictError and overwrites nothing', async () => {
    const sessionId = 'stale-state-only'
    const { a, b } = await staleWriter(sessionId)
    a.appState.set('written_by', 'a')
    const error = await a.sessionManager!.saveSnapshot({ target: a, isLatest: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)
    expect((error as Error).message).toContain('(expected revision 1, found 2)')

    expect((await storedAgent(sessionId))?.revision).toBe(2)
    const probe = await restored(sessionId)
    expect(conversationOf(probe)).toEqual(conversationOf(b))
    expect(probe.appState.get('written_by')).toBeUndefined()
  })

  it('a pure trim gets SessionConflictError and overwrites nothing', async () => {
    const sessionId = 'stale-trim'
    const { a, b } = await staleWriter(sessionId)
    a.messages.splice(0, 2)
    const error = await a.sessionManager!.saveSnapshot({ target: a, isLatest: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)

    const stored = await storedAgent(sessionId)
    expect(stored?.revision).toBe(2)
    expect(stored?.ranges).toEqual([{ first: 0, last: 3 }])
    const probe = await restored(sessionId)
    expect(probe.messages).toHaveLength(4)
    expect(conversationOf(probe)).toEqual(conversationOf(b))
  })
})

describe("another writer's uncommitted message at the next sequence number", () => {
  it('is left untouched: the save moves its messages elsewhere and the restore is exact', async () => {
    const sessionId = 'foreign-at-next-seq'
    const agent = agentOn(t.client, sessionId)
    await agent.invoke('first turn')
    expect((await storedAgent(sessionId))?.ranges).toEqual([{ first: 0, last: 1 }])

    // What a crashed writer leaves behind: a message document at seq 2, never committed.
    const foreign = {
      _id: messageDocumentId({ sessionId, agentId: AGENT_ID, seq: 2 }),
      session_id: sessionId,
      agent_id: AGENT_ID,
      seq: 2,
      role: 'user',
      content: [{ text: 'uncommitted, from another writer' }],
      tracking_id: null,
      op_id: 'another-writer-op',
      created_at: new Date('2026-01-01T00:00:00.000Z'),
    }
    const messages = t.db.collection('messages')
    await messages.insertOne(foreign as never)

    await agent.invoke('second turn')

    expect(await messages.findOne({ _id: foreign._id as never })).toEqual(foreign)
    const stored = await storedAgent(sessionId)
    expect(stored?.revision).toBe(2)
    expect(stored?.ranges).toHaveLength(2)
    expect(stored?.ranges[0]).toEqual({ first: 0, last: 1 })
    const moved = stored!.ranges[1]!
    expect(moved.first).toBeGreaterThan(2)
    expect(moved.last).toBe(moved.first + 1)
    // Nothing of the save stayed at the taken positions.
    expect(await messages.countDocuments({ session_id: sessionId, seq: { $in: [2, 3] } })).toBe(1)
    expect(await messages.countDocuments({ session_id: sessionId })).toBe(5)

    const probe = await restored(sessionId)
    expect(probe.messages).toHaveLength(4)
    expect(conversationOf(probe)).toEqual(conversationOf(agent))

    // The next turn continues right after the moved messages.
    await agent.invoke('third turn')
    expect((await storedAgent(sessionId))?.ranges).toEqual([
      { first: 0, last: 1 },
      { first: moved.first, last: moved.first + 3 },
    ])
    expect(conversationOf(await restored(sessionId))).toEqual(conversationOf(agent))
  })
})

describe("the save's own messages found again after a lost insert reply", () => {
  it('are recognised as its own (same op_id): they keep their positions, nothing is moved', async () => {
    const sessionId = 'own-duplicates'
    const proxy = await startFaultProxy(t.uri)
    const viaProxy = await new MongoClient(proxy.uri, { serverSelectionTimeoutMS: 5_000 }).connect()
    try {
      const agent = agentOn(viaProxy, sessionId)
      await agent.invoke('first turn')
      proxy.dropNextReply('insert')
      await agent.invoke('insert reply lost')
      expect(proxy.dropped).toBe(1)
      // The retried insert met its own documents: the conversation stays contiguous.
      expect((await storedAgent(sessionId))?.ranges).toEqual([{ first: 0, last: 3 }])
      expect(await t.db.collection('messages').countDocuments({ session_id: sessionId })).toBe(4)
      expect(conversationOf(await restored(sessionId))).toEqual(conversationOf(agent))
    } finally {
      await viaProxy.close()
      await proxy.close()
    }
  })
})

describe('a stale writer with new messages', () => {
  it('is told that its positions were taken, before writing anything', async () => {
    const sessionId = 'stale-with-turn'
    const { a, b } = await staleWriter(sessionId, 2)
    const error = await a.invoke('a is stale').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)
    expect((error as Error).message).toBe(
      `session '${sessionId}', agent '${AGENT_ID}': concurrent write detected ` +
        '(messages were written at the same positions; revision 1 → 3); reload the session before writing again',
    )
    expect(await t.db.collection('messages').countDocuments({ session_id: sessionId })).toBe(6)
    expect(conversationOf(await restored(sessionId))).toEqual(conversationOf(b))
  })
})

describe('the session deleted under a writer', () => {
  it('its next save is a conflict and leaves none of its messages behind; other sessions are untouched', async () => {
    const sessionId = 'deleted-under-writer'
    const neighbour = agentOn(t.client, 'deleted-neighbour')
    await neighbour.invoke('next door')
    const a = agentOn(t.client, sessionId)
    await a.invoke('first turn')
    await on(other, sessionId).deleteSession()
    const error = await a.invoke('after the delete').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)
    expect((error as Error).message).toContain('(the session was deleted)')
    expect(await t.db.collection('messages').countDocuments({ session_id: sessionId })).toBe(0)
    expect(await t.db.collection('sessions').countDocuments({ _id: sessionId as never })).toBe(0)
    expect(await t.db.collection('messages').countDocuments({ session_id: 'deleted-neighbour' })).toBe(2)
  })

  it("the same manager's deleteSession starts over: the next save writes a new session", async () => {
    const sessionId = 'deleted-by-own-manager'
    const a = agentOn(t.client, sessionId)
    await a.invoke('first turn')
    await a.sessionManager!.deleteSession()
    await a.invoke('second turn')
    expect((await storedAgent(sessionId))?.revision).toBe(1)
    expect(conversationOf(await restored(sessionId))).toEqual(conversationOf(a))
  })
})

describe('saves that change nothing', () => {
  it('write nothing: the revision and the update time stay as they were', async () => {
    const sessionId = 'no-op-save'
    const a = agentOn(t.client, sessionId)
    await a.invoke('first turn')
    const before = await t.db.collection('sessions').findOne({ _id: sessionId as never })
    await a.sessionManager!.saveSnapshot({ target: a, isLatest: true })
    await a.sessionManager!.saveSnapshot({ target: a, isLatest: true })
    expect(await t.db.collection('sessions').findOne({ _id: sessionId as never })).toEqual(before)
    a.appState.set('changed', true)
    await a.sessionManager!.saveSnapshot({ target: a, isLatest: true })
    expect((await storedAgent(sessionId))?.revision).toBe(2)
  })
})

describe('an agent entry without a revision', () => {
  it('is not a saved agent: the restore finds nothing and the first save commits', async () => {
    const sessionId = 'partial-agent-entry'
    await on(t.client, sessionId).ensureSession()
    // What another writer or version may leave: configuration, but no committed state.
    await t.db
      .collection('sessions')
      .updateOne({ _id: sessionId as never }, { $set: { [`agents.${AGENT_ID}.config.model`]: 'm' } })
    const a = agentOn(t.client, sessionId)
    await a.initialize()
    expect(a.messages).toHaveLength(0)
    await a.invoke('first turn')
    expect((await storedAgent(sessionId))?.revision).toBe(1)
    expect(conversationOf(await restored(sessionId))).toEqual(conversationOf(a))
  })
})

describe('a message too large for one document', () => {
  it('is refused before anything is written, naming the message and the agent', async () => {
    const sessionId = 'message-too-large'
    const a = agentOn(t.client, sessionId)
    await a.invoke('first turn')
    const before = await t.db.collection('sessions').findOne({ _id: sessionId as never })
    // Just under 16 MiB: fits the server, but not the room kept for fields added later.
    const text = 'x'.repeat(16 * 1024 * 1024 - 40 * 1024)
    a.messages.push(Message.fromJSON({ role: 'user', content: [{ text }] } as never))
    const error = await a.sessionManager!.saveSnapshot({ target: a, isLatest: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DocumentTooLargeError)
    expect((error as Error).message).toMatch(/^message \S+ of agent 'writer' \(user\)/)
    expect(await t.db.collection('sessions').findOne({ _id: sessionId as never })).toEqual(before)
    expect(await t.db.collection('messages').countDocuments({ session_id: sessionId })).toBe(2)
  })
})

describe('restoring an immutable snapshot, then going on', () => {
  it('rewrites the conversation after the stored one, on the stored revision', async () => {
    const sessionId = 'immutable-then-on'
    const a = agentOn(t.client, sessionId)
    await a.invoke('one')
    await a.sessionManager!.saveSnapshot({ target: a, isLatest: false })
    await a.invoke('two')
    const [snapshotId] = await a.sessionManager!.listSnapshotIds({ target: a })
    expect(await a.sessionManager!.restoreSnapshot({ target: a, snapshotId: snapshotId! })).toBe(true)
    expect(a.messages).toHaveLength(2)
    await a.invoke('three')
    const stored = await storedAgent(sessionId)
    expect(stored?.revision).toBe(3)
    expect(stored?.ranges).toEqual([{ first: 4, last: 7 }])
    expect(conversationOf(await restored(sessionId))).toEqual(conversationOf(a))
  })
})
