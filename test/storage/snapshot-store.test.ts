/**
 * Whole snapshots on the real test server: chunking of messages, the header as commit point,
 * size limits checked before anything is written, listing and deletion.
 */
import type { Snapshot, SnapshotLocation } from '@strands-agents/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DocumentTooLargeError, ValidationError } from '../../src/errors.js'
import { CHUNK_BYTES, MongoSnapshotStorage, snapshotKey } from '../../src/storage/snapshot-store.js'
import { uuidv7 } from '../../src/model/ids.js'
import { openFeaturesDatabase, type FeaturesTestContext } from '../features/support.js'

let ctx: FeaturesTestContext
const MIB = 1024 * 1024
beforeAll(async () => {
  ctx = await openFeaturesDatabase('msm_snapshots')
})
afterAll(async () => {
  await ctx.db.cleanup()
})

const storage = (limit = 16 * MIB) => new MongoSnapshotStorage(ctx.collections, async () => limit)
const at = (sessionId: string): SnapshotLocation => ({ sessionId, scope: 'agent', scopeId: 'agent' })
const text = (bytes: number, fill = 'x') => fill.repeat(bytes)

function snapshot(messages: unknown[] | undefined, extra: Record<string, unknown> = {}): Snapshot {
  return {
    scope: 'agent',
    schemaVersion: '1.0',
    createdAt: '2026-11-30T10:00:00.000Z',
    data: { ...(messages && { messages }), state: { 'k.$': 'v' }, ...extra },
    appData: { app: ['a', ['b']] },
  } as unknown as Snapshot
}

const message = (fill: string, bytes: number) => ({ role: 'user', content: [{ text: text(bytes, fill) }] })

async function chunksOf(key: string) {
  return ctx.collections.snapshotChunks.find({ snapshot_key: key }).sort({ index: 1 }).toArray()
}

