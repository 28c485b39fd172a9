/**
 * Region variables. The Python version read `AWS_DEFAULT_REGION`; the AWS SDK v3 clients read only
 * `AWS_REGION`. The clients this library builds itself (no `client` option) fall back to
 * `AWS_DEFAULT_REGION` when neither the option, the queue URL nor `AWS_REGION` names a region; a
 * client you build yourself does not.
 */
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createMetadataSqsHook } from '../../src/aws/index.js'
import { NotificationDispatcher } from '../../src/notifications/dispatcher.js'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { createQueue, drain } from './support/aws.js'
import { HookHarness } from './support/harness.js'

let fauxqs: RunningFauxqs
let database: TestDatabase
/** The emulator's queue, addressed by loopback IP: the URL names no region. */
let queueUrl: string
let hostQueueUrl: string

beforeAll(async () => {
  fauxqs = await startFauxqs()
  database = await openTestDatabase('msm_aws_region')
  hostQueueUrl = await createQueue(fauxqs, 'region-env')
  queueUrl = `${fauxqs.endpoint}/${new URL(hostQueueUrl).pathname.split('/').filter(Boolean).join('/')}`
})

afterAll(async () => {
  await fauxqs?.stop()
  await database?.cleanup()
})

afterEach(() => {
  vi.unstubAllEnvs()
})

function onlyDefaultRegion(): void {
  vi.stubEnv('AWS_REGION', '')
  vi.stubEnv('AWS_DEFAULT_REGION', 'eu-west-1')
  vi.stubEnv('AWS_ENDPOINT_URL', fauxqs.endpoint)
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test')
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test')
}

describe('AWS_DEFAULT_REGION', () => {
  it('is honoured by the client the library builds: the event reaches the queue', async () => {
    onlyDefaultRegion()
    const hook = createMetadataSqsHook({ queueUrl, metadataFields: ['status'] }) // no client, no region
    const dispatcher = new NotificationDispatcher({ maxAttempts: 2, baseDelayMs: 10 })
    const harness = new HookHarness({ db: database.db, dispatcher })
    await harness.createSession('region-1')
    await harness.updateMetadata('region-1', hook, { status: 'open' })
    await dispatcher.close()
    expect(dispatcher.stats()).toMatchObject({ sent: 1, failed: 0 })
    const [message] = await drain(fauxqs, hostQueueUrl, 1)
    expect(JSON.parse(message!.Body!)).toMatchObject({ session_id: 'region-1', metadata: { status: 'open' } })
  })

  it('is not read by an SDK v3 client you build yourself', async () => {
    onlyDefaultRegion()
    const own = new SQSClient({})
    try {
      await expect(own.send(new ListQueuesCommand({}))).rejects.toThrow(/region/i)
    } finally {
      own.destroy()
    }
  })

  it('without any region: the hook fails at creation, naming both variables', () => {
    vi.stubEnv('AWS_REGION', '')
    vi.stubEnv('AWS_DEFAULT_REGION', '')
    expect(() => createMetadataSqsHook({ queueUrl, metadataFields: ['status'] })).toThrow(
      /names no region: pass region \(or client\), or set AWS_REGION \(or AWS_DEFAULT_REGION\)/,
    )
  })
})
