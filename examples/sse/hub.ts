/**
 * Server-Sent Events fan-out: browsers subscribe to a session's stream; metadata events are written
 * to every open stream of that session as `event: metadata_update` frames.
 */
import type { ServerResponse } from 'node:http'

/** What a browser receives (the documented `{ type, data }`, plus the session and time). */
export interface MetadataUpdateFrame {
  type: 'metadata_update'
  session_id: string
  operation: 'update' | 'delete'
  data: Record<string, unknown>
  timestamp: string
}

export class SseHub {
  readonly #clients = new Map<string, Set<ServerResponse>>()
  #nextId = 1
  readonly #heartbeat: NodeJS.Timeout

  constructor(options: { heartbeatMs?: number } = {}) {
    // A comment line now and then keeps proxies from closing idle streams.
    this.#heartbeat = setInterval(() => this.#writeAll(': keep-alive\n\n'), options.heartbeatMs ?? 15_000)
    this.#heartbeat.unref()
  }

  /** Streams the session's events to `response` until the client disconnects. */
  subscribe(sessionId: string, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    response.write(': connected\n\n')
    let clients = this.#clients.get(sessionId)
    if (!clients) this.#clients.set(sessionId, (clients = new Set()))
    clients.add(response)
    response.on('close', () => {
      clients.delete(response)
      if (clients.size === 0) this.#clients.delete(sessionId)
    })
  }

  /** Number of open streams for a session (all sessions when omitted). */
  count(sessionId?: string): number {
    if (sessionId !== undefined) return this.#clients.get(sessionId)?.size ?? 0
    let n = 0
    for (const set of this.#clients.values()) n += set.size
    return n
  }

  /** Sends `frame` to every open stream of its session; returns how many received it. */
  broadcast(frame: MetadataUpdateFrame): number {
    const clients = this.#clients.get(frame.session_id)
    if (!clients) return 0
    const text = `id: ${this.#nextId++}\nevent: ${frame.type}\ndata: ${JSON.stringify(frame)}\n\n`
    for (const client of clients) client.write(text)
    return clients.size
  }

  #writeAll(text: string): void {
    for (const clients of this.#clients.values()) for (const client of clients) client.write(text)
  }

  /** Ends every stream. */
  close(): void {
    clearInterval(this.#heartbeat)
    for (const clients of this.#clients.values()) for (const client of clients) client.end()
    this.#clients.clear()
  }
}
