/**
 * WebSocket metadata push: the official ApiGatewayManagementApiClient over real HTTP against a small
 * local stand-in for the API Gateway management endpoint (`POST /<stage>/@connections/<id>`; 410 +
 * `GoneException` for a closed connection). Connection ids live on the session document in MongoDB.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi'
import { createServer, type Server } from 'node:http'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createMetadataWebSocketHook,
  createWebSocketConnectionRegistry,
  listWebSocketConnections,
  registerWebSocketConnection,
  removeWebSocketConnection,
  type WebSocketConnectionRegistry,
} from '../../src/aws/index.js'
import { ConfigurationError, NotFoundError, ValidationError } from '../../src/errors.js'
import { NotificationDispatcher } from '../../src/notifications/dispatcher.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'
import { HookHarness } from './support/harness.js'

interface Post {
  connectionId: string
  body: string
  authorization: string | undefined
}

let server: Server
let endpoint: string
let client: ApiGatewayManagementApiClient
const posts: Post[] = []
const gone = new Set<string>()
/** Connection id → how many more posts to it fail with a 500. */
const failing = new Map<string, number>()
let database: TestDatabase
let dispatcher: NotificationDispatcher
let harness: HookHarness
let registry: WebSocketConnectionRegistry

beforeAll(async () => {
  server = createServer((req, res) => {
    const match = /^\/prod\/@connections\/([^/?]+)$/.exec(req.url ?? '')
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      if (req.method !== 'POST' || !match) {
        res.writeHead(404).end()
        return
      }
      const connectionId = decodeURIComponent(match[1]!)
      if (gone.has(connectionId)) {
        res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' })
        res.end(JSON.stringify({ message: 'Gone' }))
        return
      }
      const failuresLeft = failing.get(connectionId) ?? 0
      if (failuresLeft > 0) {
        failing.set(connectionId, failuresLeft - 1)
        res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerErrorException' })
        res.end(JSON.stringify({ message: 'boom' }))
        return
      }
      posts.push({ connectionId, body, authorization: req.headers.authorization })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  endpoint = `http://127.0.0.1:${address.port}/prod`
  client = new ApiGatewayManagementApiClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  })
  database = await openTestDatabase('msm_aws_ws')
})

afterAll(async () => {
  client?.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await database?.cleanup()
})

beforeEach(() => {
  posts.length = 0
  gone.clear()
  failing.clear()
  dispatcher = new NotificationDispatcher({ baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 })
  harness = new HookHarness({ db: database.db, dispatcher })
  registry = createWebSocketConnectionRegistry(harness.sessions)
})

afterEach(async () => {
  await dispatcher.close()
})

describe('WebSocket connection registry', () => {
  it('registers (idempotently), lists and removes connection ids on the session document', async () => {
    await harness.createSession('ws-reg')
    await registerWebSocketConnection(harness.sessions, 'ws-reg', 'conn-A=')
    await registerWebSocketConnection(harness.sessions, 'ws-reg', 'conn-A=')
    await registry.register('ws-reg', 'conn-B=')
    expect(await listWebSocketConnections(harness.sessions, 'ws-reg')).toEqual(['conn-A=', 'conn-B='])
    await removeWebSocketConnection(harness.sessions, 'ws-reg', 'conn-A=')
    await registry.remove('ws-reg', 'not-there')
    expect(await registry.list('ws-reg')).toEqual(['conn-B='])
    expect(await registry.list('no-such-session')).toEqual([])
  })

  it('rejects unknown sessions and malformed connection ids', async () => {
    await expect(registry.register('no-such-session', 'c1')).rejects.toThrow(NotFoundError)
    await harness.createSession('ws-bad')
    await expect(registry.register('ws-bad', 'has space')).rejects.toThrow(ValidationError)
    await expect(registry.register('ws-bad', '')).rejects.toThrow(ValidationError)
  })
})

