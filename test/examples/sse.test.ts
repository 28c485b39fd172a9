/**
 * The SSE back-propagation example: metadata updates go through the SQS hook to fauxqs, the
 * consumer reads the queue, and real HTTP clients receive them as Server-Sent Events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalAws, type ExampleAws } from '../../examples/shared/local-aws.js'
import { parseMetadataEvent } from '../../examples/sse/consumer.js'
import { createSseServer, type SseServer } from '../../examples/sse/server.js'
import { MongoDBSessionManagerFactory } from '../../src/index.js'
import { createMetadataSqsHook } from '../../src/aws/index.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

/** A minimal EventSource over fetch: collects `event`/`data` frames from a real HTTP stream. */
class SseClient {
  readonly events: { event: string; data: Record<string, unknown> }[] = []
  readonly #controller = new AbortController()
  #waiters: (() => void)[] = []

  static async open(url: string): Promise<SseClient> {
    const client = new SseClient()
    const response = await fetch(url, { signal: client.#controller.signal, headers: { accept: 'text/event-stream' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    void client.#read(response.body!)
    return client
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(frame)?.[1]
          const data = /^data: (.*)$/m.exec(frame)?.[1]
          if (event && data) {
            this.events.push({ event, data: JSON.parse(data) })
            this.#waiters.splice(0).forEach((wake) => wake())
          }
        }
      }
    } catch {
      // aborted by close()
    }
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.events.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} SSE events, got ${this.events.length}`)
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }

  close(): void {
    this.#controller.abort()
  }
}

let db: TestDatabase
let aws: ExampleAws
let factory: MongoDBSessionManagerFactory
let sse: SseServer
let base: string

beforeAll(async () => {
  db = await openTestDatabase('msm_sse')
  aws = await startLocalAws()
  factory = new MongoDBSessionManagerFactory({
    client: db.client,
    databaseName: db.databaseName,
    metadataHook: createMetadataSqsHook({
      queueUrl: aws.metadataQueueUrl,
      metadataFields: ['status', 'progress', 'current_step'],
      client: aws.sqs,
    }),
  })
  sse = createSseServer({ factory, sqs: aws.sqs, queueUrl: aws.metadataQueueUrl, waitTimeSeconds: 1 })
  await new Promise<void>((resolve) => sse.server.listen(0, '127.0.0.1', resolve))
  const address = sse.server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

afterAll(async () => {
  await sse.close()
  await factory.close()
  await aws.stop()
  await db.cleanup()
})

async function patch(sessionId: string, body: unknown, method = 'PATCH'): Promise<Response> {
  return fetch(`${base}/sessions/${sessionId}/metadata`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('SSE back-propagation example', () => {
  it('streams metadata updates of a session to its browsers only', async () => {
    const browser = await SseClient.open(`${base}/sessions/workflow-123/events`)
    const second = await SseClient.open(`${base}/sessions/workflow-123/events`)
    const other = await SseClient.open(`${base}/sessions/other-1/events`)
    expect(sse.hub.count('workflow-123')).toBe(2)

    const updated = await patch('workflow-123', {
      status: 'running',
      progress: 50,
      current_step: 'processing_data',
      secret: 'x',
    })
    expect(updated.status).toBe(200)
    await browser.waitFor(1)
    expect(browser.events[0]).toMatchObject({
      event: 'metadata_update',
      data: {
        type: 'metadata_update',
        session_id: 'workflow-123',
        operation: 'update',
        data: { status: 'running', progress: 50, current_step: 'processing_data' },
      },
    })
    expect(browser.events[0]!.data.data).not.toHaveProperty('secret')

    expect((await patch('workflow-123', { keys: ['progress'] }, 'DELETE')).status).toBe(200)
    await browser.waitFor(2)
    expect(browser.events[1]!.data).toMatchObject({ operation: 'delete', data: { progress: null } })
    await second.waitFor(2)
    expect(second.events.map((e) => e.data.operation)).toEqual(['update', 'delete'])
    expect(other.events).toEqual([])

    // Only unlisted fields changed: nothing is sent.
    expect((await patch('workflow-123', { secret: 'y' })).status).toBe(200)
    // Bad input is refused before anything is written or sent.
    const bad = await patch('workflow-123', { $set: { status: 'hacked' } })
    expect(bad.status).toBe(400)
    expect((await patch('workflow-123', { status: 'done' })).status).toBe(200)
    await browser.waitFor(3)
    expect(browser.events[2]!.data).toMatchObject({ operation: 'update', data: { status: 'done' } })
    expect(browser.events).toHaveLength(3)

    for (const client of [browser, second, other]) client.close()
  })

  it('ignores messages that are not metadata events', () => {
    expect(parseMetadataEvent('not json')).toBeUndefined()
    expect(parseMetadataEvent(JSON.stringify({ event: 'other', session_id: 's' }))).toBeUndefined()
    expect(
      parseMetadataEvent(
        JSON.stringify({ event: 'metadata_update', session_id: 's', operation: 'update', metadata: { a: 1 } }),
      ),
    ).toMatchObject({ data: { a: 1 } })
  })
})
