/**
 * How messages are stored, read with the driver from the real test server: every byte-carrying
 * block is BSON Binary (not a base64 string), text is stored exactly (NUL and lone surrogates
 * included), and a restore gives back what was saved.
 */
import { Agent, Message } from '@strands-agents/sdk'
import fc from 'fast-check'
import { Binary, type Document } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MongoDBSessionManager } from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { conversationOf } from '../support/agents.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_codec')
})
afterAll(async () => {
  await t.cleanup()
})

/** Distinct bytes per block, so a mix-up between blocks shows. */
const bytes = (tag: number) => new Uint8Array([tag, 0, 255, 0x89, 0x50, tag ^ 0xff])
const b64 = (tag: number) => Buffer.from(bytes(tag)).toString('base64')

const messages = () => [
  Message.fromJSON({
    role: 'user',
    content: [
      { image: { format: 'png', source: { bytes: b64(1) } } },
      { document: { format: 'pdf', name: 'invoice', source: { bytes: b64(2) } } },
      { video: { format: 'mp4', source: { bytes: b64(3) } } },
      { audio: { format: 'wav', source: { bytes: b64(4) } } },
      { guardContent: { image: { format: 'png', source: { bytes: b64(5) } } } },
      { guardContent: { text: { text: 'check me', qualifiers: ['guard_content'] } } },
    ],
  } as never),
  Message.fromJSON({
    role: 'assistant',
    content: [
      { reasoning: { text: 'thinking', signature: 'sig' } },
      { reasoning: { redactedContent: b64(6) } },
      { toolUse: { name: 'render', toolUseId: 'tu-1', input: { page: 1 } } },
    ],
  } as never),
  Message.fromJSON({
    role: 'user',
    content: [
      {
        toolResult: {
          toolUseId: 'tu-1',
          status: 'success',
          content: [
            { image: { format: 'jpeg', source: { bytes: b64(7) } } },
            { document: { format: 'txt', name: 'log', source: { bytes: b64(8) } } },
            { video: { format: 'webm', source: { bytes: b64(9) } } },
            { text: 'rendered' },
          ],
        },
      },
    ],
  } as never),
  Message.fromJSON({
    role: 'assistant',
    content: [
      // An emoji cut in half, a lone low surrogate, NUL and a well-formed pair: all kept as they are.
      { text: 'cut \ud83d| low \udc00| nul \u0000| pair \ud83d\ude00' },
      { toolUse: { name: 'echo', toolUseId: 'tu-2', input: { 'key\ud800': ['v\udfff', { '\u0000': 'x\u0000' }] } } },
    ],
  } as never),
]

/** The value at `path` (keys and array indexes) of a raw document. */
function at(doc: Document, path: (string | number)[]): unknown {
  return path.reduce<unknown>((value, key) => (value as Record<string | number, unknown>)[key], doc)
}

