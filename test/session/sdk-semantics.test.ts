/**
 * MongoDBSessionManager changes how the SDK stores, never what it means: these tests hold the
 * subclass to the SDK SessionManager's behaviour over a real Agent and the real test server.
 */
import { Agent, Graph, Message, NullConversationManager, Swarm } from '@strands-agents/sdk'
import { MultiAgentState } from '@strands-agents/sdk/multiagent'
import { Binary } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DocumentTooLargeError,
  MongoDBSessionManager,
  ValidationError,
  type MongoDBSessionManagerOptions,
} from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_semantics')
})
afterAll(async () => {
  await t.cleanup()
})

function manager(sessionId: string, extra: Partial<MongoDBSessionManagerOptions> = {}) {
  return new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName, ...extra })
}

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255, 254])
const pdf = new Uint8Array(Buffer.from('%PDF-1.7 fake document bytes'))

/** A conversation using every kind of content the SDK serialises. */
function richMessages(): Message[] {
  return [
    Message.fromJSON({
      role: 'user',
      content: [
        { text: 'Look at this image and document' },
        { image: { format: 'png', source: { bytes: Buffer.from(png).toString('base64') } } },
        { document: { format: 'pdf', name: 'invoice', source: { bytes: Buffer.from(pdf).toString('base64') } } },
      ],
    } as never),
    Message.fromJSON({
      role: 'assistant',
      content: [
        { reasoning: { text: 'The user wants a summary.', signature: 'sig-1' } },
        {
          toolUse: {
            name: 'lookup_order',
            toolUseId: 'tu-1',
            input: { 'weird.key': 1, $op: [[1, 2], 'x\u0000y'], nested: { a: null } },
          },
        },
      ],
      metadata: {
        usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
        metrics: { latencyMs: 42 },
        custom: { k: 'v' },
      },
    } as never),
    Message.fromJSON({
      role: 'user',
      content: [
        {
          toolResult: {
            toolUseId: 'tu-1',
            status: 'success',
            content: [{ json: { status: 'shipped', list: [1, 'two', { three: 3 }] } }, { text: 'done' }],
          },
        },
      ],
    } as never),
    Message.fromJSON({ role: 'assistant', content: [{ text: 'Here is the summary. 日本語 ✓' }] } as never),
  ]
}

describe('restore gives back exactly what was saved', () => {
  it('round-trips every content kind, trackingIds, metadata and the agent state', async () => {
    const agent = new Agent({
      model: new ScriptedModel([{ text: 'ok' }]),
      messages: richMessages(),
      systemPrompt: 'Be brief.',
      appState: { customer: { id: 'c-1', tags: ['vip'] } },
      modelState: { responseId: 'resp-9' },
      sessionManager: manager('rich-1'),
      printer: false,
    })
    await agent.initialize()
    await agent.sessionManager!.saveSnapshot({ target: agent, isLatest: true })
    const saved = conversationOf(agent)

    const restored = new Agent({
      model: new ScriptedModel([{ text: 'ok' }]),
      sessionManager: manager('rich-1'),
      printer: false,
    })
    await restored.initialize()
    expect(conversationOf(restored)).toEqual(saved)
    expect(restored.messages.map((m) => m.trackingId)).toEqual(agent.messages.map((m) => m.trackingId))
    expect(restored.appState.get('customer')).toEqual({ id: 'c-1', tags: ['vip'] })
    expect(restored.modelState.get('responseId')).toBe('resp-9')
    expect(restored.systemPrompt).toBe('Be brief.')
    // Interrupt state (human-in-the-loop) comes back as the SDK captured it.
    expect(restored.takeSnapshot({ include: ['interrupts'] }).data).toEqual(
      agent.takeSnapshot({ include: ['interrupts'] }).data,
    )

    // Media bytes are BSON Binary in MongoDB, and user JSON keys are escaped, not interpreted.
    const first = await t.db.collection('messages').findOne({ session_id: 'rich-1', seq: 0 })
    const image = first?.content?.[1]?.image?.source?.bytes
    expect(image).toBeInstanceOf(Binary)
    expect(Buffer.from((image as Binary).buffer)).toEqual(Buffer.from(png))
    const second = await t.db.collection('messages').findOne({ session_id: 'rich-1', seq: 1 })
    expect(Object.keys(second?.content?.[1]?.toolUse?.input ?? {})).toEqual(['weird%2Ekey', '%24op', 'nested'])
  })

  it('clears the system prompt when the saved agent had none', async () => {
    const agent = testAgent({ sessionManager: manager('noprompt-1') })
    await agent.invoke('hi')
    const restored = testAgent({ sessionManager: manager('noprompt-1'), systemPrompt: 'stale prompt' })
    await restored.initialize()
    expect(restored.systemPrompt).toBeUndefined()
  })
})

