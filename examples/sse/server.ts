/**
 * The SSE back-propagation pattern end to end, on Node's `http`:
 *
 *   browser ──PATCH /sessions/:id/metadata──▶ backend ──updateMetadata──▶ MongoDB
 *                                                 └── metadata SQS hook ──▶ SQS queue
 *   browser ◀──SSE /sessions/:id/events── hub ◀── consumer (long-polls SQS)
 *
 * The backend and the consumer are often different services; here they share one process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { MongoSessionError, type MongoDBSessionManagerFactory } from '../../src/index.js'
import { startMetadataConsumer, type MetadataConsumer } from './consumer.js'
import { SseHub } from './hub.js'

export interface SseServerOptions {
  /** Factory whose managers carry the metadata SQS hook. */
  factory: MongoDBSessionManagerFactory
  sqs: SQSClient
  queueUrl: string
  waitTimeSeconds?: number
  log?: (line: string) => void
}

export interface SseServer {
  server: Server
  hub: SseHub
  consumer: MetadataConsumer
  close(): Promise<void>
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let body = ''
  for await (const chunk of request) {
    body += chunk
    if (body.length > 64 * 1024) throw Object.assign(new Error('body too large'), { status: 413 })
  }
  try {
    return JSON.parse(body)
  } catch {
    throw Object.assign(new Error('body must be JSON'), { status: 400 })
  }
}

function send(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(value))
}

export function createSseServer(options: SseServerOptions): SseServer {
  const hub = new SseHub()
  const log = options.log ?? (() => {})
  const consumer = startMetadataConsumer({
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    ...(options.waitTimeSeconds !== undefined && { waitTimeSeconds: options.waitTimeSeconds }),
    onEvent: (frame) => {
      const n = hub.broadcast(frame)
      log(`metadata ${frame.operation} for ${frame.session_id} → ${n} browser(s)`)
    },
    onError: (error) => log(`consumer: ${error instanceof Error ? error.message : String(error)}`),
  })
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const match = /^\/sessions\/([^/]+)\/(events|metadata)$/.exec(url.pathname)
    if (!match) return send(response, 404, { error: 'not found' })
    const sessionId = decodeURIComponent(match[1]!)
    if (match[2] === 'events' && request.method === 'GET') {
      if (!/^[a-z0-9_-]{1,128}$/.test(sessionId)) return send(response, 400, { error: 'invalid session id' })
      return hub.subscribe(sessionId, response)
    }
    if (match[2] === 'metadata' && (request.method === 'PATCH' || request.method === 'DELETE')) {
      void (async () => {
        try {
          const manager = options.factory.createSessionManager(sessionId)
          const body = await readJson(request)
          const result =
            request.method === 'PATCH'
              ? await manager.updateMetadata(body as Record<string, never>)
              : await manager.deleteMetadata((body as { keys?: string[] }).keys as string[])
          send(response, 200, result)
        } catch (error) {
          const status =
            error instanceof MongoSessionError && error.code === 'MSM_VALIDATION'
              ? 400
              : ((error as { status?: number }).status ?? 500)
          send(response, status, { error: status === 500 ? 'internal error' : (error as Error).message })
        }
      })()
      return
    }
    send(response, 405, { error: 'method not allowed' })
  })
  return {
    server,
    hub,
    consumer,
    async close() {
      hub.close()
      await consumer.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