describe('stored message documents', () => {
  it('every byte-carrying block is BSON Binary holding the original bytes, and the restore is exact', async () => {
    const sessionId = 'codec-bytes'
    const manager = new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName })
    const agent = new Agent({
      model: new ScriptedModel([]),
      messages: messages(),
      sessionManager: manager,
      printer: false,
    })
    await agent.initialize()
    await manager.saveSnapshot({ target: agent, isLatest: true })

    const docs = await t.db.collection('messages').find({ session_id: sessionId }).sort({ seq: 1 }).toArray()
    expect(docs).toHaveLength(4)
    const expected: [number, (string | number)[], number][] = [
      [0, ['content', 0, 'image', 'source', 'bytes'], 1],
      [0, ['content', 1, 'document', 'source', 'bytes'], 2],
      [0, ['content', 2, 'video', 'source', 'bytes'], 3],
      [0, ['content', 3, 'audio', 'source', 'bytes'], 4],
      [0, ['content', 4, 'guardContent', 'image', 'source', 'bytes'], 5],
      [1, ['content', 1, 'reasoning', 'redactedContent'], 6],
      [2, ['content', 0, 'toolResult', 'content', 0, 'image', 'source', 'bytes'], 7],
      [2, ['content', 0, 'toolResult', 'content', 1, 'document', 'source', 'bytes'], 8],
      [2, ['content', 0, 'toolResult', 'content', 2, 'video', 'source', 'bytes'], 9],
    ]
    for (const [seq, path, tag] of expected) {
      const stored = at(docs[seq]!, path)
      expect(stored, path.join('.')).toBeInstanceOf(Binary)
      expect(Buffer.from((stored as Binary).buffer)).toEqual(Buffer.from(bytes(tag)))
    }
    // Text blocks stay strings.
    expect(at(docs[0]!, ['content', 5, 'guardContent', 'text', 'text'])).toBe('check me')
    expect(at(docs[2]!, ['content', 0, 'toolResult', 'content', 3, 'text'])).toBe('rendered')

    const restored = new Agent({
      model: new ScriptedModel([]),
      sessionManager: new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName }),
      printer: false,
    })
    await restored.initialize()
    expect(conversationOf(restored)).toEqual(conversationOf(agent))
  })

  it('text with lone surrogates and NUL is stored so that it reads back exactly', async () => {
    const sessionId = 'codec-text'
    const manager = new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName })
    const agent = new Agent({
      model: new ScriptedModel([]),
      messages: messages(),
      sessionManager: manager,
      printer: false,
    })
    await agent.initialize()
    await manager.saveSnapshot({ target: agent, isLatest: true })

    const raw = await t.db.collection('messages').findOne({ session_id: sessionId, seq: 3 })
    // A string with a lone surrogate is kept as JSON text (escaped), never as UTF-8 with U+FFFD.
    expect(JSON.stringify(raw)).not.toContain('\ufffd')

    const restored = new Agent({
      model: new ScriptedModel([]),
      sessionManager: new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName }),
      printer: false,
    })
    await restored.initialize()
    const last = restored.messages[3]!.toJSON()
    expect(last.content[0]).toEqual({ text: 'cut \ud83d| low \udc00| nul \u0000| pair \ud83d\ude00' })
    expect(last.content[1]).toMatchObject({ toolUse: { input: { 'key\ud800': ['v\udfff', { '\u0000': 'x\u0000' }] } } })
    expect(conversationOf(restored)).toEqual(conversationOf(agent))
  })
})

/** Any UTF-16 code unit: NUL, lone surrogates and halves of pairs included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: codeUnit, maxLength: 8 }),
  fc.constantFrom('$set', 'a.b', '__proto__', 'constructor', '%a', '%j', '%uD800', '', '\u0000', '\ud800'),
)
/** An object with exactly these own keys ("__proto__" as an own key, not the prototype). */
const ownRecord = (entries: [string, unknown][]) => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.array(fc.tuple(text, tie('v')), { maxLength: 3 }).map(ownRecord),
  ),
})).v
/** Past the depth kept as native BSON (40), in arrays of arrays and objects. */
const deep = fc
  .tuple(json, fc.integer({ min: 35, max: 60 }))
  .map(([leaf, depth]) => Array.from({ length: depth }).reduce<unknown>((v, _, i) => (i % 2 ? [v] : { d: v }), leaf))

describe('stored message documents (property)', () => {
  it('any text and any tool input read back exactly', async () => {
    let round = 0
    await fc.assert(
      fc.asyncProperty(text, fc.oneof(json, deep), async (said, input) => {
        const sessionId = `codec-property-${++round}`
        const manager = new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName })
        const agent = new Agent({
          model: new ScriptedModel([]),
          messages: [
            Message.fromJSON({ role: 'user', content: [{ text: said }] } as never),
            Message.fromJSON({
              role: 'assistant',
              content: [{ toolUse: { name: 'tool', toolUseId: 'tu', input: ownRecord([['input', input]]) } }],
            } as never),
          ],
          sessionManager: manager,
          printer: false,
        })
        await agent.initialize()
        await manager.saveSnapshot({ target: agent, isLatest: true })
        const restored = new Agent({
          model: new ScriptedModel([]),
          sessionManager: new MongoDBSessionManager({ sessionId, client: t.client, databaseName: t.databaseName }),
          printer: false,
        })
        await restored.initialize()
        expect(conversationOf(restored)).toEqual(conversationOf(agent))
        expect((restored.messages[0]!.toJSON().content[0] as { text: string }).text).toBe(said)
      }),
      { numRuns: 40 },
    )
  })
})
