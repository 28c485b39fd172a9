/**
 * A TCP proxy between a MongoDB client and the test server that plays the failures a production
 * database has:
 * - a lost reply: the request reaches the server and is applied, then the connection is cut
 *   before the client sees the answer — what a retried write must survive without duplicating;
 * - `down`: nothing listens on the port (connections are refused), as when the server is killed;
 * - `frozen`: connections are accepted, nothing is answered (as a stopped process: what was sent
 *   is held and delivered once it runs again);
 * - `heartbeats-only`: handshakes and heartbeats (`hello`) are answered, data commands are held.
 * The proxy keeps its port across modes, so a client configured with its URI sees one server
 * that goes away and comes back.
 */
import net from 'node:net'

export type FaultMode = 'up' | 'down' | 'frozen' | 'heartbeats-only'

export interface FaultProxy {
  uri: string
  readonly port: number
  /** Cut the connection after the server answers the next command named `commandName`. */
  dropNextReply(commandName: string): void
  /** Switch to `mode` the moment a command named `commandName` arrives (before it is forwarded). */
  switchOn(commandName: string, mode: FaultMode): void
  /** Cut the connection whenever a command named `commandName` on `collection` arrives (until `close`). */
  failCommandsOn(commandName: string, collection: string): void
  /** Switches mode now; `down` closes every open connection and the listener. */
  setMode(mode: FaultMode): Promise<void>
  readonly mode: FaultMode
  /** How many replies were dropped so far. */
  readonly dropped: number
  close(): Promise<void>
}

const HEARTBEATS = new Set(['hello', 'isMaster', 'ismaster'])

/** The name of the collection a command addresses (its first field's string value), if any. */
function commandTarget(message: Buffer): string | undefined {
  if (message.readInt32LE(12) !== 2013 || message[20] !== 0) return undefined
  const nameStart = 20 + 1 + 5
  const nameEnd = message.indexOf(0, nameStart)
  if (message[20 + 1 + 4] !== 0x02 || nameEnd < 0) return undefined // first element must be a string
  const length = message.readInt32LE(nameEnd + 1)
  return message.toString('utf8', nameEnd + 5, nameEnd + 5 + length - 1)
}

function commandName(message: Buffer): string | undefined {
  const opCode = message.readInt32LE(12)
  if (opCode === 2004) return 'isMaster' // OP_QUERY: only the legacy handshake uses it
  if (opCode !== 2013) return undefined // OP_MSG only
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

/** Starts a proxy to `targetUri` in mode `initial` (`down`: the port is reserved but refuses). */
export async function startFaultProxy(targetUri: string, initial: FaultMode = 'up'): Promise<FaultProxy> {
  const target = new URL(targetUri.replace(/^mongodb:/, 'http:'))
  const armed: string[] = []
  const switches = new Map<string, FaultMode>()
  const failing = new Set<string>()
  let dropped = 0
  let mode: FaultMode = 'up'
  const sockets = new Set<net.Socket>()
  /** Messages held while frozen, delivered in order when the proxy is up again. */
  const held = new Set<() => void>()
  let server: net.Server | undefined

  const destroyAll = () => {
    for (const socket of sockets) socket.destroy()
    sockets.clear()
  }

  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(Number(target.port), target.hostname)
    sockets.add(client)
    sockets.add(upstream)
    let dropReply = false
    const toServer: Buffer[] = []
    const toClient: Buffer[] = []
    const release = () => {
      for (const message of toServer.splice(0)) upstream.write(message)
      for (const message of toClient.splice(0)) client.write(message)
    }
    held.add(release)
    client.on(
      'data',
      messageReader((message) => {
        const name = commandName(message)
        const switchTo = name ? switches.get(name) : undefined
        if (switchTo) {
          switches.delete(name!)
          void setMode(switchTo)
          return
        }
        if (mode === 'down') return
        if (name && failing.has(`${name}\u0000${commandTarget(message)}`)) {
          client.destroy()
          upstream.destroy()
          return
        }
        if (mode === 'frozen' || (mode === 'heartbeats-only' && !(name && HEARTBEATS.has(name)))) {
          toServer.push(message)
          return
        }
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
        if (mode === 'frozen') {
          toClient.push(message)
          return
        }
        client.write(message)
      }),
    )
    const close = () => {
      held.delete(release)
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', close)
    upstream.on('close', close)
    client.on('error', close)
    upstream.on('error', close)
  }

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = net.createServer(onConnection)
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        server = s
        resolve((s.address() as net.AddressInfo).port)
      })
    })
  const stopListening = () =>
    new Promise<void>((resolve) => {
      const s = server
      server = undefined
      if (!s) return resolve()
      s.close(() => resolve())
    })

  async function setMode(next: FaultMode): Promise<void> {
    const previous = mode
    mode = next
    if (next === 'down') {
      destroyAll()
      await stopListening()
    } else if (previous === 'down') {
      await listen(port)
    }
    if (next === 'up') for (const release of held) release()
  }

  const port = await listen(0)
  if (initial !== 'up') await setMode(initial)

  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    port,
    dropNextReply: (name) => armed.push(name),
    switchOn: (name, next) => switches.set(name, next),
    failCommandsOn: (name, collection) => failing.add(`${name}\u0000${collection}`),
    setMode,
    get mode() {
      return mode
    },
    get dropped() {
      return dropped
    },
    close: async () => {
      destroyAll()
      await stopListening()
    },
  }
}
