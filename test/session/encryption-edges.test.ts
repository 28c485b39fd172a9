/**
 * Encryption at rest at its edges, against the real test server: content that rides outside the
 * message (a failed tool's error, prompt metadata), sessions deleted and created again under the
 * same id while a manager holds the old key, key providers that fail for a while, listings with an
 * unreadable session, and writers configured without the key.
 */
import { randomBytes } from 'node:crypto'
import { Agent, tool } from '@strands-agents/sdk'
import { type Document, type MongoClient } from 'mongodb'
import { z } from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ConfigurationError,
  createLocalKeyProvider,
  DecryptionError,
  deleteSessions,
  listSessions,
  MongoSessionError,
  SessionConflictError,
  type NotFoundError,
  NotificationDispatcher,
  relayPendingNotifications,
  type KeyProvider,
  type MetadataHook,
  type Notification,
  type NotificationSender,
} from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { collectionsHolding, encryptedManagers } from '../support/raw-scan.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let client: MongoClient
const keyProvider = createLocalKeyProvider(randomBytes(32))

beforeAll(async () => {
  t = await openTestDatabase('msm_encryption_edges')
  client = await t.newClient()
})
afterAll(async () => {
  await t.cleanup()
})

const marker = () => `MARK-${randomBytes(6).toString('hex')}`

const manager = encryptedManagers(() => ({ client, databaseName: t.databaseName }), keyProvider)

const whereStored = (needle: string) => collectionsHolding(t.db, needle)

describe('user content in clear with encryption on', () => {
  it('a failing tool: its error text (user/model content) is not stored in clear', async () => {
    const mark = marker()
    const failing = tool({
      name: 'lookup_customer',
      description: 'fails, quoting its input like real tools do',
      inputSchema: z.object({ email: z.string() }),
      callback: ({ email }) => {
        throw new Error(`no customer with email ${email}`)
      },
    })
    const m = manager('rev-tool-error')
    const agent = new Agent({
      model: new ScriptedModel([
        { toolUse: { name: 'lookup_customer', input: { email: `${mark}@example.com` } } },
        { text: 'sorry' },
      ]),
      tools: [failing],
      sessionManager: m,
      printer: false,
    })
    await agent.invoke('find me')
    expect(await whereStored(mark)).toEqual([])
    // The failure itself is still recorded (in clear, as a metric).
    const stored = await t.db
      .collection('messages')
      .findOne({ session_id: 'rev-tool-error', invocation_metrics: { $exists: true } })
    expect(stored?.invocation_metrics?.tool_calls).toMatchObject([{ name: 'lookup_customer', status: 'error' }])
  })
})

