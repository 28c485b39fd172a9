/**
 * Encryption at rest against the real test server: a marker written in messages and state is in no
 * stored document of any collection (raw BSON of every collection), reads back exactly, fails with
 * DecryptionError once tampered, moved or shredded, survives a master-key rotation, and leaves the
 * command budget of a turn and of a request unchanged. Sessions written before encryption still read.
 */
import { randomBytes } from 'node:crypto'
import { Agent } from '@strands-agents/sdk'
import { Binary, type Document, type MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createLocalKeyProvider,
  ConfigurationError,
  DecryptionError,
  deleteSessions,
  MongoDBSessionManager,
  MongoDBSessionManagerFactory,
  rotateMasterKey,
  type KeyProvider,
} from '../../src/index.js'
import { SEALED_SUBTYPE } from '../../src/storage/crypto/cipher.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { echoResponder } from '../support/agents.js'
import { countCommands, type CommandLog } from '../support/command-counter.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { storedAnywhere as storedInDatabase } from '../support/raw-scan.js'

let t: TestDatabase
let client: MongoClient
let log: CommandLog
const masterKey = randomBytes(32)
const keyProvider = createLocalKeyProvider(masterKey)

beforeAll(async () => {
  t = await openTestDatabase('msm_encryption')
  client = await t.newClient({ monitorCommands: true })
  log = countCommands(client)
})
afterAll(async () => {
  log.stop()
  await t.cleanup()
})

function manager(sessionId: string, provider: KeyProvider | null = keyProvider): MongoDBSessionManager {
  return new MongoDBSessionManager({
    sessionId,
    client,
    databaseName: t.databaseName,
    ...(provider && { encryption: { keyProvider: provider } }),
  })
}

function agent(sessionManager: MongoDBSessionManager): Agent {
  return new Agent({ model: new ScriptedModel(echoResponder), sessionManager, printer: false })
}

function rawSessions() {
  return t.db.collection<{ _id: string } & Document>('sessions')
}

const storedAnywhere = (marker: string) => storedInDatabase(t.db, marker)

/** Writes a two-turn conversation and app state holding `marker`; returns the agent. */
async function writeMarked(sessionId: string, marker: string, provider: KeyProvider | null = keyProvider) {
  const a = agent(manager(sessionId, provider))
  a.appState.set('note', { secret: marker })
  await a.invoke(`first ${marker}`)
  await a.invoke(`second ${marker}`)
  return a
}

