/**
 * The AWS KMS key provider through @aws-sdk/client-kms against local-kms (a KMS emulator built from
 * Go into .cache) and the test database: encrypted sessions round-trip, nothing of the content or the
 * data key is stored in clear, a wrapped key only unwraps for its own session, a rotation from a
 * local master key to KMS keeps sessions readable, and each manager asks KMS once per session.
 */
import { randomBytes } from 'node:crypto'
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { Agent } from '@strands-agents/sdk'
import type { Document, MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAwsKmsKeyProvider, isAwsKmsKeyProviderAvailable } from '../../src/aws/index.js'
import {
  createLocalKeyProvider,
  DecryptionError,
  MongoDBSessionManager,
  MongoDBSessionManagerFactory,
  rotateMasterKey,
  type KeyProvider,
} from '../../src/index.js'
import { ScriptedModel } from '../../src/testing/index.js'
import { startLocalKms, type RunningLocalKms } from '../../tools/local-kms/launcher.js'
import { echoResponder } from '../support/agents.js'
import { countCommands, type CommandLog } from '../support/command-counter.js'
import { storedAnywhere as storedInDatabase } from '../support/raw-scan.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
let client: MongoClient
let log: CommandLog
let kmsServer: RunningLocalKms
let kms: KMSClient
let keyId: string
let decrypts = 0
let generated = 0

beforeAll(async () => {
  t = await openTestDatabase('msm_kms')
  client = await t.newClient({ monitorCommands: true })
  log = countCommands(client)
  kmsServer = await startLocalKms()
  kms = new KMSClient({
    endpoint: kmsServer.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
  kms.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'DecryptCommand') decrypts++
      if (context.commandName === 'GenerateDataKeyCommand') generated++
      return next(args)
    },
    { step: 'initialize' },
  )
  keyId = (await kms.send(new CreateKeyCommand({ Description: 'msm test' }))).KeyMetadata!.KeyId!
}, 300_000)
afterAll(async () => {
  log?.stop()
  kms?.destroy()
  await kmsServer?.stop()
  await t?.cleanup()
})

function manager(sessionId: string, keyProvider: KeyProvider): MongoDBSessionManager {
  return new MongoDBSessionManager({ sessionId, client, databaseName: t.databaseName, encryption: { keyProvider } })
}

function agent(sessionManager: MongoDBSessionManager): Agent {
  return new Agent({ model: new ScriptedModel(echoResponder), sessionManager, printer: false })
}

const storedAnywhere = (needle: Uint8Array) => storedInDatabase(t.db, needle)

describe('createAwsKmsKeyProvider (local-kms)', () => {
  it('is available (the package is a dev dependency)', () => {
    expect(isAwsKmsKeyProviderAvailable()).toBe(true)
  })

  it('encrypts sessions with KMS data keys: round trip, nothing in clear, the request budget holds', async () => {
    const provider = createAwsKmsKeyProvider({ keyId, client: kms })
    const marker = `KMS-${randomBytes(6).toString('hex')}`
    const a = agent(manager('kms-1', provider))
    a.appState.set('note', marker)
    await a.invoke(`hello ${marker}`)
    expect(await storedAnywhere(Buffer.from(marker))).toBe(false)
    const session = await t.db.collection<{ _id: string } & Document>('sessions').findOne({ _id: 'kms-1' })
    expect(session?.data_key?.provider).toBe('aws-kms')

    const factory = new MongoDBSessionManagerFactory({
      client,
      databaseName: t.databaseName,
      encryption: { keyProvider: provider },
    })
    const restored = agent(factory.createSessionManager('kms-1'))
    log.reset()
    await restored.invoke('again')
    expect(log.commands).toEqual(['find', 'find', 'insert', 'update'])
    expect(restored.appState.get('note')).toBe(marker)
    expect(JSON.stringify(restored.messages[0]!.toJSON())).toContain(marker)
  })

  it('asks KMS for a data key only for a new session, not for a new agent of a session it has read', async () => {
    const provider = createAwsKmsKeyProvider({ keyId, client: kms })
    const before = generated
    const m = manager('kms-agents', provider)
    await agent(m).invoke('first agent')
    expect(generated).toBe(before + 1)
    // A second agent's first save makes sure the session exists: its key is already known.
    const second = new Agent({
      model: new ScriptedModel(echoResponder),
      sessionManager: m,
      printer: false,
      id: 'second',
    })
    await second.invoke('second agent')
    expect(generated).toBe(before + 1)
    const restored = new Agent({
      model: new ScriptedModel(echoResponder),
      sessionManager: manager('kms-agents', provider),
      printer: false,
      id: 'second',
    })
    await restored.initialize()
    expect(restored.messages).toHaveLength(2)
  })

  it('a wrapped key only unwraps for its own session (encryption context)', async () => {
    const provider = createAwsKmsKeyProvider({ keyId, client: kms })
    const { plaintext, wrapped } = await provider.generateDataKey('kms-a')
    expect(await provider.unwrapDataKey('kms-a', wrapped)).toEqual(plaintext)
    expect(await storedAnywhere(plaintext)).toBe(false)
    await expect(provider.unwrapDataKey('kms-b', wrapped)).rejects.toBeInstanceOf(DecryptionError)
    const tampered = Buffer.from(wrapped)
    tampered[tampered.length - 1]! ^= 1
    await expect(provider.unwrapDataKey('kms-a', tampered)).rejects.toBeInstanceOf(DecryptionError)
  })

  it('rotates from a local master key to KMS without re-encrypting, and decrypts once per manager', async () => {
    const local = createLocalKeyProvider(randomBytes(32))
    const a = agent(manager('kms-rotate', local))
    await a.invoke('rotate me')
    const provider = createAwsKmsKeyProvider({ keyId, client: kms })
    const result = await rotateMasterKey(manager('kms-rotate', local).collections, { from: local, to: provider })
    expect(result.failed).toEqual([])
    expect(result.rewrapped).toBeGreaterThanOrEqual(1)
    await expect(agent(manager('kms-rotate', local)).initialize()).rejects.toBeInstanceOf(DecryptionError)

    const reader = manager('kms-rotate', provider)
    decrypts = 0
    for (let i = 0; i < 3; i++) {
      const restored = agent(reader)
      await restored.initialize()
      expect(restored.messages.map((m) => m.toJSON())).toEqual(a.messages.map((m) => m.toJSON()))
    }
    expect(decrypts).toBe(1)
  })
})