describe('stateful models', () => {
  it('discard restored messages (the provider keeps the conversation) but keep the rest of the state', async () => {
    const agent = testAgent({ sessionManager: manager('stateful-1') })
    agent.appState.set('ticket', 'T-1')
    await agent.invoke('hello')
    class StatefulModel extends ScriptedModel {
      override get stateful(): boolean {
        return true
      }
    }
    const restored = new Agent({
      model: new StatefulModel([{ text: 'ok' }]),
      sessionManager: manager('stateful-1'),
      printer: false,
    })
    await restored.initialize()
    expect(restored.messages).toHaveLength(0)
    expect(restored.appState.get('ticket')).toBe('T-1')
  })
})

describe('saveLatestOn', () => {
  it("'message' saves after every message, so a failed model call keeps the partial turn", async () => {
    const failing = new ScriptedModel([{ text: 'first answer' }, { error: new Error('model exploded') }])
    const agent = new Agent({
      model: failing,
      sessionManager: manager('msg-mode-1', { saveLatestOn: 'message' }),
      conversationManager: new NullConversationManager(),
      printer: false,
    })
    await agent.invoke('one')
    await expect(agent.invoke('two')).rejects.toThrow('model exploded')
    const restored = testAgent({ sessionManager: manager('msg-mode-1') })
    await restored.initialize()
    expect(conversationOf(restored).map((m) => (m as { role: string }).role)).toEqual(['user', 'assistant', 'user'])
  })

  it("'invocation' keeps the partial turn too: the save runs when the invocation ends, even by an error", async () => {
    const agent = new Agent({
      model: new ScriptedModel([{ error: new Error('throttled') }]),
      sessionManager: manager('inv-mode-1'),
      printer: false,
    })
    await expect(agent.invoke('please answer')).rejects.toThrow('throttled')
    const restored = testAgent({ sessionManager: manager('inv-mode-1') })
    await restored.initialize()
    expect(conversationOf(restored)).toEqual(conversationOf(agent))
    expect(restored.messages).toHaveLength(1)
  })

  it("'trigger' makes no automatic save; snapshotTrigger writes immutable history and latest", async () => {
    let turn = 0
    const sm = manager('trigger-1', { saveLatestOn: 'trigger', snapshotTrigger: () => ++turn % 2 === 0 })
    const agent = testAgent({ sessionManager: sm })
    await agent.invoke('one') // trigger false: nothing saved
    expect(await t.db.collection('messages').countDocuments({ session_id: 'trigger-1' })).toBe(0)
    await agent.invoke('two') // trigger true
    await agent.invoke('three')
    await agent.invoke('four') // trigger true
    const ids = await sm.listSnapshotIds({ target: agent })
    expect(ids).toHaveLength(2)
    expect([...ids].sort()).toEqual(ids)
    expect(await sm.listSnapshotIds({ target: agent, limit: 1 })).toEqual([ids[0]])
    expect(await sm.listSnapshotIds({ target: agent, startAfter: ids[0]! })).toEqual([ids[1]])

    const fresh = testAgent({ sessionManager: manager('trigger-1') })
    await fresh.initialize()
    expect(fresh.messages).toHaveLength(8) // latest = after turn four
    expect(await fresh.sessionManager!.restoreSnapshot({ target: fresh, snapshotId: ids[0]! })).toBe(true)
    expect(conversationOf(fresh)).toHaveLength(4) // history = after turn two
  })

  it('saveSnapshot({ isLatest: false }) adds an immutable snapshot that later saves do not change', async () => {
    const sm = manager('immutable-1')
    const agent = testAgent({ sessionManager: sm })
    await agent.invoke('one')
    await sm.saveSnapshot({ target: agent, isLatest: false })
    const atSnapshot = conversationOf(agent)
    await agent.invoke('two')
    const [id] = await sm.listSnapshotIds({ target: agent })
    const probe = testAgent({ sessionManager: manager('immutable-1') })
    await probe.initialize()
    expect(probe.messages).toHaveLength(4)
    await probe.sessionManager!.restoreSnapshot({ target: probe, snapshotId: id! })
    expect(conversationOf(probe)).toEqual(atSnapshot)
    await expect(sm.restoreSnapshot({ target: agent, snapshotId: 'not-a-uuid' })).rejects.toBeInstanceOf(
      ValidationError,
    )
  })
})