describe('stale data key in a long-lived manager', () => {
  // The manager holds the session's key either because it created the session or because it read it.
  it.each([
    ['created the session', true],
    ['read the session', false],
  ])(
    'a turn sealed under the key of a session deleted and created again meanwhile is refused (manager %s)',
    async (_, creates) => {
      const id = creates ? 'rev-stale-key' : 'rev-stale-key-read'
      const a = manager(id)
      if (creates) await a.updateMetadata({ note: 'from A' })
      else {
        await manager(id).updateMetadata({ note: 'from A' })
        expect(await a.getMetadata()).toEqual({ note: 'from A' })
      }
      const recreate = tool({
        name: 'recreate',
        description: 'meanwhile, another process deletes the session and a new one starts under the same id',
        inputSchema: z.object({}),
        callback: async () => {
          await deleteSessions(a.collections, { sessionIds: [id] })
          await manager(id).updateMetadata({ note: 'from B' })
          return 'ok'
        },
      })
      const agent = new Agent({
        model: new ScriptedModel([{ toolUse: { name: 'recreate', input: {} } }, { text: 'done' }]),
        tools: [recreate],
        sessionManager: a,
        printer: false,
      })
      await expect(agent.invoke('hello')).rejects.toBeInstanceOf(SessionConflictError)
      // Nothing A sealed under the old key was committed: the new session reads whole.
      expect(await manager(id).getMetadata()).toEqual({ note: 'from B' })
      const reader = new Agent({ model: new ScriptedModel([]), sessionManager: manager(id), printer: false })
      await expect(reader.initialize()).resolves.toBeUndefined()
      expect(reader.messages).toEqual([])
      expect(await t.db.collection('messages').countDocuments({ session_id: id })).toBe(0)
    },
  )

  it('two writers installing a key on a session written before encryption both end up with the stored one', async () => {
    const id = 'rev-install-race'
    await manager(id, { provider: null }).updateMetadata({ old: 'plain' })
    // B generates its key first but is held back until A has installed its own (a forced interleaving).
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let generating!: () => void
    const generated = new Promise<void>((resolve) => (generating = resolve))
    const held: KeyProvider = {
      kind: keyProvider.kind,
      async generateDataKey(sessionId) {
        const key = await keyProvider.generateDataKey(sessionId)
        generating()
        await gate
        return key
      },
      wrapDataKey: (sessionId, plaintext) => keyProvider.wrapDataKey(sessionId, plaintext),
      unwrapDataKey: (sessionId, wrapped) => keyProvider.unwrapDataKey(sessionId, wrapped),
    }
    const b = manager(id, { provider: held }).updateMetadata({ fromB: 'b' })
    await generated
    await manager(id).updateMetadata({ fromA: 'a' })
    release()
    await b
    expect(await manager(id).getMetadata()).toEqual({ old: 'plain', fromA: 'a', fromB: 'b' })
  })

  it('a long-lived manager reads feedback of a session recreated under the same id', async () => {
    const id = 'rev-stale-read'
    const a = manager(id)
    await a.addFeedback({ rating: 'up', comment: 'first' })
    expect((await a.getFeedbacks()).items.map((f) => f.comment)).toEqual(['first'])
    await deleteSessions(a.collections, { sessionIds: [id] })
    await manager(id).addFeedback({ rating: 'down', comment: 'second' })
    // A fresh manager reads it; the long-lived one should too.
    expect((await manager(id).getFeedbacks()).items.map((f) => f.comment)).toEqual(['second'])
    expect((await a.getFeedbacks()).items.map((f) => f.comment)).toEqual(['second'])
  })
})

describe('relay and sealed outbox entries', () => {
  const sent: Notification[] = []
  let failNext = 0
  const sender: NotificationSender = {
    channel: 'test',
    async send(notification) {
      if (failNext > 0) {
        failNext -= 1
        throw new Error('service unavailable')
      }
      sent.push(notification)
    },
  }
  const hook: MetadataHook = (original, action, _sessionId, args, context) => {
    if (action === 'update') context.notify({ channel: 'test', target: 't', payload: { args } }, sender)
    return original(args)
  }

  it('a transient key-provider failure (KMS throttling) does not give up the notification', async () => {
    const id = 'rev-relay-transient'
    const dispatcher = new NotificationDispatcher({ maxAttempts: 1 })
    const m = manager(id, { extra: { delivery: 'durable', dispatcher, metadataHook: hook } })
    failNext = 1 // the in-process delivery fails: the entry stays for the relay
    await m.updateMetadata({ note: 'x' })
    await dispatcher.flush({ timeoutMs: 5_000 })
    const pending = await t.db.collection('sessions').findOne({ _id: id as never })
    expect(pending!.outbox).toHaveLength(1)

    // What createAwsKmsKeyProvider throws on ThrottlingException: a DecryptionError.
    let throttled = 1
    const flaky: KeyProvider = {
      kind: keyProvider.kind,
      generateDataKey: (s) => keyProvider.generateDataKey(s),
      wrapDataKey: (s, p) => keyProvider.wrapDataKey(s, p),
      async unwrapDataKey(s, w) {
        if (throttled-- > 0) throw new DecryptionError(`session '${s}': KMS Decrypt failed (ThrottlingException)`)
        return keyProvider.unwrapDataKey(s, w)
      },
    }
    const sessions = m.collections.sessions
    const later = () => new Date(Date.now() + 3_600_000)
    const first = await relayPendingNotifications({
      collections: { sessions },
      senders: [sender],
      now: later,
      encryption: { keyProvider: flaky },
    })
    const afterFirst = await t.db.collection('sessions').findOne({ _id: id as never })
    expect(afterFirst?.outbox_failed ?? []).toHaveLength(0)
    const second = await relayPendingNotifications({
      collections: { sessions },
      senders: [sender],
      now: () => new Date(Date.now() + 7_200_000),
      encryption: { keyProvider: flaky },
    })
    expect(first.failed + second.failed).toBe(0)
    expect(sent.some((n) => n.sessionId === id)).toBe(true)
  })
})

