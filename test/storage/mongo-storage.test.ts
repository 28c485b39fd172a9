/**
 * Conformance of `MongoStorage` with the SDK's unified `Storage` contract.
 *
 * One parameterised suite runs against the SDK's `InMemoryStorage` (the reference) and against
 * `MongoStorage` on the test server, so every expectation is checked on the reference too: when
 * the reference passes and MongoStorage fails, MongoStorage diverges from the SDK.
 */
import { createServer } from 'node:net'
import { SessionManager, StorageError, type Storage } from '@strands-agents/sdk'
import { InMemoryStorage } from '@strands-agents/sdk/storage'
import fc from 'fast-check'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MongoStorage } from '../../src/index.js'
import { conversationOf, testAgent } from '../support/agents.js'
import { openTestDatabase, uniqueName, type TestDatabase } from '../support/mongo.js'

type NamespacedStorage = Storage & { namespace(prefix: string): Storage }

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_storage')
})
afterAll(async () => {
  await t.cleanup()
})

let collectionCounter = 0

interface Backend {
  name: string
  /** A fresh, empty storage. */
  make(): NamespacedStorage
}

const backends: Backend[] = [
  { name: 'InMemoryStorage (SDK reference)', make: () => new InMemoryStorage() },
  {
    name: 'MongoStorage',
    // A fresh collection per storage, so `list('')` sees only what the test wrote.
    make: () =>
      new MongoStorage({
        client: t.client,
        databaseName: t.databaseName,
        collectionPrefix: `c${++collectionCounter}_`,
      }),
  },
]

const enc = (text: string) => new TextEncoder().encode(text)
const dec = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes))

/** Runs `fn`; returns `'ok'`, or the error's class name (so backends can be compared on failures too). */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn()
    return 'ok'
  } catch (error) {
    return error instanceof StorageError ? 'StorageError' : `other: ${String(error)}`
  }
}

