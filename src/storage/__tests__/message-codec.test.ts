import { Message } from '@strands-agents/sdk'
import { Binary, BSON } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, messageDocumentId } from '../message-codec.js'

const at = { sessionId: 's-1', agentId: 'a-1', seq: 7 }
const now = new Date('2026-11-30T10:00:00.000Z')
const bytes = Buffer.from([0, 1, 2, 250, 251, 255])
const b64 = bytes.toString('base64')

/** Through BSON and back, as the driver would store and read the document. */
const viaBson = <T>(doc: T): T => BSON.deserialize(BSON.serialize(doc as never)) as T

describe('encodeMessage / decodeMessage', () => {
  it('builds the document: deterministic id, location, role, tracking id, op id, time', () => {
    const message = Message.fromJSON({ role: 'user', content: [{ text: 'hi' }] } as never)
    const doc = encodeMessage(message, at, 'op-1', now)
    expect(messageDocumentId(at)).toBe('s-1:a-1:7')
    expect(doc).toMatchObject({
      _id: 's-1:a-1:7',
      session_id: 's-1',
      agent_id: 'a-1',
      seq: 7,
      role: 'user',
      content: [{ text: 'hi' }],
      op_id: 'op-1',
      created_at: now,
    })
    expect(doc.tracking_id).toBe(message.toJSON().trackingId ?? null)
    expect('metadata' in doc).toBe(false)
    expect(decodeMessage(viaBson(doc))).toEqual(message.toJSON())
  })

  it('keeps message metadata (escaped like user JSON) and no tracking id when there is none', () => {
    const data = { role: 'assistant', content: [{ text: 'ok' }], metadata: { custom: { 'a.b': 1, $x: [[1]] } } }
    const message = Message.fromJSON(data as never)
    const doc = encodeMessage(message, at, 'op', now)
    expect(doc.metadata).toEqual({ custom: { 'a%2Eb': 1, '%24x': [{ '%a': [1] }] } })
    expect(decodeMessage(viaBson(doc))).toEqual(message.toJSON())
    const stored = { role: 'user', content: [{ text: 'x' }], tracking_id: null }
    expect(decodeMessage(stored as never)).toStrictEqual({ role: 'user', content: [{ text: 'x' }] })
    expect(decodeMessage({ ...stored, tracking_id: undefined } as never)).toStrictEqual({
      role: 'user',
      content: [{ text: 'x' }],
    })
    expect(decodeMessage({ ...stored, tracking_id: 't-9' } as never)).toStrictEqual({
      role: 'user',
      content: [{ text: 'x' }],
      trackingId: 't-9',
    })
  })

  it('turns base64 bytes into Binary only where the SDK puts bytes; other sources stay as they are', () => {
    const message = Message.fromJSON({
      role: 'user',
      content: [
        { image: { format: 'png', source: { location: { type: 's3', uri: 's3://bucket/key.png' } } } },
        { image: { format: 'png', source: { url: 'https://example.com/a.png' } } },
        { document: { format: 'txt', name: 'n', source: { text: 'inline text, not bytes' } } },
        { text: b64 },
        { toolResult: { toolUseId: 't', status: 'success', content: [{ text: b64 }, { json: { bytes: b64 } }] } },
        { guardContent: { text: { text: b64, qualifiers: ['query'] } } },
        { reasoning: { text: b64 } },
      ],
    } as never)
    const doc = encodeMessage(message, at, 'op', now)
    const json = message.toJSON() as unknown as { content: unknown[] }
    // Nothing here carries bytes: the stored content is the SDK's JSON as it is.
    expect(doc.content).toEqual(json.content)
    expect(decodeMessage(viaBson(doc))).toEqual(message.toJSON())
  })

  it('stores every byte-carrying block as Binary and gives back base64', () => {
    const message = Message.fromJSON({
      role: 'user',
      content: [
        { video: { format: 'mp4', source: { bytes: b64 } } },
        { reasoning: { redactedContent: b64 } },
        { guardContent: { image: { format: 'jpeg', source: { bytes: b64 } } } },
        {
          toolResult: {
            toolUseId: 't',
            status: 'error',
            content: [{ document: { format: 'pdf', name: 'd', source: { bytes: b64 } } }],
          },
        },
      ],
    } as never)
    const doc = viaBson(encodeMessage(message, at, 'op', now))
    /** The value at a path of keys and indexes in the stored content. */
    const storedAt = (...path: (string | number)[]) =>
      path.reduce<unknown>((value, key) => (value as Record<string | number, unknown>)[key], doc.content)
    for (const stored of [
      storedAt(0, 'video', 'source', 'bytes'),
      storedAt(1, 'reasoning', 'redactedContent'),
      storedAt(2, 'guardContent', 'image', 'source', 'bytes'),
      storedAt(3, 'toolResult', 'content', 0, 'document', 'source', 'bytes'),
    ]) {
      expect(stored).toBeInstanceOf(Binary)
      expect(Buffer.from((stored as Binary).buffer)).toEqual(bytes)
    }
    expect(storedAt(3, 'toolResult', 'status')).toBe('error')
    expect(decodeMessage(doc)).toEqual(message.toJSON())
  })
})
