/**
 * The CLI as a real process: the shebang entry point, signals (an interrupted `sessions delete`
 * leaves every session whole or gone), and the relay delivering what a crashed writer left behind.
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocalKeyProvider, MongoDBSessionManager, NotificationDispatcher } from '../../src/index.js'
import { createMetadataSqsHook } from '../../src/aws/index.js'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { receiveMessages } from '../../examples/shared/queues.js'
import { CreateQueueCommand } from '@aws-sdk/client-sqs'
import { documentsOf, repoRoot, runCliProcess, seedSession, spawnCli, type SeededSession } from './support.js'

let db: TestDatabase

beforeAll(async () => {
  db = await openTestDatabase('msm_cli_proc')
})

afterAll(async () => {
  await db.cleanup()
})

describe('entry point', () => {
  it('starts with a node shebang and runs as a process', async () => {
    expect((await readFile(path.join(repoRoot, 'src/cli/main.ts'), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(
      true,
    )
    await seedSession(db, 'proc-1')
    const result = await runCliProcess(['sessions', 'list', '--json', '--db', db.databaseName], {
      MONGODB_URI: db.uri,
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).items.map((i: { sessionId: string }) => i.sessionId)).toContain('proc-1')
    const usage = await runCliProcess(['sessions', 'list', '--limit', '-3'], { MONGODB_URI: db.uri })
    expect(usage.code).toBe(2)
  })
})

describe('sessions delete interrupted by a signal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s mid-way: each session is either complete or has no documents at all',
    async (signal) => {
      const prefix = signal.toLowerCase()
      const seeded: SeededSession[] = []
      for (let i = 0; i < 40; i++) {
        seeded.push(
          await seedSession(db, `${prefix}-${String(i).padStart(2, '0')}`, {
            feedback: i % 2 ? ['up'] : ['down', null],
          }),
        )
      }
      const child = spawnCli(
        ['sessions', 'delete', ...seeded.map((s) => s.sessionId), '--yes', '--db', db.databaseName],
        { MONGODB_URI: db.uri },
      )
      let stdout = ''
      let stderr = ''
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
      await new Promise<void>((resolve) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          stdout += chunk.toString()
          // Interrupt after the first few sessions are gone, while the rest are still to do.
          if ((stdout.match(/^deleted /gm) ?? []).length >= 3) resolve()
        })
      })
      child.kill(signal)
      const [code] = await exited
      expect(stderr).toContain('interrupted:')
      expect(code).toBe(130)
      let gone = 0
      let whole = 0
      for (const session of seeded) {
        const docs = await documentsOf(db, session.sessionId)
        const isGone = docs.sessions === 0 && docs.messages === 0 && docs.feedback === 0
        const isWhole = docs.sessions === 1 && docs.messages === session.messages && docs.feedback === session.feedback
        expect(isGone || isWhole, `${session.sessionId}: ${JSON.stringify(docs)}`).toBe(true)
        if (isGone) gone += 1
        else whole += 1
      }
      // It really stopped mid-way, and reported exactly what it deleted.
      expect(gone).toBeGreaterThanOrEqual(3)
      expect(whole).toBeGreaterThan(0)
      expect((stdout.match(/^deleted /gm) ?? []).length).toBe(gone)
      // Running it again finishes the job.
      const again = await runCliProcess(
        ['sessions', 'delete', ...seeded.map((s) => s.sessionId), '--yes', '--missing-ok', '--db', db.databaseName],
        { MONGODB_URI: db.uri },
      )
      expect(again.code).toBe(0)
      for (const session of seeded) {
        expect(await documentsOf(db, session.sessionId)).toEqual({ sessions: 0, messages: 0, feedback: 0 })
      }
    },
  )
})

describe('relay', () => {
  let fauxqs: RunningFauxqs

  beforeAll(async () => {
    fauxqs = await startFauxqs()
  })

  afterAll(async () => {
    await fauxqs.stop()
  })

  // An encrypted session's outbox payload is sealed: the relay opens it with the master key, read
  // from the environment variable the command names; without it, the entry stays pending.
  it.each([
    ['a plain session', null],
    ['an encrypted session (--master-key-env)', randomBytes(32).toString('base64')],
  ])('delivers a durable notification its writer could not send: %s', async (_, masterKey) => {
    const sessionId = masterKey ? 'relay-2' : 'relay-1'
    const queueUrl = (await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: `relay-cli-${sessionId}` }))).QueueUrl!
    // The writer's SQS endpoint is down: the event stays in the session's outbox.
    const deadClient = new SQSClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    })
    const manager = new MongoDBSessionManager({
      sessionId,
      client: db.client,
      databaseName: db.databaseName,
      delivery: 'durable',
      dispatcher: new NotificationDispatcher({ maxAttempts: 1 }),
      metadataHook: createMetadataSqsHook({ queueUrl, metadataFields: ['status'], client: deadClient }),
      ...(masterKey && { encryption: { keyProvider: createLocalKeyProvider(masterKey) } }),
    })
    await manager.updateMetadata({ status: 'escalated' })
    await manager.close()
    deadClient.destroy()
    const sessions = db.db.collection('sessions')
    expect((await sessions.findOne({ _id: sessionId as never }))?.outbox).toHaveLength(1)
    // Make it due now (the relay leaves fresh entries to their writer for a minute).
    await sessions.updateOne({ _id: sessionId as never }, { $set: { 'outbox.0.due_at': new Date(0) } })

    const relay = ['relay', '--once', '--json', '--channels', 'sqs', '--endpoint-url', fauxqs.endpoint]
    const env = {
      MONGODB_URI: db.uri,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
    }
    if (masterKey) {
      const keyless = await runCliProcess([...relay, '--db', db.databaseName], env)
      expect(JSON.parse(keyless.stdout)).toMatchObject({ delivered: 0, failed: 0 })
      // Past the backoff that pass set on the document.
      await sessions.updateOne({ _id: sessionId as never }, { $unset: { outbox_lease_until: '' } })
    }
    const result = await runCliProcess(
      [...relay, '--db', db.databaseName, ...(masterKey ? ['--master-key-env', 'TEST_MASTER_KEY'] : [])],
      { ...env, ...(masterKey && { TEST_MASTER_KEY: masterKey }) },
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    if (masterKey) expect(result.stdout + result.stderr).not.toContain(masterKey)
    expect(JSON.parse(result.stdout)).toMatchObject({ delivered: 1, failed: 0 })
    const [message] = await receiveMessages(fauxqs.sqs, queueUrl, 1)
    expect(JSON.parse(message!.Body!)).toMatchObject({
      session_id: sessionId,
      event: 'metadata_update',
      operation: 'update',
      metadata: { status: 'escalated' },
    })
    expect((await sessions.findOne({ _id: sessionId as never }))?.outbox ?? []).toHaveLength(0)
  })
})