describe('createMetadataWebSocketHook', () => {
  it('posts the same JSON as SQS to every registered connection, signed, and prunes a gone one', async () => {
    const hook = createMetadataWebSocketHook({
      endpoint,
      metadataFields: ['status', 'progress'],
      client,
      connections: registry,
    })
    await harness.createSession('ws-1')
    await registry.register('ws-1', 'viewer-1')
    await registry.register('ws-1', 'viewer-2')
    await registry.register('ws-1', 'closed-tab')
    gone.add('closed-tab')

    await harness.updateMetadata('ws-1', hook, { status: 'running', progress: 10, secret: 'x' })
    await harness.deleteMetadata('ws-1', hook, ['progress'])
    await dispatcher.flush()

    expect(dispatcher.stats()).toMatchObject({ sent: 2, failed: 0 })
    expect(posts.map((p) => p.connectionId)).toEqual(['viewer-1', 'viewer-2', 'viewer-1', 'viewer-2'])
    expect(posts.every((p) => p.authorization?.startsWith('AWS4-HMAC-SHA256 '))).toBe(true)
    const first = JSON.parse(posts[0]!.body) as Record<string, unknown>
    expect(Object.keys(first)).toEqual(['session_id', 'event', 'operation', 'metadata', 'timestamp'])
    expect(first).toMatchObject({
      session_id: 'ws-1',
      event: 'metadata_update',
      operation: 'update',
      metadata: { status: 'running', progress: 10 },
    })
    expect(JSON.parse(posts[2]!.body)).toMatchObject({ operation: 'delete', metadata: { progress: null } })
    expect(await registry.list('ws-1')).toEqual(['viewer-1', 'viewer-2'])
  })

  it('finds the registry through the manager (HookContext.manager.webSocketConnections)', async () => {
    const viaManager = new HookHarness({ db: database.db, dispatcher, manager: { webSocketConnections: registry } })
    const hook = createMetadataWebSocketHook({ endpoint, metadataFields: ['status'], client })
    expect(hook.senders).toHaveLength(0)
    await viaManager.createSession('ws-2')
    await registry.register('ws-2', 'only-viewer')
    await viaManager.updateMetadata('ws-2', hook, { status: 'done' })
    await dispatcher.flush()
    expect(posts.map((p) => [p.connectionId, JSON.parse(p.body).metadata])).toEqual([
      ['only-viewer', { status: 'done' }],
    ])
  })

  it('a failing connection is retried without posting twice to the ones already reached', async () => {
    const hook = createMetadataWebSocketHook({ endpoint, metadataFields: ['status'], client, connections: registry })
    await harness.createSession('ws-3')
    await registry.register('ws-3', 'ok-viewer')
    await registry.register('ws-3', 'flaky-viewer')
    failing.set('flaky-viewer', 1)
    await harness.updateMetadata('ws-3', hook, { status: 'x' })
    await dispatcher.flush()
    expect(dispatcher.stats().retried).toBe(1)
    expect(failing.get('flaky-viewer')).toBe(0)
    expect(dispatcher.stats()).toMatchObject({ sent: 1, failed: 0 })
    expect(posts.map((p) => p.connectionId).sort()).toEqual(['flaky-viewer', 'ok-viewer'])
  })

  it("timestampFormat: 'python-utc' writes the timestamp as Python's aware isoformat()", async () => {
    const hook = createMetadataWebSocketHook({
      endpoint,
      metadataFields: ['status'],
      client,
      connections: registry,
      timestampFormat: 'python-utc',
    })
    await harness.createSession('ws-ts')
    await registry.register('ws-ts', 'viewer')
    await harness.updateMetadata('ws-ts', hook, { status: 'x' })
    await dispatcher.flush()
    const { timestamp } = JSON.parse(posts[0]!.body) as { timestamp: string }
    expect(timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}000)?\+00:00$/)
  })

  it('malformed endpoints fail at creation with a ConfigurationError', () => {
    expect(() =>
      createMetadataWebSocketHook({ endpoint: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod' }),
    ).toThrow(ConfigurationError)
    expect(() => createMetadataWebSocketHook({ endpoint: 'not a url' })).toThrow(/endpoint: 'not a url' is not a URL/)
  })
})
