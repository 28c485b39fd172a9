/**
 * `npm run bench`: per-turn persistence cost against history length.
 *
 * For each history length n (10, 100, 1,000, 10,000 messages of ~2 KB text) and each backend:
 * 1. build an Agent holding n messages (NullConversationManager: nothing is trimmed) and save it once;
 * 2. run K turns (one user + one assistant message of ~2 KB each, ScriptedModel), and after each
 *    turn time the save the SDK would make at the end of the invocation
 *    (`sessionManager.saveSnapshot({ target: agent, isLatest: true })`; the agents use
 *    `saveLatestOn: 'trigger'` so that `invoke()` itself saves nothing and only the save is timed);
 * 3. report the median over the K turns.
 *
 * Backends: (a) this library's MongoDBSessionManager; (b) the SDK's stock SessionManager over
 * LocalFileStorage in a temporary directory; (c) the stock SessionManager over a one-document-per-key
 * MongoDB Storage (the whole snapshot in one document per save).
 *
 * Bytes: for MongoDB backends, bytes the client sent to the server, counted by a TCP relay in front
 * of the server (client → server direction, everything on the wire); for LocalFileStorage, bytes
 * handed to `write` (each is written to a temp file and renamed).
 *
 * Server: MONGODB_URI when set, otherwise FerretDB 1.24 started like the tests do.
 * Env: BENCH_SIZES (default "10,100,1000,10000"), BENCH_TURNS (default 7), BENCH_TURNS_LARGE
 * (turns at n ≥ 10,000; default BENCH_TURNS). The whole run takes about 10-20 s on FerretDB, 2 cores.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent, NullConversationManager, SessionManager, type MessageData } from '@strands-agents/sdk'
import { LocalFileStorage } from '@strands-agents/sdk/storage'
import { MongoClient } from 'mongodb'
import { MongoDBSessionManager } from '../src/index.js'
import { ScriptedModel } from '../src/testing/index.js'
import { startFerretDB, type RunningFerretDB } from '../tools/ferretdb/launcher.js'
import { startCountingProxy, type CountingProxy } from './counting-proxy.js'
import { CountingStorage, OneDocumentStorage } from './naive-storage.js'

const SIZES = (process.env.BENCH_SIZES ?? '10,100,1000,10000').split(',').map((s) => Number(s.trim()))
const TURNS = Number(process.env.BENCH_TURNS ?? 7)
const TURNS_LARGE = Number(process.env.BENCH_TURNS_LARGE ?? TURNS)
const MESSAGE_CHARS = 2000

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`)

/** Deterministic ~2 KB of word-like text (no repetition that a compressor would love). */
function text(seed: number): string {
  let x = seed * 2654435761 + 1
  const words: string[] = []
  let length = 0
  while (length < MESSAGE_CHARS) {
    x = (x * 1103515245 + 12345) % 2147483648
    const word = (x % 1_000_003).toString(36)
    words.push(word)
    length += word.length + 1
  }
  return words.join(' ').slice(0, MESSAGE_CHARS)
}

function history(n: number): MessageData[] {
  return Array.from({ length: n }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: [{ text: text(i) }],
  }))
}

interface Backend {
  name: string
  /** A session manager for a fresh session, and a reading of its byte counter. */
  open(sessionId: string): Promise<{ sessionManager: SessionManager; bytes(): number; close(): Promise<void> }>
}

interface Measurement {
  backend: string
  n: number
  preloadMs?: number
  preloadBytes?: number
  turnMs: number[]
  turnBytes: number[]
  failure?: string
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function measure(backend: Backend, n: number, turns: number): Promise<Measurement> {
  const result: Measurement = { backend: backend.name, n, turnMs: [], turnBytes: [] }
  const { sessionManager, bytes, close } = await backend.open(`bench-${n}-${Date.now().toString(36)}`)
  let turn = 0
  const agent = new Agent({
    model: new ScriptedModel(() => ({ text: text(1_000_000 + n + turn) }), { chunkSize: 4096 }),
    messages: history(n),
    sessionManager,
    conversationManager: new NullConversationManager(),
    printer: false,
  })
  try {
    await agent.initialize()
    let before = bytes()
    let started = performance.now()
    const failures: string[] = []
    try {
      await sessionManager.saveSnapshot({ target: agent, isLatest: true })
      result.preloadMs = performance.now() - started
      result.preloadBytes = bytes() - before
    } catch (error) {
      failures.push(`initial save failed (${formatBytes(bytes() - before)} sent): ${rootCause(error)}`)
    }
    // The turns run even after a failure, to show whether saves keep failing.
    let failedTurns = 0
    for (turn = 0; turn < turns; turn++) {
      await agent.invoke(text(2_000_000 + n + turn))
      before = bytes()
      started = performance.now()
      try {
        await sessionManager.saveSnapshot({ target: agent, isLatest: true })
      } catch (error) {
        failedTurns++
        if (failedTurns === 1) failures.push(`turn save: ${rootCause(error)}`)
        if (failedTurns === 1) progress(`n=${n} ${backend.name}: turn save failed: ${describe(error)}`)
        continue
      }
      result.turnMs.push(performance.now() - started)
      result.turnBytes.push(bytes() - before)
    }
    if (failures.length > 0) {
      result.failure = `${failures.join('; ')}; ${failedTurns}/${turns} turn saves failed`
      return result
    }
    if (agent.messages.length !== n + 2 * turns) throw new Error(`expected ${n + 2 * turns} messages`)
    return result
  } finally {
    await close()
  }
}

/** The innermost cause, `Name: message` (the SDK wraps storage errors in a SessionError). */
function rootCause(error: unknown): string {
  let inner = error
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause
  return inner instanceof Error ? `${inner.name}: ${inner.message}`.slice(0, 160) : String(inner)
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : ''
  const code = (error as { code?: unknown }).code
  return `${error.name}${code !== undefined ? ` ${String(code)}` : ''}: ${error.message}${cause}`.slice(0, 300)
}

function formatBytes(value: number): string {
  if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(2)} MiB`
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KiB`
  return `${value} B`
}