describe('guardrail redaction', () => {
  it('stores the redacted user message and leaves no copy of the original text', async () => {
    const model = new ScriptedModel([{ text: 'fine' }, { text: '', redactInput: '[User input redacted.]' }])
    const agent = new Agent({
      model,
      sessionManager: manager('redact-1', { saveLatestOn: 'message' }),
      conversationManager: new NullConversationManager(),
      printer: false,
    })
    await agent.invoke('hello')
    // A marker that random ids (hex UUIDs) can never contain.
    await agent.invoke('my card number is PAN-QWERTY 4111 1111 1111 1111')
    const docs = await t.db.collection('messages').find({ session_id: 'redact-1' }).toArray()
    expect(JSON.stringify(docs)).not.toContain('PAN-QWERTY')
    const restored = testAgent({ sessionManager: manager('redact-1') })
    await restored.initialize()
    expect(conversationOf(restored)).toEqual(conversationOf(agent))
    expect(JSON.stringify(conversationOf(restored))).toContain('[User input redacted.]')
  })
})

describe('multi-agent orchestrators', () => {
  it('persists and restores Graph state', async () => {
    const worker = new Agent({ id: 'worker', model: new ScriptedModel([{ text: 'worked' }]), printer: false })
    const reviewer = new Agent({ id: 'reviewer', model: new ScriptedModel([{ text: 'reviewed' }]), printer: false })
    const graph = new Graph({
      id: 'pipeline',
      nodes: [worker, reviewer],
      edges: [['worker', 'reviewer']],
      sessionManager: manager('graph-1'),
    })
    await graph.invoke('do it')
    const stored = await t.db.collection('snapshots').findOne({ session_id: 'graph-1', scope: 'multiAgent' })
    expect(stored?.scope_id).toBe('pipeline')
    expect(JSON.stringify(stored?.data)).toContain('worker')

    const worker2 = new Agent({ id: 'worker', model: new ScriptedModel([{ text: 'worked' }]), printer: false })
    const reviewer2 = new Agent({ id: 'reviewer', model: new ScriptedModel([{ text: 'reviewed' }]), printer: false })
    const graph2 = new Graph({ id: 'pipeline', nodes: [worker2, reviewer2], edges: [['worker', 'reviewer']] })
    const sm = manager('graph-1')
    const state = new MultiAgentState()
    expect(await sm.restoreSnapshot({ target: graph2, state })).toBe(true)
    const storedState = (stored?.data as { state: { steps: number; results: unknown[] } }).state
    expect(state.steps).toBe(storedState.steps)
    expect(state.results).toHaveLength(storedState.results.length)
    expect(state.results.map((r) => r.nodeId)).toEqual(['worker', 'reviewer'])
    // Saving the restored state writes the same document back.
    await sm.saveSnapshot({ target: graph2, state, isLatest: true })
    const again = await t.db.collection('snapshots').findOne({ session_id: 'graph-1', scope: 'multiAgent' })
    expect(again?.data).toEqual(stored?.data)
  })
})