describe('catalogue with a key provider', () => {
  it('one session being deleted (data key already removed) does not fail the listing of the others', async () => {
    const app = `rev-app-${randomBytes(3).toString('hex')}`
    const extra = { applicationName: app }
    await manager('rev-list-ok', { extra }).updateMetadata({ note: 'fine' })
    await manager('rev-list-gone', { extra }).updateMetadata({ note: 'being deleted' })
    // deleteSessions removes the data key first, then the documents: a listing can run in between.
    await t.db.collection('sessions').updateOne({ _id: 'rev-list-gone' as never }, { $unset: { data_key: '' } })
    const page = await listSessions(manager('rev-list-ok').collections, { applicationName: app }, { keyProvider })
    expect(page.items.find((s) => s.sessionId === 'rev-list-ok')?.metadata).toEqual({ note: 'fine' })
  })
})

describe('agent configuration with encryption on', () => {
  it('updateAgentConfig on an unknown session: NotFoundError(session), and no session is created', async () => {
    const outcomes: Document[] = []
    for (const [id, provider] of [
      ['rev-config-plain', null],
      ['rev-config-sealed', keyProvider],
    ] as const) {
      const error = await manager(id, { provider })
        .updateAgentConfig('agent', { systemPrompt: 'secret prompt' })
        .catch((e: unknown) => e)
      const created = await t.db.collection('sessions').countDocuments({ _id: id as never })
      outcomes.push({ id, resource: (error as NotFoundError).resource, created })
    }
    expect(outcomes).toEqual([
      { id: 'rev-config-plain', resource: 'session', created: 0 },
      { id: 'rev-config-sealed', resource: 'session', created: 0 },
    ])
  })

  it('prompt metadata `extra` (free-form) is stored sealed or documented as clear', async () => {
    const mark = marker()
    const m = manager('rev-prompt-meta')
    const agent = new Agent({ model: new ScriptedModel([{ text: 'hi' }]), sessionManager: m, printer: false })
    await agent.invoke('hello')
    await m.setPromptMetadata('agent', { promptName: 'support', extra: { note: mark } })
    expect(await whereStored(mark)).toEqual([])
  })
})

describe('typed errors', () => {
  it('restoring an immutable snapshot whose chunks are missing throws a library error', async () => {
    const m = manager('rev-snapshot', { extra: { snapshotTrigger: () => true } })
    const agent = new Agent({ model: new ScriptedModel([{ text: 'hi' }]), sessionManager: m, printer: false })
    await agent.invoke('hello')
    const [snapshotId] = await m.listSnapshotIds({ target: agent })
    await t.db.collection('snapshot_chunks').deleteMany({ session_id: 'rev-snapshot' })
    const target = new Agent({ model: new ScriptedModel([]), printer: false })
    const error = await manager('rev-snapshot')
      .restoreSnapshot({ target, snapshotId: snapshotId! })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MongoSessionError)
  })
})

describe('a writer without the key on an encrypted session', () => {
  it('a manager configured without encryption cannot add clear content to an encrypted session', async () => {
    const mark = marker()
    const id = 'rev-keyless-writer'
    await manager(id).updateMetadata({ note: 'sealed' }) // an encrypted session (it has a data key)
    // A service deployed without `encryption` (misconfiguration) writes to it.
    const outcome = await manager(id, { provider: null })
      .addFeedback({ rating: 'down', comment: `comment ${mark}` })
      .then(
        () => 'stored',
        (e: unknown) => e,
      )
    expect(outcome).toBeInstanceOf(ConfigurationError)
    expect(await whereStored(mark)).toEqual([])
    // So are metadata writes (the sealed metadata cannot even be read to merge into) and turns.
    await expect(manager(id, { provider: null }).updateMetadata({ note: mark })).rejects.toBeInstanceOf(DecryptionError)
    await t.db.collection('sessions').updateOne({ _id: id as never }, { $set: { metadata: {} } })
    await expect(manager(id, { provider: null }).updateMetadata({ note: mark })).rejects.toBeInstanceOf(
      ConfigurationError,
    )
    const keyless = new Agent({
      model: new ScriptedModel([{ text: 'hi' }]),
      sessionManager: manager(id, { provider: null }),
      printer: false,
    })
    await expect(keyless.invoke(`hello ${mark}`)).rejects.toBeInstanceOf(ConfigurationError)
    expect(await whereStored(mark)).toEqual([])
  })
})