function formatMs(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`
}

function table(results: Measurement[], library: string): string {
  const rows = [
    '| history (messages) | backend | persistence time per turn (median) | bytes sent per turn (median) | time × library | bytes × library | initial save of the history |',
    '|---:|---|---:|---:|---:|---:|---|',
  ]
  const notes: string[] = []
  for (const r of results) {
    const lib = results.find((x) => x.n === r.n && x.backend === library)
    const ok = r.turnMs.length > 0 && !r.failure
    const libOk = lib && lib.turnMs.length > 0 && !lib.failure
    const ms = ok ? median(r.turnMs) : undefined
    const bytes = ok ? median(r.turnBytes) : undefined
    const ratio = (mine: number | undefined, theirs: number | undefined) =>
      r.backend === library ? '1×' : mine !== undefined && theirs ? `${(mine / theirs).toFixed(1)}×` : '—'
    const preload =
      r.preloadMs !== undefined ? `${formatMs(r.preloadMs)}, ${formatBytes(r.preloadBytes ?? 0)}` : 'not completed'
    rows.push(
      `| ${r.n.toLocaleString('en-US')} | ${r.backend} | ${ms !== undefined ? formatMs(ms) : `**FAILED** (note ${notes.push(`${r.n.toLocaleString('en-US')} messages, ${r.backend}: ${r.failure ?? 'no turn completed'}`)})`} | ${
        bytes !== undefined ? formatBytes(bytes) : '—'
      } | ${ratio(ms, libOk ? median(lib.turnMs) : undefined)} | ${ratio(bytes, libOk ? median(lib.turnBytes) : undefined)} | ${preload} |`,
    )
  }
  return [...rows, '', ...notes.map((note, i) => `Note ${i + 1}: ${note}`)].join('\n')
}

async function main(): Promise<void> {
  let ferret: RunningFerretDB | undefined
  let upstream = process.env.MONGODB_URI
  if (!upstream) {
    ferret = await startFerretDB({ log: progress })
    upstream = ferret.uri
  }
  const engine = ferret ? 'FerretDB 1.24 (SQLite), started by the bench' : 'MONGODB_URI'
  const proxy: CountingProxy = await startCountingProxy(upstream)
  // Few heartbeats: the monitoring connection also goes through the relay.
  const client = await new MongoClient(proxy.uri, {
    serverMonitoringMode: 'poll',
    heartbeatFrequencyMS: 600_000,
    appName: 'msm-bench',
  }).connect()
  const databaseName = `msm_bench_${Date.now().toString(36)}`
  const db = client.db(databaseName)
  const tempDirs: string[] = []

  const LIBRARY = 'mongodb-session-manager'
  const backends: Backend[] = [
    {
      name: LIBRARY,
      async open(sessionId) {
        const sessionManager = new MongoDBSessionManager({ client, databaseName, sessionId, saveLatestOn: 'trigger' })
        return { sessionManager, bytes: () => proxy.sentBytes, close: () => sessionManager.close() }
      },
    },
    {
      name: 'SDK SessionManager + LocalFileStorage',
      async open(sessionId) {
        const dir = mkdtempSync(path.join(tmpdir(), 'msm-bench-'))
        tempDirs.push(dir)
        const storage = new CountingStorage(new LocalFileStorage(dir))
        const sessionManager = new SessionManager({ sessionId, storage, saveLatestOn: 'trigger' })
        return {
          sessionManager,
          bytes: () => storage.writtenBytes,
          async close() {
            rmSync(dir, { recursive: true, force: true })
          },
        }
      },
    },
    {
      name: 'SDK SessionManager + one MongoDB document per snapshot',
      async open(sessionId) {
        const storage = new OneDocumentStorage(db.collection(`naive_${sessionId.replace(/-/g, '_')}`))
        const sessionManager = new SessionManager({ sessionId, storage, saveLatestOn: 'trigger' })
        return { sessionManager, bytes: () => proxy.sentBytes, close: async () => {} }
      },
    },
  ]

  const started = performance.now()
  const results: Measurement[] = []
  try {
    for (const n of SIZES) {
      const turns = n >= 10_000 ? TURNS_LARGE : TURNS
      for (const backend of backends) {
        const t0 = performance.now()
        const r = await measure(backend, n, turns)
        results.push(r)
        progress(
          `n=${n} ${backend.name}: ${
            r.failure
              ? `FAILED (${r.failure})`
              : `${formatMs(median(r.turnMs))}/turn, ${formatBytes(median(r.turnBytes))}/turn`
          } [${((performance.now() - t0) / 1000).toFixed(1)} s]`,
        )
      }
    }
  } finally {
    await db.dropDatabase().catch(() => undefined)
    await client.close()
    await proxy.close()
    await ferret?.stop()
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  console.log(
    `\n## Per-turn persistence cost vs history length\n\n` +
      `Server: ${engine}. Node ${process.version}, ${(await import('node:os')).cpus().length} CPUs. ` +
      `Messages of ${MESSAGE_CHARS} characters; each turn adds 1 user + 1 assistant message; ` +
      `median of ${TURNS} turns (${TURNS_LARGE} at ≥ 10,000). ` +
      `Bytes: MongoDB = client→server bytes on the wire (counting TCP relay); LocalFileStorage = bytes written to files. ` +
      `Ratios are baseline ÷ library at the same history length, same run. Total ${seconds} s.\n`,
  )
  console.log(table(results, LIBRARY))
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