describe('multi-agent orchestrators (Swarm)', () => {
  it('persists Swarm state and restores it', async () => {
    const make = () => [
      new Agent({
        id: 'triage',
        name: 'triage',
        description: 'Triage',
        model: new ScriptedModel([{ text: 'handled' }]),
        printer: false,
      }),
      new Agent({
        id: 'billing',
        name: 'billing',
        description: 'Billing',
        model: new ScriptedModel([{ text: 'billed' }]),
        printer: false,
      }),
    ]
    const swarm = new Swarm({ id: 'helpdesk', nodes: make(), start: 'triage', sessionManager: manager('swarm-1') })
    await swarm.invoke('I was charged twice')
    const stored = await t.db.collection('snapshots').findOne({ session_id: 'swarm-1', scope: 'multiAgent' })
    expect(stored?.scope_id).toBe('helpdesk')
    const state = new MultiAgentState()
    const again = new Swarm({ id: 'helpdesk', nodes: make(), start: 'triage' })
    expect(await manager('swarm-1').restoreSnapshot({ target: again, state })).toBe(true)
    const storedState = (stored?.data as { state: { results: unknown[] } }).state
    expect(state.results).toHaveLength(storedState.results.length)
    expect(state.results.map((r) => r.nodeId)).toContain('triage')
  })
})

describe('deleteSession', () => {
  it('removes the session from every collection with bulk deletes', async () => {
    const sm = manager('delete-1', { snapshotTrigger: () => true })
    const agent = testAgent({ sessionManager: sm })
    await agent.invoke('one')
    await agent.invoke('where is my order?')
    expect(await t.db.collection('messages').countDocuments({ session_id: 'delete-1' })).toBeGreaterThan(0)
    const deletes: string[] = []
    const watcher = await t.newClient({ monitorCommands: true })
    watcher.on('commandStarted', (event) => {
      if (event.commandName === 'delete') deletes.push(String(event.command.delete))
    })
    const watched = new MongoDBSessionManager({ sessionId: 'delete-1', client: watcher, databaseName: t.databaseName })
    const counts = await watched.deleteSessionData()
    expect(counts.sessions).toBe(1)
    expect(counts.messages).toBe(6) // 'one' → 2 messages; the order question → 4 (tool use + result)
    expect(counts.snapshots).toBe(2)
    for (const name of [
      'sessions',
      'messages',
      'snapshots',
      'snapshot_chunks',
      'feedback',
      'guardrail_events',
      'storage',
    ]) {
      expect(
        await t.db.collection(name).countDocuments({ $or: [{ session_id: 'delete-1' }, { _id: 'delete-1' as never }] }),
      ).toBe(0)
    }
    // One delete command per collection, however many documents.
    expect(deletes.length).toBeLessThanOrEqual(7)
    const again = testAgent({ sessionManager: manager('delete-1') })
    await again.initialize()
    expect(again.messages).toHaveLength(0)
  })
})

describe('limits and validation', () => {
  it('rejects a message larger than the server allows, writing nothing', async () => {
    const agent = testAgent({ sessionManager: manager('big-1') })
    await agent.invoke('small')
    const before = await t.db.collection('messages').countDocuments({ session_id: 'big-1' })
    const sessionBefore = await t.db.collection('sessions').findOne({ _id: 'big-1' as never })
    agent.messages.push(new Message({ role: 'user', content: [] }))
    agent.messages.push(Message.fromJSON({ role: 'user', content: [{ text: 'x'.repeat(17 * 1024 * 1024) }] } as never))
    const error = await agent.sessionManager!.saveSnapshot({ target: agent, isLatest: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DocumentTooLargeError)
    expect((error as DocumentTooLargeError).code).toBe('MSM_DOCUMENT_TOO_LARGE')
    expect(await t.db.collection('messages').countDocuments({ session_id: 'big-1' })).toBe(before)
    expect(await t.db.collection('sessions').findOne({ _id: 'big-1' as never })).toEqual(sessionBefore)
  })

  it('rejects invalid session ids before any write, and invalid agent ids at the first save', async () => {
    for (const sessionId of ['Upper', 'a.b', '$where', 'a b', '', 'x'.repeat(200)]) {
      expect(() => manager(sessionId)).toThrow(ValidationError)
    }
    const agent = testAgent({ sessionManager: manager('agent-id-1'), id: 'Bad.Agent' })
    const error = await agent.invoke('hi').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect(String(error)).toMatch(/Bad\.Agent/)
    expect(await t.db.collection('messages').countDocuments({ session_id: 'agent-id-1' })).toBe(0)
  })
})
