/**
 * Part 1: whole turns. One long-lived Agent per backend holding n messages of ~2 KB
 * (NullConversationManager: the history really holds them all), then `agent.invoke()` turn after
 * turn with every library default on. What is timed is the whole invoke, model included, so the
 * "agent alone" row (no session manager) shows what persistence adds.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent, NullConversationManager, SessionManager } from '@strands-agents/sdk'
import { LocalFileStorage } from '@strands-agents/sdk/storage'
import { BSON, type Db, type MongoClient } from 'mongodb'
import { randomBytes } from 'node:crypto'
import { createLocalKeyProvider, MongoDBSessionManager } from '../src/index.js'
import type { CommandLog } from './command-log.js'
import type { CountingProxy } from './counting-proxy.js'
import { CountingStorage, OneDocumentStorage } from './naive-storage.js'
import { rootCause } from './stats.js'
import { history, replyingModel, text } from './workload.js'

export const AGENT_ALONE = 'the agent alone (no session manager)'
export const LIBRARY = 'MongoDBSessionManager (defaults)'
export const ENCRYPTED = 'MongoDBSessionManager (encryption on, local key provider)'
export const FILES = 'SDK SessionManager + LocalFileStorage'
export const ONE_DOCUMENT = 'SDK SessionManager + one MongoDB document'

/** What one turn cost. `commands` lists MongoDB commands; for files, the storage calls. */
export interface Cost {
  ms: number
  /**
   * CPU time of this process (user + system) during the turn: the agent, the library or the SDK's
   * session manager, the driver or the file writes — not the database server's. Much less
   * sensitive than `ms` to other jobs on the machine.
   */
  cpuMs: number
  /** Of `ms`, the time spent waiting for MongoDB commands (sum of their round trips); 0 for files. */
  commandMs: number
  sentBytes: number
  receivedBytes: number
  commands: string[]
}

export interface TurnMeasurement {
  backend: string
  n: number
  /** The first turn, which also saves the whole history (or restores nothing and saves it). */
  first: Cost | undefined
  turns: Cost[]
  /** The hot-path commands of the measured turns, with their round trips (library only). */
  commandTimes: { name: string; collection: string | undefined; ms: number }[]
  failure: string | undefined
  /**
   * Library only: bytes the preview of the last message adds to each turn's update. Only a turn
   * without encryption stores it (with encryption it would be a clear copy of sealed text), so the
   * wire cost of sealing is the difference in bytes sent plus this.
   */
  previewBytes?: number
}

/** Starts measuring; the returned function gives what was spent since. */
export type Meter = () => () => Omit<Cost, 'ms' | 'cpuMs'>

interface Session {
  sessionManager: SessionManager | undefined
  meter: Meter
  close(): Promise<void>
}

interface TurnBackend {
  name: string
  open(sessionId: string): Session
}

export interface TurnBenchOptions {
  client: MongoClient
  db: Db
  proxy: CountingProxy
  log: CommandLog
  sizes: number[]
  turns: number
  progress: (line: string) => void
}

