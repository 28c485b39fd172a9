/**
 * Property: whatever sequence of appends, trims, replacements, insertions, removals and redactions
 * the conversation goes through, restoring after any save gives back exactly what was saved — and
 * each save writes only the messages that changed.
 */
import { Agent, Message, NullConversationManager } from '@strands-agents/sdk'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MongoDBSessionManager } from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { conversationOf } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_prop')
})
afterAll(async () => {
  await t.cleanup()
})

const jsonKey = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('$set', 'a.b', '__proto__', '%a', '', 'constructor', '\u0000'),
)
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(jsonKey, tie('value'), { maxKeys: 3 }),
  ),
})).value

const messageData = fc.oneof(
  fc
    .record({ role: fc.constantFrom('user', 'assistant'), text: fc.string({ maxLength: 40 }) })
    .map(({ role, text }) => ({
      role,
      content: [{ text }],
    })),
  fc
    .record({ name: fc.constantFrom('lookup', 'search_db'), input: fc.dictionary(jsonKey, jsonValue, { maxKeys: 4 }) })
    .map(({ name, input }) => ({
      role: 'assistant',
      content: [{ text: 'calling' }, { toolUse: { name, toolUseId: `tu-${name}`, input } }],
      metadata: { usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 } },
    })),
  fc.record({ json: jsonValue }).map(({ json }) => ({
    role: 'user',
    content: [{ toolResult: { toolUseId: 'tu-x', status: 'success', content: [{ json }] } }],
  })),
)

type Edit =
  | { kind: 'append'; messages: unknown[] }
  | { kind: 'trimFront'; count: number }
  | { kind: 'replace'; at: number; message: unknown; keepTrackingId: boolean }
  | { kind: 'insert'; at: number; message: unknown }
  | { kind: 'remove'; at: number }
  | { kind: 'redactLastUser' }
  | { kind: 'save' }

const edit: fc.Arbitrary<Edit> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(messageData, { minLength: 1, maxLength: 4 })
      .map((messages) => ({ kind: 'append' as const, messages })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((count) => ({ kind: 'trimFront' as const, count })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ at: fc.nat(), message: messageData, keepTrackingId: fc.boolean() })
      .map((r) => ({ kind: 'replace' as const, ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ at: fc.nat(), message: messageData }).map((r) => ({ kind: 'insert' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'remove' as const, at })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'redactLastUser' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'save' as const }) },
)

function apply(messages: Message[], e: Edit): void {
  switch (e.kind) {
    case 'append':
      for (const m of e.messages) messages.push(Message.fromJSON(m as never))
      return
    case 'trimFront':
      messages.splice(0, e.count)
      return
    case 'replace':
      if (messages.length === 0) return
      {
        const at = e.at % messages.length
        const data = e.message as Record<string, unknown>
        messages[at] = Message.fromJSON({
          ...data,
          ...(e.keepTrackingId && { trackingId: messages[at]!.trackingId }),
        } as never)
      }
      return
    case 'insert':
      messages.splice(e.at % (messages.length + 1), 0, Message.fromJSON(e.message as never))
      return
    case 'remove':
      if (messages.length > 0) messages.splice(e.at % messages.length, 1)
      return
    case 'redactLastUser': {
      const index = messages.findLastIndex((m) => m.role === 'user')
      if (index >= 0) {
        messages[index] = Message.fromJSON({
          role: 'user',
          content: [{ text: '[User input redacted.]' }],
          trackingId: messages[index]!.trackingId,
        } as never)
      }
      return
    }
    case 'save':
      return
  }
}

let run = 0

describe('any sequence of conversation edits', () => {
  it('restores exactly what each save saw, writing only changed messages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 12 }), async (edits) => {
        const sessionId = `prop-${run++}`
        const sm = new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName })
        const agent = new Agent({
          model: new ScriptedModel([{ text: 'unused' }]),
          conversationManager: new NullConversationManager(),
          sessionManager: sm,
          printer: false,
        })
        await agent.initialize()
        let previous: Message[] = []
        for (const e of [...edits, { kind: 'save' } as Edit]) {
          apply(agent.messages, e)
          if (e.kind !== 'save') continue
          const before = await t.db.collection('messages').countDocuments({ session_id: sessionId })
          await sm.saveSnapshot({ target: agent, isLatest: true })
          const after = await t.db.collection('messages').countDocuments({ session_id: sessionId })
          const unchanged = agent.messages.filter((m) => previous.includes(m)).length
          // New documents are exactly the messages that are not unchanged ones (history is kept).
          expect(after - before).toBeLessThanOrEqual(agent.messages.length - unchanged)
          previous = agent.messages.slice()

          const probe = new Agent({
            model: new ScriptedModel([{ text: 'unused' }]),
            sessionManager: new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName }),
            printer: false,
          })
          await probe.initialize()
          expect(conversationOf(probe)).toEqual(conversationOf(agent))
        }
      }),
      { numRuns: 40 },
    )
  })
})
