/**
 * Long histories: no 16 MiB ceiling, and per-turn writes that do not grow with history length.
 */
import {
  Agent,
  Message,
  NullConversationManager,
  SessionManager,
  SlidingWindowConversationManager,
} from '@strands-agents/sdk'
import { InMemoryStorage } from '@strands-agents/sdk/storage'
import type { CommandStartedEvent, MongoClient } from 'mongodb'
import { BSON } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MongoDBSessionManager } from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let monitored: MongoClient
const commands: CommandStartedEvent[] = []
beforeAll(async () => {
  t = await openTestDatabase('msm_scale')
  monitored = await t.newClient({ monitorCommands: true })
  monitored.on('commandStarted', (event) => commands.push(event))
})
afterAll(async () => {
  await t.cleanup()
})

/** Write commands (and their BSON size) issued while `run` executes. */
async function writesDuring(
  run: () => Promise<unknown>,
): Promise<{ name: string; documents: number; bytes: number }[]> {
  const start = commands.length
  await run()
  return commands
    .slice(start)
    .filter((c) => ['insert', 'update', 'delete', 'findAndModify'].includes(c.commandName))
    .map((c) => ({
      name: c.commandName,
      documents: ((c.command.documents ?? c.command.updates ?? c.command.deletes ?? [null]) as unknown[]).length,
      bytes: BSON.calculateObjectSize(c.command),
    }))
}

/** Only the conversation storage path: no metrics or agent-config writes. */
const storageOnly = { captureMetrics: false, captureAgentConfig: false } as const

function paragraph(i: number): string {
  // ~2 KB of text that differs per message.
  return `message ${i}: ` + 'lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(35)
}

describe('a session of 20,000 messages (~40 MB)', () => {
  it('saves, restores, and then writes only the new messages of a turn', { timeout: 600_000 }, async () => {
    const messages = Array.from({ length: 20_000 }, (_, i) =>
      Message.fromJSON({ role: i % 2 === 0 ? 'user' : 'assistant', content: [{ text: paragraph(i) }] } as never),
    )
    const bytes = messages.reduce((sum, m) => sum + JSON.stringify(m.toJSON()).length, 0)
    expect(bytes).toBeGreaterThan(40_000_000)
    // Its own database: FerretDB scans collections for non-_id filters, so keep the bulk away from other tests.
    const databaseName = `${t.databaseName}_huge`
    // Storage path only: metrics and config capture add their own (constant) writes, measured below.
    const sm = new MongoDBSessionManager({ sessionId: 'huge-1', client: monitored, databaseName, ...storageOnly })
    const agent = new Agent({
      model: new ScriptedModel([{ text: 'noted' }]),
      messages,
      conversationManager: new NullConversationManager(),
      sessionManager: sm,
      printer: false,
    })
    await agent.initialize()
    await sm.saveSnapshot({ target: agent, isLatest: true })
    expect(await monitored.db(databaseName).collection('messages').countDocuments({ session_id: 'huge-1' })).toBe(
      20_000,
    )

    const restored = new Agent({
      model: new ScriptedModel([{ text: 'noted' }]),
      conversationManager: new NullConversationManager(),
      sessionManager: new MongoDBSessionManager({
        sessionId: 'huge-1',
        client: monitored,
        databaseName,
        ...storageOnly,
      }),
      printer: false,
    })
    await restored.initialize()
    expect(restored.messages).toHaveLength(20_000)
    expect(conversationOf(restored)).toEqual(conversationOf(agent))

    const writes = await writesDuring(() => restored.invoke('one more question'))
    expect(writes).toEqual([
      { name: 'insert', documents: 2, bytes: expect.any(Number) },
      { name: 'update', documents: 1, bytes: expect.any(Number) },
    ])
    expect(writes.reduce((sum, w) => sum + w.bytes, 0)).toBeLessThan(8_000)
    await monitored.db(databaseName).dropDatabase()
  })
})

