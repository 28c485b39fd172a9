/**
 * A TCP proxy between a MongoDB client and the test server that can lose a reply on purpose:
 * the request reaches the server and is applied, then the connection is cut before the client
 * sees the answer — the real-world failure a retried write must survive without duplicating.
 */
import net from 'node:net'

export interface FaultProxy {
  uri: string
  /** Cut the connection after the server answers the next command named `commandName`. */
  dropNextReply(commandName: string): void
  /** How many replies were dropped so far. */
  readonly dropped: number
  close(): Promise<void>
}

function commandName(message: Buffer): string | undefined {
  if (message.readInt32LE(12) !== 2013) return undefined // OP_MSG only
  let pos = 20
  while (pos < message.length) {
    const kind = message[pos++]
    if (kind === 0) {
      const start = pos + 5
      const end = message.indexOf(0, start)
      return end > start ? message.toString('utf8', start, end) : undefined
    }
    if (kind === 1) {
      pos += message.readInt32LE(pos)
      continue
    }
    return undefined
  }
  return undefined
}

/** Splits a stream of wire messages; calls `onMessage` for each complete one. */
function messageReader(onMessage: (message: Buffer) => void): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0)
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.length >= 4) {
      const length = buffered.readInt32LE(0)
      if (buffered.length < length) return
      onMessage(buffered.subarray(0, length))
      buffered = buffered.subarray(length)
    }
  }
}

export async function startFaultProxy(targetUri: string): Promise<FaultProxy> {
  const target = new URL(targetUri.replace(/^mongodb:/, 'http:'))
  const armed: string[] = []
  let dropped = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname)
    sockets.add(client)
    sockets.add(upstream)
    let dropReply = false
    client.on(
      'data',
      messageReader((message) => {
        const name = commandName(message)
        const index = name ? armed.indexOf(name) : -1
        if (index >= 0) {
          armed.splice(index, 1)
          dropReply = true
        }
        upstream.write(message)
      }),
    )
    upstream.on(
      'data',
      messageReader((message) => {
        if (dropReply) {
          dropReply = false
          dropped++
          client.destroy()
          upstream.destroy()
          return
        }
        client.write(message)
      }),
    )
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', close)
    upstream.on('close', close)
    client.on('error', close)
    upstream.on('error', close)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    dropNextReply: (name) => armed.push(name),
    get dropped() {
      return dropped
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
