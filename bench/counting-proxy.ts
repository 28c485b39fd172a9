/**
 * A TCP relay on 127.0.0.1 that forwards to the database and counts the bytes the client sends
 * (client → server), i.e. exactly what goes on the wire to the server: OP_MSG headers, command
 * documents and document sequences; and, separately, the replies (server → client).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface CountingProxy {
  /** `mongodb://127.0.0.1:<port>/` pointing at the proxy. */
  readonly uri: string
  /** Bytes sent by clients to the server so far. */
  readonly sentBytes: number
  /** Bytes the server sent back so far. */
  readonly receivedBytes: number
  close(): Promise<void>
}

export async function startCountingProxy(upstreamUri: string): Promise<CountingProxy> {
  const url = new URL(upstreamUri)
  if (url.hostname.includes(',')) throw new Error('the counting proxy needs a single-host MONGODB_URI')
  const upstream = { host: url.hostname, port: Number(url.port || 27017) }
  let sent = 0
  let received = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const remote = createConnection(upstream)
    sockets.add(client)
    sockets.add(remote)
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length
      if (!remote.write(chunk)) client.pause()
    })
    remote.on('drain', () => client.resume())
    remote.on('data', (chunk: Buffer) => {
      received += chunk.length
    })
    remote.pipe(client)
    const end = () => {
      client.destroy()
      remote.destroy()
      sockets.delete(client)
      sockets.delete(remote)
    }
    client.on('error', end)
    remote.on('error', end)
    client.on('close', end)
    remote.on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('proxy has no TCP address')
  const auth = url.username ? `${url.username}:${url.password}@` : ''
  return {
    uri: `mongodb://${auth}127.0.0.1:${address.port}/${url.search}`,
    get sentBytes() {
      return sent
    },
    get receivedBytes() {
      return received
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