describe('per-turn writes against history length', () => {
  it('stay the same commands and about the same bytes at 10 and at 2,000 messages', { timeout: 300_000 }, async () => {
    const perTurn: number[] = []
    const commandsPerTurn: string[][] = []
    for (const n of [10, 2_000]) {
      const sessionId = `flat-${n}`
      const agent = new Agent({
        model: new ScriptedModel([{ text: 'ok' }]),
        messages: Array.from({ length: n }, (_, i) =>
          Message.fromJSON({ role: i % 2 === 0 ? 'user' : 'assistant', content: [{ text: paragraph(i) }] } as never),
        ),
        conversationManager: new NullConversationManager(),
        sessionManager: new MongoDBSessionManager({ sessionId, client: monitored, databaseName: t.databaseName }),
        printer: false,
      })
      await agent.initialize()
      await agent.sessionManager!.saveSnapshot({ target: agent, isLatest: true })
      await agent.invoke('warm up') // first turn also records the agent's configuration once
      const writes = await writesDuring(() => agent.invoke('next'))
      // The conversation: one insert of the two new messages and one session update; then the
      // invocation's metrics on its final message and the running totals.
      expect(writes.slice(0, 2).map((w) => w.name)).toEqual(['insert', 'update'])
      expect(writes[0]!.documents).toBe(2)
      commandsPerTurn.push(writes.map((w) => w.name))
      perTurn.push(writes.reduce((sum, w) => sum + w.bytes, 0))
    }
    expect(commandsPerTurn[1]).toEqual(commandsPerTurn[0])
    expect(Math.abs(perTurn[1]! - perTurn[0]!)).toBeLessThan(300)
  })
})

describe("the SDK's SlidingWindowConversationManager", () => {
  /** Conversation without trackingIds (random per message), to compare two separately run agents. */
  const shape = (agent: Agent) => conversationOf(agent).map((m) => ({ ...(m as object), trackingId: undefined }))

  it('restores what the stock SDK SessionManager restores, trimming without rewriting', async () => {
    const ours = testAgent({
      sessionManager: new MongoDBSessionManager({
        sessionId: 'window-1',
        client: monitored,
        databaseName: t.databaseName,
      }),
      conversationManager: new SlidingWindowConversationManager({ windowSize: 10 }),
    })
    const storage = new InMemoryStorage()
    const stock = testAgent({
      sessionManager: new SessionManager({ sessionId: 'window-1', storage }),
      conversationManager: new SlidingWindowConversationManager({ windowSize: 10 }),
    })
    for (let i = 0; i < 12; i++) {
      await ours.invoke(`turn ${i}`)
      await stock.invoke(`turn ${i}`)
    }
    // Once the window is full, a turn still inserts just its own two messages.
    const last = await writesDuring(() => ours.invoke('turn 12'))
    await stock.invoke('turn 12')
    expect(last.filter((w) => w.name === 'insert').map((w) => w.documents)).toEqual([2])

    const restoredOurs = testAgent({
      sessionManager: new MongoDBSessionManager({
        sessionId: 'window-1',
        client: t.client,
        databaseName: t.databaseName,
      }),
    })
    const restoredStock = testAgent({ sessionManager: new SessionManager({ sessionId: 'window-1', storage }) })
    await restoredOurs.initialize()
    await restoredStock.initialize()
    expect(restoredOurs.messages.length).toBeGreaterThan(0)
    expect(shape(restoredOurs)).toEqual(shape(restoredStock))
    // The SDK saves before it trims: both hold the pre-trim conversation of the last turn.
    expect(restoredOurs.messages.length).toBeGreaterThanOrEqual(ours.messages.length)
    // The full transcript is still in MongoDB: 13 turns × 2 messages.
    expect(await t.db.collection('messages').countDocuments({ session_id: 'window-1' })).toBe(26)
  })

  it('removes trimmed messages when retainTrimmedMessages is false', async () => {
    const agent = testAgent({
      sessionManager: new MongoDBSessionManager({
        sessionId: 'window-2',
        client: t.client,
        databaseName: t.databaseName,
        retainTrimmedMessages: false,
      }),
      conversationManager: new SlidingWindowConversationManager({ windowSize: 6 }),
    })
    for (let i = 0; i < 8; i++) await agent.invoke(`turn ${i}`)
    const stored = await t.db.collection('sessions').findOne({ _id: 'window-2' as never })
    const active = (Object.values(stored?.agents ?? {})[0] as { message_count: number }).message_count
    // Only the conversation as last saved remains (the SDK saves before trimming).
    expect(await t.db.collection('messages').countDocuments({ session_id: 'window-2' })).toBe(active)
    expect(active).toBeLessThan(16)
  })
})