describe('MongoSnapshotStorage', () => {
  it('splits messages into chunks of at most CHUNK_BYTES and restores them in order', async () => {
    const location = at('snap-chunks')
    const id = uuidv7()
    const third = Math.floor(CHUNK_BYTES / 3)
    // Three of a third each fill a chunk within a few bytes of overhead: the fourth starts a new one.
    const messages = ['a', 'b', 'c', 'd', 'e'].map((fill) => message(fill, third - 200))
    const saved = snapshot(messages)
    await storage().saveSnapshot({ location, snapshotId: id, isLatest: false, snapshot: saved })
    const chunks = await chunksOf(snapshotKey(location, id))
    expect(chunks.map((c) => c.messages.length)).toEqual([3, 2])
    expect(chunks.map((c) => c.index)).toEqual([0, 1])
    const header = await ctx.collections.snapshots.findOne({ _id: snapshotKey(location, id) })
    expect(header).toMatchObject({ message_count: 5, chunk_count: 2, has_messages: true, snapshot_id: id })
    expect(await storage().loadSnapshot({ location, snapshotId: id })).toEqual(saved)
  })

  it("a shorter 'latest' replaces the previous one and leaves no stale chunk behind", async () => {
    const location = at('snap-latest')
    const big = snapshot(['a', 'b', 'c', 'd'].map((fill) => message(fill, Math.floor(CHUNK_BYTES / 2))))
    await storage().saveSnapshot({ location, snapshotId: 'ignored', isLatest: true, snapshot: big })
    expect((await chunksOf(snapshotKey(location, 'latest'))).length).toBeGreaterThan(1)
    const small = snapshot([message('z', 10)])
    await storage().saveSnapshot({ location, snapshotId: 'ignored', isLatest: true, snapshot: small })
    expect((await chunksOf(snapshotKey(location, 'latest'))).map((c) => c.messages.length)).toEqual([1])
    expect(await storage().loadSnapshot({ location })).toEqual(small)
  })

  it('a snapshot without messages comes back without them; an empty list comes back empty', async () => {
    const location = at('snap-nomessages')
    const id = uuidv7()
    await storage().saveSnapshot({ location, snapshotId: id, isLatest: false, snapshot: snapshot(undefined) })
    const loaded = await storage().loadSnapshot({ location, snapshotId: id })
    expect(loaded).toEqual(snapshot(undefined))
    expect('messages' in loaded!.data).toBe(false)
    const empty = uuidv7()
    await storage().saveSnapshot({ location, snapshotId: empty, isLatest: false, snapshot: snapshot([]) })
    expect((await storage().loadSnapshot({ location, snapshotId: empty }))!.data.messages).toEqual([])
    expect(await chunksOf(snapshotKey(location, empty))).toEqual([])
    expect(await storage().loadSnapshot({ location, snapshotId: uuidv7() })).toBe(null)
  })

  it('refuses a message or a header over the size limit before writing anything', async () => {
    const location = at('snap-too-large')
    const limit = 64 * 1024
    // A message must leave 16 KiB of the limit free.
    const tooBig = storage(limit).saveSnapshot({
      location,
      snapshotId: uuidv7(),
      isLatest: false,
      snapshot: snapshot([message('a', 10), message('b', limit - 16 * 1024)]),
    })
    await expect(tooBig).rejects.toThrow(DocumentTooLargeError)
    await expect(tooBig).rejects.toThrow(/snapshot message 1/)
    const fits = uuidv7()
    await storage(limit).saveSnapshot({
      location,
      snapshotId: fits,
      isLatest: false,
      snapshot: snapshot([message('a', limit - 16 * 1024 - 200)]),
    })
    const header = storage(limit).saveSnapshot({
      location,
      snapshotId: uuidv7(),
      isLatest: false,
      snapshot: snapshot([message('a', 10)], { systemPrompt: text(limit) }),
    })
    await expect(header).rejects.toThrow(/\(without messages\)/)
    expect(await ctx.collections.snapshots.countDocuments({ session_id: location.sessionId })).toBe(1)
    expect(await ctx.collections.snapshotChunks.countDocuments({ session_id: location.sessionId })).toBe(1)
  })

  it('a snapshot with a missing chunk is reported incomplete, not returned short', async () => {
    const location = at('snap-incomplete')
    const id = uuidv7()
    const messages = ['a', 'b', 'c'].map((fill) => message(fill, Math.floor(CHUNK_BYTES / 2)))
    await storage().saveSnapshot({ location, snapshotId: id, isLatest: false, snapshot: snapshot(messages) })
    await ctx.collections.snapshotChunks.deleteOne({ snapshot_key: snapshotKey(location, id), index: 1 })
    await expect(storage().loadSnapshot({ location, snapshotId: id })).rejects.toThrow(
      `snapshot ${snapshotKey(location, id)} is incomplete: 2 of 3 messages found`,
    )
  })

  it('lists immutable snapshot ids in order, after a given id, up to a limit', async () => {
    const location = at('snap-list')
    const ids = [uuidv7(), uuidv7(), uuidv7()]
    for (const id of ids) {
      await storage().saveSnapshot({ location, snapshotId: id, isLatest: false, snapshot: snapshot([]) })
    }
    await storage().saveSnapshot({ location, snapshotId: 'x', isLatest: true, snapshot: snapshot([]) })
    await storage().saveSnapshot({
      location: { ...location, scopeId: 'other' },
      snapshotId: uuidv7(),
      isLatest: false,
      snapshot: snapshot([]),
    })
    const s = storage()
    expect(await s.listSnapshotIds({ location })).toEqual(ids)
    expect(await s.listSnapshotIds({ location, startAfter: ids[0]! })).toEqual(ids.slice(1))
    expect(await s.listSnapshotIds({ location, limit: 2 })).toEqual(ids.slice(0, 2))
    expect(await s.listSnapshotIds({ location, limit: 0 })).toEqual([])
    for (const limit of [-1, 1.5]) {
      const error = await s.listSnapshotIds({ location, limit }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).field).toBe('limit')
      expect((error as ValidationError).message).toBe(`limit must be a non-negative integer, got ${limit}`)
    }
    await expect(s.listSnapshotIds({ location, startAfter: 'not-a-uuid' })).rejects.toMatchObject({
      field: 'snapshotId',
    })
  })

  it('deleteSession removes the snapshots and chunks of that session only', async () => {
    const keep = at('snap-keep')
    const gone = at('snap-gone')
    for (const location of [keep, gone]) {
      await storage().saveSnapshot({
        location,
        snapshotId: uuidv7(),
        isLatest: false,
        snapshot: snapshot([message('a', 5)]),
      })
    }
    await storage().deleteSession({ sessionId: gone.sessionId })
    expect(await ctx.collections.snapshots.countDocuments({ session_id: gone.sessionId })).toBe(0)
    expect(await ctx.collections.snapshotChunks.countDocuments({ session_id: gone.sessionId })).toBe(0)
    expect(await ctx.collections.snapshots.countDocuments({ session_id: keep.sessionId })).toBe(1)
    expect(await ctx.collections.snapshotChunks.countDocuments({ session_id: keep.sessionId })).toBe(1)
    expect((await storage().loadManifest()).schemaVersion).toBe('1.0')
  })
})