/** Key segments mixing path syntax, regex metacharacters and non-ASCII text. */
const segment = fc.oneof(
  fc.constantFrom(
    '',
    '.',
    '..',
    '...',
    'a',
    'ab',
    'b',
    '\\',
    'x\\y',
    '$',
    '^',
    '.*',
    '[a-z]+',
    '(x)',
    '?',
    '|',
    '{2}',
    'é',
    '💥',
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
)
const rawKey = fc.array(segment, { minLength: 0, maxLength: 4 }).map((parts) => parts.join('/'))
/** Keys every backend accepts: non-empty segments, no `..`, no backslash. */
const validKey = fc
  .array(
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
      .filter((s) => !s.includes('/') && !s.includes('\\') && s !== '..'),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join('/'))

describe.each(backends)('Storage contract: $name', (backend) => {
  it('round-trips arbitrary bytes under arbitrary keys exactly', async () => {
    const storage = backend.make()
    await fc.assert(
      fc.asyncProperty(validKey, fc.uint8Array({ minLength: 0, maxLength: 4096 }), async (key, data) => {
        await storage.write(key, data)
        const back = await storage.read(key)
        expect(back).toBeInstanceOf(Uint8Array)
        expect(Array.from(back!)).toEqual(Array.from(data))
      }),
      { numRuns: 60 },
    )
  })

  it('stores exactly the viewed bytes of a subarray and returns a copy, not an alias', async () => {
    const storage = backend.make()
    const whole = Uint8Array.from({ length: 64 }, (_, i) => i)
    const view = whole.subarray(10, 20)
    await storage.write('view', view)
    whole[12] = 255
    const back = await storage.read('view')
    expect(Array.from(back!)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    back![0] = 99
    expect((await storage.read('view'))![0]).toBe(10)
  })

  it('round-trips an empty value and a 1 MB value', async () => {
    const storage = backend.make()
    await storage.write('empty', new Uint8Array(0))
    expect((await storage.read('empty'))?.byteLength).toBe(0)
    const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) % 251)
    await storage.write('big', big)
    expect(Buffer.from((await storage.read('big'))!).equals(Buffer.from(big))).toBe(true)
  })

  it('returns null for a missing key', async () => {
    const storage = backend.make()
    expect(await storage.read('missing/key')).toBeNull()
  })

  it('treats delete of a missing key as a no-op, and deletes an existing one', async () => {
    const storage = backend.make()
    await expect(storage.delete('never/written')).resolves.toBeUndefined()
    await storage.write('k', enc('v'))
    await storage.delete('k')
    expect(await storage.read('k')).toBeNull()
    expect(await storage.list('')).toEqual([])
  })

  it('overwrites', async () => {
    const storage = backend.make()
    await storage.write('k', enc('first, longer value'))
    await storage.write('k', enc('second'))
    expect(dec(await storage.read('k'))).toBe('second')
    expect(await storage.list('')).toEqual(['k'])
  })

  it('lists full keys under a prefix, sorted ascending; list("") lists all', async () => {
    const storage = backend.make()
    const keys = ['b/2', 'a/10', 'a/2', 'a/1', 'c', 'a/1/x', 'B', 'a']
    for (const key of keys) await storage.write(key, enc(key))
    expect(await storage.list('a/')).toEqual(['a/1', 'a/1/x', 'a/10', 'a/2'])
    expect(await storage.list('a/1')).toEqual(['a/1', 'a/1/x', 'a/10'])
    expect(await storage.list('')).toEqual([...keys].sort())
    expect(await storage.list('zzz')).toEqual([])
  })

  it('does not match "ab" when listing "a/"', async () => {
    const storage = backend.make()
    await storage.write('ab', enc('1'))
    await storage.write('a/b', enc('2'))
    await storage.write('a', enc('3'))
    expect(await storage.list('a/')).toEqual(['a/b'])
    expect(await storage.list('a')).toEqual(['a', 'a/b', 'ab'])
  })

  it('treats regex metacharacters in keys and prefixes literally', async () => {
    const storage = backend.make()
    const keys = ['a.c/1', 'abc/1', 'a*/1', 'aaa/1', '(x)/1', 'x/1', '[ab]/1', 'a/1', '$^/1', '^a/1', 'a+b/1', 'a|b/1']
    for (const key of keys) await storage.write(key, enc(key))
    expect(await storage.list('a.c')).toEqual(['a.c/1'])
    expect(await storage.list('a*')).toEqual(['a*/1'])
    expect(await storage.list('(x)')).toEqual(['(x)/1'])
    expect(await storage.list('[ab]')).toEqual(['[ab]/1'])
    expect(await storage.list('$^')).toEqual(['$^/1'])
    expect(await storage.list('^a')).toEqual(['^a/1'])
    expect(await storage.list('a+')).toEqual(['a+b/1'])
    expect(await storage.list('a|b')).toEqual(['a|b/1'])
    expect(dec(await storage.read('a.c/1'))).toBe('a.c/1')
  })

  it('sorts non-ASCII keys like the reference (JavaScript string order)', async () => {
    const storage = backend.make()
    // UTF-16 order (JS sort) and UTF-8 byte order differ for astral characters vs U+E000..U+FFFF.
    const keys = ['k/\uE000', 'k/\u{1F4A5}', 'k/\uFF21', 'k/z', 'k/é', 'k/Z']
    for (const key of keys) await storage.write(key, enc(key))
    expect(await storage.list('k/')).toEqual([...keys].sort())
  })

  it('normalises keys: collapses //, strips leading and trailing /', async () => {
    const storage = backend.make()
    await storage.write('//a///b//', enc('v'))
    expect(await storage.list('')).toEqual(['a/b'])
    expect(dec(await storage.read('a/b'))).toBe('v')
    expect(dec(await storage.read('/a/b/'))).toBe('v')
    expect(await storage.list('/a//')).toEqual(['a/b'])
    await storage.delete('a//b/')
    expect(await storage.read('a/b')).toBeNull()
  })

  it('rejects empty keys (after normalisation) with StorageError', async () => {
    const storage = backend.make()
    for (const key of ['', '/', '//']) {
      await expect(storage.write(key, enc('x')), `write(${JSON.stringify(key)})`).rejects.toBeInstanceOf(StorageError)
      await expect(storage.read(key), `read(${JSON.stringify(key)})`).rejects.toBeInstanceOf(StorageError)
      await expect(storage.delete(key), `delete(${JSON.stringify(key)})`).rejects.toBeInstanceOf(StorageError)
    }
    expect(await storage.list('')).toEqual([])
  })

  it('rejects ".." segments and "\\" with StorageError', async () => {
    const storage = backend.make()
    for (const key of ['..', 'a/../b', '../a', 'a/..', 'a\\b', '\\']) {
      await expect(storage.write(key, enc('x')), `write(${JSON.stringify(key)})`).rejects.toBeInstanceOf(StorageError)
      await expect(storage.read(key), `read(${JSON.stringify(key)})`).rejects.toBeInstanceOf(StorageError)
      await expect(storage.delete(key), `delete(${JSON.stringify(key)})`).rejects.toBeInstanceOf(StorageError)
    }
    for (const prefix of ['..', 'a/../', 'a\\']) {
      await expect(storage.list(prefix), `list(${JSON.stringify(prefix)})`).rejects.toBeInstanceOf(StorageError)
    }
    // Dots that are not a whole '..' segment are ordinary characters.
    await storage.write('a..b/.../.', enc('dots'))
    expect(dec(await storage.read('a..b/.../.'))).toBe('dots')
    expect(await storage.list('')).toEqual(['a..b/.../.'])
  })

  it('isolates namespace() views', async () => {
    const storage = backend.make()
    const tenantA = storage.namespace('tenant-a')
    const tenantB = storage.namespace('tenant-b')
    await tenantA.write('notes/1', enc('a1'))
    await tenantA.write('notes/2', enc('a2'))
    await tenantB.write('notes/1', enc('b1'))
    await storage.write('notes/1', enc('root'))

    expect(dec(await tenantA.read('notes/1'))).toBe('a1')
    expect(dec(await tenantB.read('notes/1'))).toBe('b1')
    expect(dec(await storage.read('notes/1'))).toBe('root')
    expect(await tenantA.read('notes/2')).not.toBeNull()
    expect(await tenantB.read('notes/2')).toBeNull()
    expect(await tenantA.list('')).toEqual(['notes/1', 'notes/2'])
    expect(await tenantB.list('notes/')).toEqual(['notes/1'])
    expect(await storage.list('')).toEqual(['notes/1', 'tenant-a/notes/1', 'tenant-a/notes/2', 'tenant-b/notes/1'])
    // 'tenant-a' must not see a sibling namespace that merely starts with the same text.
    await storage.namespace('tenant-ab').write('x', enc('ab'))
    expect(await tenantA.list('')).toEqual(['notes/1', 'notes/2'])

    // Nesting composes; deleting through a view deletes only there.
    const nested = tenantA.namespace!('deep')
    await nested.write('k', enc('deep'))
    expect(dec(await storage.read('tenant-a/deep/k'))).toBe('deep')
    await tenantB.delete('notes/1')
    expect(dec(await tenantA.read('notes/1'))).toBe('a1')
    expect(await storage.list('tenant-b')).toEqual([])
  })

  it('agrees with the reference on normalisation of arbitrary keys (accept/reject, stored key, bytes)', async () => {
    const storage = backend.make()
    const reference = new InMemoryStorage()
    await fc.assert(
      // Empty keys have their own test above; here the rest of the key space is explored.
      fc.asyncProperty(
        rawKey.filter((key) => key.split('/').some(Boolean)),
        async (key) => {
          const data = enc(`value of ${key}`)
          const expected = await outcome(() => reference.write(key, data))
          expect(await outcome(() => storage.write(key, data)), `write(${JSON.stringify(key)})`).toBe(expected)
          if (expected !== 'ok') return
          expect(dec(await storage.read(key))).toBe(dec(await reference.read(key)))
          // Same stored keys (order of non-ASCII keys has its own test above).
          expect((await storage.list('')).sort()).toEqual((await reference.list('')).sort())
          expect(await outcome(() => storage.list(key))).toBe(await outcome(() => reference.list(key)))
        },
      ),
      { numRuns: 80 },
    )
  })
})

