/**
 * Encryption at rest of the session data around the conversation, against the real test server and
 * fauxqs: metadata values (declared fields excepted), feedback comments, guardrail audit entries and
 * the payloads of durable notifications. A marker written in each is in no stored document of any
 * collection (raw BSON), reads back exactly, is delivered exactly by the relay, fails with
 * DecryptionError once moved or shredded, and survives a master-key rotation.
 */
import { randomBytes } from 'node:crypto'
import { Agent } from '@strands-agents/sdk'
import { Binary, type Document, type MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import {
  createLocalKeyProvider,
  DecryptionError,
  deleteSessions,
  listSessions,
  NotificationDispatcher,
  relayPendingNotifications,
  rotateMasterKey,
  searchSessions,
  type Metadata,
  type MongoDBSessionManager,
} from '../../src/index.js'
import { SEALED_SUBTYPE } from '../../src/storage/crypto/cipher.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { createQueue, createTopicWithQueues, drain } from '../aws/support/aws.js'
import { countCommands, type CommandLog } from '../support/command-counter.js'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { encryptedManagers, storedAnywhere as storedInDatabase } from '../support/raw-scan.js'

let t: TestDatabase
let client: MongoClient
let log: CommandLog
const keyProvider = createLocalKeyProvider(randomBytes(32))

beforeAll(async () => {
  t = await openTestDatabase('msm_encryption_data')
  client = await t.newClient({ monitorCommands: true })
  log = countCommands(client)
})
afterAll(async () => {
  log.stop()
  await t.cleanup()
})

const marker = () => `MARK-${randomBytes(6).toString('hex')}`

const manager = encryptedManagers(() => ({ client, databaseName: t.databaseName }), keyProvider, {
  metadataFields: ['plan'],
})

const storedAnywhere = (needle: string) => storedInDatabase(t.db, needle)

const guardrailTrace = (word: string) => ({
  guardrail: {
    inputAssessment: {
      gr1: { wordPolicy: { customWords: [{ match: word, action: 'BLOCKED' }] } },
    },
  },
})

/** Writes a marker through every kind of session data; returns what was written. */
async function writeEverything(m: MongoDBSessionManager, mark: string) {
  const agent = new Agent({
    model: new ScriptedModel([
      { text: 'blocked', redactInput: '[redacted]', trace: guardrailTrace(mark), stopReason: 'guardrailIntervened' },
      { text: `reply ${mark}` },
    ]),
    sessionManager: m,
    systemPrompt: `system ${mark}`,
    printer: false,
  })
  await agent.invoke(`hello ${mark}`)
  await agent.invoke(`again ${mark}`)
  const metadata: Metadata = {
    note: mark,
    plan: 'gold',
    nested: { deep: [mark, 1, true], n: 42, empty: {} },
    when: new Date('2026-01-02T03:04:05.000Z'),
  }
  await m.updateMetadata(metadata)
  await m.updateMetadata({ 'nested.more': `more ${mark}` })
  const feedback = await m.addFeedback({ rating: 'down', comment: `comment ${mark}` })
  return {
    metadata: { ...metadata, nested: { deep: [mark, 1, true], n: 42, empty: {}, more: `more ${mark}` } },
    feedback,
    agent,
  }
}

describe('encryption of metadata, feedback, guardrail events and notifications', () => {
  it('stores no marker in clear in any collection, and reads every value back exactly', async () => {
    const mark = marker()
    // Immutable snapshots after every turn: their messages and state are sealed too.
    const m = manager('data-1', { extra: { snapshotTrigger: () => true } })
    const written = await writeEverything(m, mark)
    expect(await storedAnywhere(mark)).toBe(false)

    // Read back by another manager (a new process would do the same).
    const reader = manager('data-1')
    expect(await reader.getMetadata()).toEqual(written.metadata)
    expect(await reader.getMetadata(['nested.more', 'plan'])).toEqual({ 'nested.more': `more ${mark}`, plan: 'gold' })
    const [feedback] = (await reader.getFeedbacks()).items
    expect(feedback).toEqual(written.feedback)
    expect(feedback!.comment).toBe(`comment ${mark}`)
    const [event] = (await reader.getGuardrailEvents()).items
    expect(event!.policiesTriggered).toEqual({ wordPolicy: [mark] })
    expect((await reader.getAgentConfig('agent')).systemPrompt).toBe(`system ${mark}`)
    expect((await reader.listAgents())[0]!.systemPrompt).toBe(`system ${mark}`)
    const restored = new Agent({ model: new ScriptedModel([]), printer: false })
    const [first, second] = await reader.listSnapshotIds({ target: restored })
    expect(second).toBeDefined()
    expect(await reader.restoreSnapshot({ target: restored, snapshotId: first! })).toBe(true)
    expect(restored.messages.map((message) => message.toJSON())).toEqual(
      written.agent.messages.slice(0, 2).map((message) => message.toJSON()),
    )
    expect(restored.systemPrompt).toBe(`system ${mark}`)
    expect(await t.db.collection('snapshot_chunks').countDocuments({ session_id: 'data-1' })).toBeGreaterThan(0)

    // Keys, the declared field, ratings and counts stay in clear; every other value is sealed.
    const session = await t.db.collection('sessions').findOne({ _id: 'data-1' as never })
    expect(session!.metadata.plan).toBe('gold')
    expect(Object.keys(session!.metadata as Document).sort()).toEqual(['nested', 'note', 'plan', 'when'])
    expect((session!.metadata.note as Binary).sub_type).toBe(SEALED_SUBTYPE)
    expect((session!.metadata.nested.n as Binary).sub_type).toBe(SEALED_SUBTYPE)
    expect(session!.metadata.nested.empty).toEqual({})
    const stored = await t.db.collection('feedback').findOne({ session_id: 'data-1' })
    expect(stored).toMatchObject({ rating: 'down' })
    expect((stored!.comment as Binary).sub_type).toBe(SEALED_SUBTYPE)
    expect(await reader.getFeedbackCounts()).toEqual({ up: 0, down: 1, neutral: 0 })

    // Listings filter on the declared field and open the rest with the key provider.
    const page = await listSessions(
      m.collections,
      { metadata: { plan: 'gold' } },
      { keyProvider, metadataFields: ['plan'] },
    )
    expect(page.items.find((s) => s.sessionId === 'data-1')?.metadata).toEqual(written.metadata)
    const keyless = await listSessions(m.collections, { metadata: { plan: 'gold' } }, { metadataFields: ['plan'] })
    const sealed = keyless.items.find((s) => s.sessionId === 'data-1')!.metadata
    expect(sealed.plan).toBe('gold')
    expect(sealed.note).toBeInstanceOf(Binary)

    // Search hits open them the same way.
    await m.setTitle(`Title ${mark}`)
    const [hit] = await searchSessions(m.collections, { text: `Title ${mark}` }, { keyProvider })
    expect(hit!.session.metadata).toEqual(written.metadata)
    const [sealedHit] = await searchSessions(m.collections, { text: `Title ${mark}` })
    expect(sealedHit!.session.metadata.note).toBeInstanceOf(Binary)

    // The same writes without encryption do store the marker: the scan can see it.
    const control = marker()
    await writeEverything(manager('data-plain', { provider: null }), control)
    expect(await storedAnywhere(control)).toBe(true)
  })

  it('nested updates and deletes keep working on sealed values', async () => {
    const m = manager('data-nested')
    await m.updateMetadata({ customer: { tier: 'silver', name: 'Ada' }, plan: { level: 2 } })
    expect(await m.updateMetadata({ 'customer.tier': 'gold' })).toEqual({
      customer: { tier: 'gold', name: 'Ada' },
      plan: { level: 2 },
    })
    expect(await m.deleteMetadata(['customer.name'])).toEqual({ customer: { tier: 'gold' }, plan: { level: 2 } })
    // A value under a declared field stays in clear.
    const raw = await t.db.collection('sessions').findOne({ _id: 'data-nested' as never })
    expect(raw!.metadata.plan).toEqual({ level: 2 })
    expect(raw!.metadata.customer.tier).toBeInstanceOf(Binary)
    expect(await manager('data-nested').getMetadata()).toEqual({ customer: { tier: 'gold' }, plan: { level: 2 } })
  })

  it('a metadata update costs the same commands as without encryption', async () => {
    const plain = manager('data-cost-plain', { provider: null })
    const sealed = manager('data-cost-sealed')
    await plain.updateMetadata({ a: 1 })
    await sealed.updateMetadata({ a: 1 })
    log.reset()
    await plain.updateMetadata({ b: 2 })
    const without = [...log.commands]
    log.reset()
    await sealed.updateMetadata({ b: 2 })
    expect(log.commands).toEqual(without)
    expect(without).toEqual(['find', 'findAndModify'])
  })

  it('a sealed value moved to another key, or read without the key, is a DecryptionError', async () => {
    const m = manager('data-moved')
    await m.updateMetadata({ a: 'first', b: 'second' })
    const sessions = t.db.collection<{ _id: string } & Document>('sessions')
    const doc = await sessions.findOne({ _id: 'data-moved' })
    await sessions.updateOne({ _id: 'data-moved' }, { $set: { 'metadata.b': doc!.metadata.a } })
    await expect(manager('data-moved').getMetadata()).rejects.toBeInstanceOf(DecryptionError)
    await expect(manager('data-moved', { provider: null }).getMetadata()).rejects.toBeInstanceOf(DecryptionError)

    await m.addFeedback({ rating: 'up', comment: 'secret' })
    await expect(manager('data-moved', { provider: null }).getFeedbacks()).rejects.toBeInstanceOf(DecryptionError)
  })

  it('after the session is deleted, a copy of its feedback cannot be read (crypto-shredding)', async () => {
    const m = manager('data-shred')
    await m.updateMetadata({ note: 'x' })
    await m.addFeedback({ rating: 'down', comment: 'shredded' })
    const backup = await t.db.collection('feedback').find({ session_id: 'data-shred' }).toArray()
    await deleteSessions(m.collections, { sessionIds: ['data-shred'] })
    // A backup of the feedback collection restored after the deletion, with a new session document.
    await t.db.collection('feedback').insertMany(backup)
    await t.db.collection('sessions').insertOne({ _id: 'data-shred' as never, metadata: {} })
    await expect(manager('data-shred').getFeedbacks()).rejects.toBeInstanceOf(DecryptionError)
  })

  it('survives a master-key rotation', async () => {
    const oldKey = randomBytes(32)
    const from = createLocalKeyProvider(oldKey)
    const mark = marker()
    const written = await writeEverything(manager('data-rotate', { provider: from }), mark)
    const to = createLocalKeyProvider(randomBytes(32))
    const result = await rotateMasterKey(manager('data-rotate').collections, { from, to })
    // Other sessions of this database are under other master keys: only this one matters here.
    expect(result.failed).not.toContain('data-rotate')
    const reader = manager('data-rotate', { provider: to })
    expect(await reader.getMetadata()).toEqual(written.metadata)
    expect((await reader.getFeedbacks()).items[0]!.comment).toBe(`comment ${mark}`)
    expect((await reader.getGuardrailEvents()).items[0]!.policiesTriggered).toEqual({ wordPolicy: [mark] })
    expect((await reader.getAgentConfig('agent')).systemPrompt).toBe(`system ${mark}`)
    await expect(manager('data-rotate', { provider: from }).getMetadata()).rejects.toBeInstanceOf(DecryptionError)
  })

  it('metadata written before encryption still reads, and new writes are sealed (mixed mode)', async () => {
    await manager('data-mixed', { provider: null }).updateMetadata({ old: 'plain' })
    const m = manager('data-mixed')
    expect(await m.updateMetadata({ fresh: 'sealed' })).toEqual({ old: 'plain', fresh: 'sealed' })
    const raw = await t.db.collection('sessions').findOne({ _id: 'data-mixed' as never })
    expect(raw!.metadata.old).toBe('plain')
    expect(raw!.metadata.fresh).toBeInstanceOf(Binary)
    expect(await manager('data-mixed').getMetadata()).toEqual({ old: 'plain', fresh: 'sealed' })
  })

  it('feedback on an expired session is sealed under the key of the revived session', async () => {
    let now = new Date('2026-05-01T00:00:00Z')
    const extra = { retention: { expireAfter: '1h', now: () => now } }
    const m = manager('data-revived', { extra })
    await m.addFeedback({ rating: 'up', comment: 'before' })
    now = new Date('2026-05-01T02:00:00Z') // expired: the next feedback starts a new session
    await m.addFeedback({ rating: 'down', comment: 'after' })
    const items = (await manager('data-revived', { extra }).getFeedbacks()).items
    expect(items.map((f) => f.comment)).toEqual(['after'])
  })
})

describe('durable notifications of encrypted sessions', () => {
  let fauxqs: RunningFauxqs

  beforeAll(async () => {
    fauxqs = await startFauxqs()
  })
  afterAll(async () => {
    await fauxqs?.stop()
  })

  it('stores payloads sealed while AWS is down; the relay opens and delivers them exactly', async () => {
    const topic = await createTopicWithQueues(fauxqs, 'enc-feedback')
    const queueUrl = await createQueue(fauxqs, 'enc-metadata')
    const port = fauxqs.port
    const config = { ...fauxqs.clientConfig, maxAttempts: 1 }
    const { SNSClient } = await import('@aws-sdk/client-sns')
    const { SQSClient } = await import('@aws-sdk/client-sqs')
    const sns = new SNSClient(config)
    const sqs = new SQSClient(config)
    await fauxqs.stop() // the outage starts

    const mark = marker()
    const dispatcher = new NotificationDispatcher({ maxAttempts: 1 })
    const m = manager('data-outbox', {
      extra: {
        delivery: 'durable',
        dispatcher,
        feedbackHook: createFeedbackSnsHook({ topicArnBad: topic.topicArn, client: sns }),
        metadataHook: createMetadataSqsHook({ queueUrl, client: sqs, metadataFields: ['note'] }),
      },
    })
    await m.updateMetadata({ note: mark })
    await m.addFeedback({ rating: 'down', comment: `comment ${mark}` })
    await dispatcher.flush({ timeoutMs: 5_000 })
    const pending = await t.db.collection('sessions').findOne({ _id: 'data-outbox' as never })
    expect(pending!.outbox).toHaveLength(1)
    expect((pending!.outbox[0].payload as Binary).sub_type).toBe(SEALED_SUBTYPE)
    expect(await storedAnywhere(mark)).toBe(false)

    fauxqs = await startFauxqs({ port }) // the outage ends
    await createTopicWithQueues(fauxqs, 'enc-feedback')
    await createQueue(fauxqs, 'enc-metadata')
    const senders = [...createFeedbackSnsHook({ topicArnBad: topic.topicArn, client: sns }).senders]
    senders.push(...createMetadataSqsHook({ queueUrl, client: sqs, metadataFields: ['note'] }).senders)
    const collections = { sessions: m.collections.sessions, feedback: m.collections.feedback }
    const later = () => new Date(Date.now() + 3_600_000)

    // A relay without the key leaves sealed entries pending.
    const keyless = await relayPendingNotifications({ collections, senders, now: later })
    expect(keyless).toMatchObject({ delivered: 0, failed: 0 })
    // Past the backoff the keyless pass set on the documents.
    const laterStill = () => new Date(Date.now() + 7_200_000)
    const relayed = await relayPendingNotifications({
      collections,
      senders,
      now: laterStill,
      encryption: { keyProvider },
    })
    expect(relayed).toMatchObject({ delivered: 2, failed: 0 })

    const [metadataMessage] = await drain(fauxqs, queueUrl, 1)
    expect(JSON.parse(metadataMessage!.Body!).metadata).toEqual({ note: mark })
    const [feedbackMessage] = await drain(fauxqs, topic.rawQueueUrl, 1)
    expect(feedbackMessage!.Body).toContain(`comment ${mark}`)
    sns.destroy()
    sqs.destroy()
  })
})