export async function benchTurns(options: TurnBenchOptions): Promise<TurnMeasurement[]> {
  const { client, db, proxy, log } = options
  const tempDirs: string[] = []
  const mongoMeter = mongoMeterOf(proxy, log)
  const keyProvider = createLocalKeyProvider(randomBytes(32))
  const fileSession = (sessionId: string): Session => {
    const dir = mkdtempSync(path.join(tmpdir(), 'msm-bench-'))
    tempDirs.push(dir)
    const storage = new CountingStorage(new LocalFileStorage(dir))
    return {
      sessionManager: new SessionManager({ sessionId, storage }),
      meter: fileMeterOf(storage),
      close: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  const backends: TurnBackend[] = [
    {
      name: AGENT_ALONE,
      open: () => ({
        sessionManager: undefined,
        meter: () => () => ({ sentBytes: 0, receivedBytes: 0, commands: [], commandMs: 0 }),
        close: async () => {},
      }),
    },
    {
      name: LIBRARY,
      open(sessionId) {
        // A suffix as long as the encrypted backend's, so that both send ids of the same length.
        const sessionManager = new MongoDBSessionManager({
          client,
          databaseName: db.databaseName,
          sessionId: `${sessionId}-plaintext`,
        })
        return { sessionManager, meter: mongoMeter, close: () => sessionManager.close() }
      },
    },
    {
      name: ENCRYPTED,
      open(sessionId) {
        // Its own session: the library's backend writes the same id in the same database.
        const sessionManager = new MongoDBSessionManager({
          client,
          databaseName: db.databaseName,
          sessionId: `${sessionId}-encrypted`,
          encryption: { keyProvider },
        })
        return { sessionManager, meter: mongoMeter, close: () => sessionManager.close() }
      },
    },
    { name: FILES, open: fileSession },
    {
      name: ONE_DOCUMENT,
      open(sessionId) {
        const storage = new OneDocumentStorage(db.collection('naive_snapshots'))
        return { sessionManager: new SessionManager({ sessionId, storage }), meter: mongoMeter, close: async () => {} }
      },
    },
  ]

  const results: TurnMeasurement[] = []
  try {
    // Compile the hot code paths before anything is measured, so that the first row is not the slowest.
    await measureTurns(backends, 10, 3, log)
    for (const n of options.sizes) {
      const started = performance.now()
      const measured = await measureTurns(backends, n, options.turns, log)
      results.push(...measured)
      for (const r of measured) {
        options.progress(
          `turns n=${n} ${r.backend}: ${r.failure ? `FAILED (${r.failure})` : `${r.turns.length} turns`}`,
        )
      }
      options.progress(`turns n=${n}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
    }
  } finally {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  }
  return results
}

let measureCount = 0

/**
 * One Agent per backend, all holding the same n messages; their turns are interleaved (turn i of
 * every backend, then turn i + 1) so that a change in the machine's load hits every backend alike.
 */
async function measureTurns(
  backends: readonly TurnBackend[],
  n: number,
  turns: number,
  log: CommandLog,
): Promise<TurnMeasurement[]> {
  const stamp = `${Date.now().toString(36)}-${++measureCount}`
  const runs = backends.map((backend) => {
    const session = backend.open(`turns-${n}-${stamp}`)
    const agent = new Agent({
      model: replyingModel(1_000_000 + n),
      messages: history(n),
      conversationManager: new NullConversationManager(),
      ...(session.sessionManager && { sessionManager: session.sessionManager }),
      printer: false,
    })
    const result: TurnMeasurement = {
      backend: backend.name,
      n,
      first: undefined,
      turns: [],
      commandTimes: [],
      failure: undefined,
    }
    return { session, agent, result, causes: new Set<string>(), failed: 0 }
  })
  const turn = async (run: (typeof runs)[number], index: number): Promise<Cost> => {
    const spent = run.session.meter()
    const cpu = process.cpuUsage()
    const started = performance.now()
    await run.agent.invoke(text(2_000_000 + n + index))
    const ms = performance.now() - started
    return { ms, cpuMs: cpuMsSince(cpu), ...spent() }
  }
  try {
    for (const run of runs) {
      try {
        run.result.first = await turn(run, 0)
      } catch (error) {
        run.failed++
        run.causes.add(rootCause(error))
      }
    }
    for (let i = 1; i <= turns; i++) {
      for (const run of runs) {
        try {
          run.result.turns.push(await turn(run, i))
          if (run.result.backend === LIBRARY) {
            for (const c of log.commands) {
              run.result.commandTimes.push({ name: c.name, collection: c.collection, ms: c.durationMs ?? Number.NaN })
            }
          }
        } catch (error) {
          run.failed++
          run.causes.add(rootCause(error))
        }
      }
    }
    for (const run of runs) {
      if (run.result.backend === LIBRARY && run.session.sessionManager instanceof MongoDBSessionManager) {
        const manager = run.session.sessionManager
        const doc = await manager.collections.sessions.findOne(
          { _id: manager.sessionId },
          { projection: { preview: 1 } },
        )
        // The `preview` element of the update's `$set`: its BSON size less the enclosing document's 5 bytes.
        if (typeof doc?.preview === 'string')
          run.result.previewBytes = BSON.calculateObjectSize({ preview: doc.preview }) - 5
      }
      if (run.failed === 0) continue
      const which = run.failed === turns + 1 ? 'every turn' : `${run.failed} of ${turns + 1} turns`
      run.result.failure = `${which} failed: ${[...run.causes].join('; ')}`
    }
    return runs.map((run) => run.result)
  } finally {
    for (const run of runs) await run.session.close()
  }
}

/** Commands and wire bytes of the shared client, from now on (resets the command log). */
export function mongoMeterOf(proxy: CountingProxy, log: CommandLog): Meter {
  return () => {
    log.reset()
    const sent = proxy.sentBytes
    const received = proxy.receivedBytes
    return () => ({
      sentBytes: proxy.sentBytes - sent,
      receivedBytes: proxy.receivedBytes - received,
      commands: log.commands.map((c) => c.name),
      commandMs: log.commands.reduce((sum, c) => sum + (c.durationMs ?? 0), 0),
    })
  }
}

/** File reads and writes, and their bytes, from now on. */
export function fileMeterOf(storage: CountingStorage): Meter {
  return () => {
    const { reads, writes, writtenBytes, readBytes } = storage
    return () => ({
      sentBytes: storage.writtenBytes - writtenBytes,
      receivedBytes: storage.readBytes - readBytes,
      commands: [
        ...Array<string>(storage.reads - reads).fill('file read'),
        ...Array<string>(storage.writes - writes).fill('file write'),
      ],
      commandMs: 0,
    })
  }
}

export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start)
  return (user + system) / 1000
}