describe('MongoStorage specifics', () => {
  function mongoStorage(client: MongoClient = t.client): MongoStorage {
    return new MongoStorage({
      client,
      databaseName: t.databaseName,
      collectionPrefix: uniqueName('s').slice(0, 30) + '_',
    })
  }

  it('stores one queryable document per key (BSON binary, not base64 text)', async () => {
    const prefix = 'docs_'
    const storage = new MongoStorage({ client: t.client, databaseName: t.databaseName, collectionPrefix: prefix })
    await storage.namespace('ns').write('a//b', Uint8Array.of(0, 1, 2, 255))
    const docs = await t.db.collection(`${prefix}storage`).find({}).toArray()
    expect(docs).toHaveLength(1)
    expect(docs[0]?._id).toBe('ns/a/b')
    expect(docs[0]?.data?._bsontype).toBe('Binary')
    expect(Array.from(docs[0]?.data.buffer as Uint8Array)).toEqual([0, 1, 2, 255])
  })

  it('wraps driver failures in the SDK StorageError, with the driver error as cause', async () => {
    const client = await t.newClient()
    const storage = mongoStorage(client)
    await storage.write('k', enc('v'))
    await client.close()
    for (const op of [
      () => storage.write('k', enc('v')),
      () => storage.read('k'),
      () => storage.delete('k'),
      () => storage.list(''),
    ]) {
      const error = await op().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(StorageError)
      expect((error as StorageError).cause).toBeInstanceOf(Error)
    }
  })

  it('reports an unreachable server as StorageError without leaking credentials', async () => {
    const port = await unusedPort()
    const client = new MongoClient(`mongodb://user:s3cret@127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 300 })
    try {
      const error = await mongoStorage(client)
        .read('k')
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      expect(error).toBeInstanceOf(StorageError)
      expect((error as Error).message).not.toContain('s3cret')
    } finally {
      await client.close()
    }
  })

  it('without a prefix uses the plain "storage" collection; refuses keys that are not strings', async () => {
    const storage = new MongoStorage({ client: t.client, databaseName: t.databaseName })
    await storage.write('plain/key', enc('v'))
    expect(await t.db.collection('storage').countDocuments({ _id: 'plain/key' as never })).toBe(1)
    const error = await storage.write(5 as never, enc('v')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect((error as Error).message).toBe('storage key must be a string, got number')
  })

  it('requires a MongoClient', () => {
    expect(() => new MongoStorage({ client: {} as MongoClient })).toThrow(/MongoClient/)
  })

  it('is not marked ephemeral (its data survives a restart)', () => {
    expect(Symbol.for('strands.storage.ephemeral') in mongoStorage()).toBe(false)
  })
})

describe('MongoStorage as the storage of the SDK stock SessionManager', () => {
  it('saves and restores an Agent through the stock SessionManager', async () => {
    const storage = new MongoStorage({ client: t.client, databaseName: t.databaseName, collectionPrefix: 'stock_' })
    const first = testAgent({
      sessionManager: new SessionManager({ sessionId: 'stock-1', storage }),
      systemPrompt: 'Be brief.',
    })
    await first.invoke('hello')
    first.appState.set('plan', 'gold')
    await first.invoke('where is my order?')
    const saved = conversationOf(first)
    expect(saved.length).toBeGreaterThanOrEqual(6)
    const keys = await storage.list('session/stock-1/')
    expect(keys).toContain('session/stock-1/scopes/agent/agent/snapshots/snapshot_latest.json')

    const second = testAgent({ sessionManager: new SessionManager({ sessionId: 'stock-1', storage }) })
    await second.initialize()
    expect(conversationOf(second)).toEqual(saved)
    expect(second.appState.get('plan')).toBe('gold')
    expect(second.systemPrompt).toBe('Be brief.')

    // Snapshot history and deleteSession go through list/delete.
    const manager = new SessionManager({ sessionId: 'stock-1', storage, snapshotTrigger: () => true })
    const third = testAgent({ sessionManager: manager })
    await third.invoke('again')
    expect(await manager.listSnapshotIds({ target: third })).toHaveLength(1)
    await manager.deleteSession()
    expect(await storage.list('session/stock-1/')).toEqual([])
  })

  it('places a namespace() view\'s keys where the SDK backends do (no extra "session/" level)', async () => {
    // The SDK's SessionManager adds `session/` unless the storage is marked as an already
    // namespaced view (Symbol.for('strands.storage.namespaced')), as every shipped backend's
    // namespace() view is.
    const layouts: string[][] = []
    for (const base of [
      new InMemoryStorage() as NamespacedStorage,
      new MongoStorage({ client: t.client, databaseName: t.databaseName, collectionPrefix: 'nsview_' }),
    ]) {
      const agent = testAgent({
        sessionManager: new SessionManager({ sessionId: 'ns-1', storage: base.namespace('tenant-a') }),
      })
      await agent.invoke('hi')
      layouts.push(await base.list(''))
    }
    expect(layouts[0]).toEqual(['tenant-a/ns-1/scopes/agent/agent/snapshots/snapshot_latest.json'])
    expect(layouts[1]).toEqual(layouts[0])
  })
})

async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}