describe('encryption at rest', () => {
  it('stores no marker in clear anywhere, and reads everything back exactly', async () => {
    const marker = `MARK-${randomBytes(6).toString('hex')}`
    const written = await writeMarked('enc-1', marker)
    expect(await storedAnywhere(marker)).toBe(false)

    const restored = agent(manager('enc-1'))
    await restored.initialize()
    expect(restored.messages.map((m) => m.toJSON())).toEqual(written.messages.map((m) => m.toJSON()))
    expect(restored.appState.get('note')).toEqual({ secret: marker })
    // Ids, roles, sequence numbers and timestamps stay in clear (listing, paging, metrics).
    const message = await t.db.collection('messages').findOne({ session_id: 'enc-1', seq: 0 })
    expect(message).toMatchObject({ role: 'user', agent_id: 'agent' })
    expect(message?.content).toBeInstanceOf(Binary)
    expect((message?.content as Binary).sub_type).toBe(SEALED_SUBTYPE)

    // The same writes without encryption do store the marker: the scan can see it.
    const control = `CTRL-${randomBytes(6).toString('hex')}`
    await writeMarked('plain-1', control, null)
    expect(await storedAnywhere(control)).toBe(true)
  })

  it('keeps the command budget: a turn is insert + update, a request find, find, insert, update', async () => {
    const m = manager('enc-budget')
    const a = agent(m)
    await a.invoke('warm up')
    log.reset()
    await a.invoke('steady state')
    expect(log.commands).toEqual(['insert', 'update'])

    const factory = new MongoDBSessionManagerFactory({
      client,
      databaseName: t.databaseName,
      encryption: { keyProvider },
    })
    const request = (text: string) => agent(factory.createSessionManager('enc-request')).invoke(text)
    await request('first')
    log.reset()
    await request('steady state')
    expect(log.commands).toEqual(['find', 'find', 'insert', 'update'])
    const restored = agent(factory.createSessionManager('enc-request'))
    await restored.initialize()
    expect(restored.messages).toHaveLength(4)
  })

  it('throws DecryptionError for tampered ciphertext, never garbage', async () => {
    await writeMarked('enc-tamper', 'tamper')
    const messages = t.db.collection<{ _id: string } & Document>('messages')
    const doc = await messages.findOne({ session_id: 'enc-tamper', seq: 1 })
    const bytes = Buffer.from((doc!.content as Binary).buffer)
    bytes[bytes.length - 20]! ^= 0x01
    await messages.updateOne({ _id: doc!._id }, { $set: { content: new Binary(bytes, SEALED_SUBTYPE) } })
    const restored = agent(manager('enc-tamper'))
    await expect(restored.initialize()).rejects.toBeInstanceOf(DecryptionError)
  })

  it('rejects a ciphertext moved to another session, another message or another field', async () => {
    await writeMarked('enc-move-a', 'moved')
    await writeMarked('enc-move-b', 'other')
    const messages = t.db.collection<{ _id: string } & Document>('messages')
    const sessions = rawSessions()
    const fromA = await messages.findOne({ session_id: 'enc-move-a', seq: 0 })
    const restoreFails = async (sessionId: string) => {
      const restored = agent(manager(sessionId))
      await expect(restored.initialize()).rejects.toBeInstanceOf(DecryptionError)
    }

    // Another session (the same position in it).
    const b0 = await messages.findOne({ session_id: 'enc-move-b', seq: 0 })
    await messages.updateOne({ _id: 'enc-move-b:agent:0' }, { $set: { content: fromA!.content } })
    await restoreFails('enc-move-b')
    await messages.updateOne({ _id: 'enc-move-b:agent:0' }, { $set: { content: b0!.content } })

    // Another message of the same session.
    const a1 = await messages.findOne({ session_id: 'enc-move-a', seq: 1 })
    await messages.updateOne({ _id: 'enc-move-a:agent:1' }, { $set: { content: fromA!.content } })
    await restoreFails('enc-move-a')
    await messages.updateOne({ _id: 'enc-move-a:agent:1' }, { $set: { content: a1!.content } })

    // Another field: the app state in place of the agent state.
    const session = await sessions.findOne({ _id: 'enc-move-b' })
    await sessions.updateOne(
      { _id: 'enc-move-b' },
      { $set: { 'agents.agent.snapshot_app_data': session!.agents.agent.snapshot_data } },
    )
    await restoreFails('enc-move-b')

    // Put back as written, both read again: the failures were the moves.
    await sessions.updateOne(
      { _id: 'enc-move-b' },
      { $set: { 'agents.agent.snapshot_app_data': session!.agents.agent.snapshot_app_data } },
    )
    for (const id of ['enc-move-a', 'enc-move-b']) expect(await agent(manager(id)).initialize()).toBeUndefined()
  })

  it('fails with DecryptionError once the data key is destroyed, or under another master key', async () => {
    await writeMarked('enc-shred', 'shred')
    const wrongKey = agent(manager('enc-shred', createLocalKeyProvider(randomBytes(32))))
    await expect(wrongKey.initialize()).rejects.toBeInstanceOf(DecryptionError)
    const noEncryption = agent(manager('enc-shred', null))
    await expect(noEncryption.initialize()).rejects.toBeInstanceOf(DecryptionError)

    await rawSessions().updateOne({ _id: 'enc-shred' }, { $unset: { data_key: '' } })
    await expect(agent(manager('enc-shred')).initialize()).rejects.toBeInstanceOf(DecryptionError)
  })

  it('deleteSessions destroys the data key before it deletes any content', async () => {
    await writeMarked('enc-delete', 'delete-me')
    const kept = await t.db.collection('messages').find({ session_id: 'enc-delete' }).toArray()
    log.reset()
    const counts = await deleteSessions(manager('enc-delete').collections, { sessionIds: ['enc-delete'] })
    expect(counts.sessions).toBe(1)
    const writes = log.events.filter((e) => e.commandName !== 'find')
    expect(writes[0]!.commandName).toBe('update')
    expect(JSON.stringify(writes[0]!.command.updates)).toContain('"$unset":{"data_key":""}')
    // A copy of the content documents taken before (a backup of the messages) is unreadable once
    // put back: the session that could decrypt them has no key any more.
    await t.db.collection('messages').insertMany(kept)
    await agent(manager('enc-delete')).invoke('a new conversation')
    const session = await rawSessions().findOne({ _id: 'enc-delete' })
    expect(session?.data_key).toBeDefined()
    const restored = agent(manager('enc-delete'))
    // The new session's key is another one: the old ciphertexts fail if anything references them.
    await t.db
      .collection<{ _id: string } & Document>('sessions')
      .updateOne({ _id: 'enc-delete' }, { $set: { 'agents.agent.ranges': [{ first: 0, last: 1 }] } })
    await expect(restored.initialize()).rejects.toBeInstanceOf(DecryptionError)
  })

  it('a session written again after deleteSession() gets a new data key', async () => {
    const m = manager('enc-again')
    const a = agent(m)
    await a.invoke('before')
    const first = (await rawSessions().findOne({ _id: 'enc-again' }))?.data_key?.wrapped as Binary
    await m.deleteSession()
    const b = agent(m)
    await b.invoke('after')
    const second = (await rawSessions().findOne({ _id: 'enc-again' }))?.data_key?.wrapped as Binary
    expect(Buffer.from(second.buffer).equals(Buffer.from(first.buffer))).toBe(false)
    const restored = agent(manager('enc-again'))
    await restored.initialize()
    expect(restored.messages.map((msg) => msg.toJSON())).toEqual(b.messages.map((msg) => msg.toJSON()))
  })

  it('reads sessions written before encryption, and encrypts what is written from then on', async () => {
    const marker = `OLD-${randomBytes(6).toString('hex')}`
    const before = await writeMarked('enc-mixed', marker, null)
    const a = agent(manager('enc-mixed'))
    await a.initialize()
    expect(a.messages.map((m) => m.toJSON())).toEqual(before.messages.map((m) => m.toJSON()))
    const fresh = `NEW-${randomBytes(6).toString('hex')}`
    a.appState.set('note', { secret: fresh })
    await a.invoke(`third ${fresh}`)
    expect(await storedAnywhere(fresh)).toBe(false)
    const again = agent(manager('enc-mixed'))
    await again.initialize()
    expect(again.messages.map((m) => m.toJSON())).toEqual(a.messages.map((m) => m.toJSON()))
    expect(again.appState.get('note')).toEqual({ secret: fresh })
  })

  it('rotateMasterKey re-wraps every data key without touching content', async () => {
    const marker = `ROT-${randomBytes(6).toString('hex')}`
    const written = await writeMarked('enc-rotate', marker)
    const contentBefore = await t.db.collection('messages').find({ session_id: 'enc-rotate' }).toArray()
    const newProvider = createLocalKeyProvider(randomBytes(32))
    const collections = manager('enc-rotate').collections
    const result = await rotateMasterKey(collections, { from: keyProvider, to: newProvider })
    expect(result.rewrapped).toBeGreaterThanOrEqual(1)
    expect(result.failed).toEqual([])
    // Again: nothing left to rotate.
    const second = await rotateMasterKey(collections, { from: keyProvider, to: newProvider })
    expect(second.rewrapped).toBe(0)
    expect(second.alreadyCurrent).toBe(result.rewrapped + result.alreadyCurrent)

    expect(await t.db.collection('messages').find({ session_id: 'enc-rotate' }).toArray()).toEqual(contentBefore)
    const restored = agent(manager('enc-rotate', newProvider))
    await restored.initialize()
    expect(restored.messages.map((m) => m.toJSON())).toEqual(written.messages.map((m) => m.toJSON()))
    expect(restored.appState.get('note')).toEqual({ secret: marker })
    await expect(agent(manager('enc-rotate')).initialize()).rejects.toBeInstanceOf(DecryptionError)
    expect(await storedAnywhere(marker)).toBe(false)
  })

  it('a session revived after it expired gets a new data key; pruning destroys the key first', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const retention = { expireAfter: '1h', now: () => now }
    const withRetention = (sessionId: string) =>
      new MongoDBSessionManager({
        sessionId,
        client,
        databaseName: t.databaseName,
        retention,
        encryption: { keyProvider },
      })
    const a = agent(withRetention('enc-revive'))
    await a.invoke('before expiry')
    const first = (await rawSessions().findOne({ _id: 'enc-revive' }))?.data_key?.wrapped as Binary
    now = new Date(now.getTime() + 2 * 3_600_000)
    await a.invoke('after expiry')
    const second = (await rawSessions().findOne({ _id: 'enc-revive' }))?.data_key?.wrapped as Binary
    expect(first).toBeInstanceOf(Binary)
    expect(second).toBeInstanceOf(Binary)
    expect(Buffer.from(second.buffer).equals(Buffer.from(first.buffer))).toBe(false)
    const restored = agent(withRetention('enc-revive'))
    await restored.initialize()
    expect(restored.messages.map((m) => m.toJSON())).toEqual(a.messages.map((m) => m.toJSON()))

    // Prune: the retirement removes the key before any content.
    now = new Date(now.getTime() + 2 * 3_600_000)
    const factory = new MongoDBSessionManagerFactory({ client, databaseName: t.databaseName, retention })
    log.reset()
    await factory.pruneExpiredSessions()
    const firstWrite = log.events.find((e) => e.commandName !== 'find')!
    expect(firstWrite.commandName).toBe('update')
    expect(JSON.stringify(firstWrite.command.updates)).toContain('"$unset":{"data_key":""}')
    expect(await rawSessions().findOne({ _id: 'enc-revive' })).toBeNull()
  })

  it('unwraps a session key once per manager (a KMS provider would make one request)', async () => {
    let unwraps = 0
    const counting: KeyProvider = {
      kind: keyProvider.kind,
      generateDataKey: (id) => keyProvider.generateDataKey(id),
      wrapDataKey: (id, key) => keyProvider.wrapDataKey(id, key),
      unwrapDataKey: (id, wrapped) => {
        unwraps++
        return keyProvider.unwrapDataKey(id, wrapped)
      },
    }
    const writer = manager('enc-cache', counting)
    await agent(writer).invoke('hello')
    await agent(writer).initialize()
    expect(unwraps).toBe(0) // it created the key
    const reader = manager('enc-cache', counting)
    for (let i = 0; i < 3; i++) await agent(reader).initialize()
    expect(unwraps).toBe(1)
  })

  it('rejects a malformed encryption option', () => {
    expect(() => manager('x', {} as KeyProvider)).toThrow(ConfigurationError)
    expect(() => new MongoDBSessionManager({ client, encryption: { keyProvider, extra: 1 } as never })).toThrow(
      ConfigurationError,
    )
  })
})
