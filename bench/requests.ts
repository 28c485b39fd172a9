/**
 * Part 2: the factory pattern. Every request builds a new session manager and a new Agent, which
 * restores the session, runs one invocation and saves it — as a web server does per HTTP request.
 * The database also holds other sessions with their own history, as a real one does.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Agent, NullConversationManager, SessionManager, type MessageData } from '@strands-agents/sdk'
import { LocalFileStorage } from '@strands-agents/sdk/storage'
import type { Db, MongoClient } from 'mongodb'
import { MongoDBSessionManagerFactory } from '../src/index.js'
import type { CommandLog } from './command-log.js'
import type { CountingProxy } from './counting-proxy.js'
import { CountingStorage, OneDocumentStorage } from './naive-storage.js'
import { rootCause } from './stats.js'
import { FILES, LIBRARY, ONE_DOCUMENT, cpuMsSince, fileMeterOf, mongoMeterOf, type Cost, type Meter } from './turns.js'
import { history, replyingModel, text } from './workload.js'

export interface RequestMeasurement {
  backend: string
  /** Turns of history in the session before the measured requests (2 messages each). */
  historyTurns: number
  /** Message documents in the library's collection while measuring (other sessions included). */
  messagesInCollection: number | undefined
  requests: Cost[]
  commandTimes: { name: string; collection: string | undefined; filterKeys: string; ms: number }[]
  failure: string | undefined
}

interface RequestBackend {
  name: string
  meter: Meter
  /** Stores a session whose agent holds `messages` (saved by one invocation). */
  seed(sessionId: string, messages: MessageData[]): Promise<void>
  /** One request: a new session manager and Agent that restore, invoke once and save. */
  request(sessionId: string, prompt: string): Promise<void>
  remove(sessionId: string): Promise<void>
}

export interface RequestBenchOptions {
  client: MongoClient
  db: Db
  proxy: CountingProxy
  log: CommandLog
  historyTurns: number[]
  requests: number
  otherSessions: number
  otherTurns: number
  progress: (line: string) => void
}

/** Requests before the measured ones: the first one restores the seeded history (and trims it, with a window). */
const WARM_UP_REQUESTS = 2

export async function benchRequests(options: RequestBenchOptions): Promise<RequestMeasurement[]> {
  const { client, db, proxy, log } = options
  const mongoMeter = mongoMeterOf(proxy, log)
  const factory = new MongoDBSessionManagerFactory({ client, databaseName: db.databaseName })
  await factory.connect() // indexes once per process, as a server does at startup
  const dir = mkdtempSync(path.join(tmpdir(), 'msm-bench-requests-'))
  const files = new CountingStorage(new LocalFileStorage(dir))
  const oneDocument = new OneDocumentStorage(db.collection('naive_snapshots'))
  const managerFor = (storage: CountingStorage | OneDocumentStorage) => (sessionId: string) =>
    new SessionManager({ sessionId, storage })

  const sdkBackend = (name: string, storage: CountingStorage | OneDocumentStorage, meter: Meter): RequestBackend => {
    const manager = managerFor(storage)
    return {
      name,
      meter,
      seed: (sessionId, messages) => seedAgent(manager(sessionId), messages),
      request: (sessionId, prompt) => runRequest(manager(sessionId), prompt),
      async remove(sessionId) {
        // The SDK namespaces its keys (`session/<id>/…`): match the id as a path segment.
        for (const key of await storage.list('')) if (key.includes(`/${sessionId}/`)) await storage.delete(key)
      },
    }
  }
  const backends: RequestBackend[] = [
    {
      name: LIBRARY,
      meter: mongoMeter,
      seed: (sessionId, messages) => seedAgent(factory.createSessionManager(sessionId), messages),
      request: (sessionId, prompt) => runRequest(factory.createSessionManager(sessionId), prompt),
      async remove(sessionId) {
        await factory.createSessionManager(sessionId).deleteSessionData()
      },
    },
    sdkBackend(FILES, files, fileMeterOf(files)),
    sdkBackend(ONE_DOCUMENT, oneDocument, mongoMeter),
  ]

  const results: RequestMeasurement[] = []
  try {
    const seeding = performance.now()
    for (const backend of backends) {
      for (let i = 0; i < options.otherSessions; i++) {
        await backend.seed(`other-${i}`, history(2 * options.otherTurns, 10_000_000 + i * 1000))
      }
    }
    options.progress(
      `requests: seeded ${options.otherSessions} other sessions of ${options.otherTurns} turns per backend ` +
        `[${((performance.now() - seeding) / 1000).toFixed(1)} s]`,
    )
    const messages = db.collection('messages')
    for (const turns of options.historyTurns) {
      const started = performance.now()
      const sessionId = `request-${turns}`
      const runs = backends.map((backend) => ({
        backend,
        result: {
          backend: backend.name,
          historyTurns: turns,
          messagesInCollection: undefined,
          requests: [],
          commandTimes: [],
          failure: undefined,
        } as RequestMeasurement,
      }))
      const attempt = async (run: (typeof runs)[number], step: () => Promise<void>) => {
        if (run.result.failure !== undefined) return
        try {
          await step()
        } catch (error) {
          run.result.failure = rootCause(error)
        }
      }
      // The seeded agent's invocation adds the last of the `turns` turns.
      for (const run of runs) await attempt(run, () => run.backend.seed(sessionId, history(2 * turns - 2, 20_000_000)))
      for (let i = 0; i < WARM_UP_REQUESTS; i++) {
        for (const run of runs) await attempt(run, () => run.backend.request(sessionId, text(30_000_000 + i)))
      }
      const libraryMessages = await messages.estimatedDocumentCount()
      // Interleaved, request i of every backend then request i + 1, so that load changes hit all alike.
      for (let i = 0; i < options.requests; i++) {
        for (const run of runs) {
          await attempt(run, async () => {
            const spent = run.backend.meter()
            const cpu = process.cpuUsage()
            const t0 = performance.now()
            await run.backend.request(sessionId, text(31_000_000 + i))
            const ms = performance.now() - t0
            run.result.requests.push({ ms, cpuMs: cpuMsSince(cpu), ...spent() })
            if (run.backend.name !== LIBRARY) return
            run.result.messagesInCollection = libraryMessages
            for (const c of log.commands) {
              run.result.commandTimes.push({
                name: c.name,
                collection: c.collection,
                filterKeys: c.filter ? Object.keys(c.filter).join('+') : '',
                ms: c.durationMs ?? Number.NaN,
              })
            }
          })
        }
      }
      for (const run of runs) {
        results.push(run.result)
        await run.backend.remove(sessionId).catch(() => undefined)
        options.progress(
          `requests ${turns} turns ${run.backend.name}: ` +
            `${run.result.failure ? `FAILED (${run.result.failure})` : `${run.result.requests.length} requests`}`,
        )
      }
      options.progress(`requests ${turns} turns: ${((performance.now() - started) / 1000).toFixed(1)} s`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await factory.close()
  }
  return results
}

/** A long conversation arriving at once: an agent holding it, saved by one invocation. */
async function seedAgent(sessionManager: SessionManager, messages: MessageData[]): Promise<void> {
  const agent = new Agent({
    model: replyingModel(40_000_000),
    messages,
    conversationManager: new NullConversationManager(),
    sessionManager,
    printer: false,
  })
  await agent.invoke(text(41_000_000))
}

/**
 * A request handler's Agent: the SDK's default conversation manager (a sliding window of 40
 * messages). The SDK runs the session manager's end-of-invocation save before that manager trims
 * (`AfterInvocationEvent` callbacks run in reverse order of registration), so an Agent that lives
 * for one request never stores a trimmed conversation and the next request restores it all.
 */
async function runRequest(sessionManager: SessionManager, prompt: string): Promise<void> {
  const agent = new Agent({ model: replyingModel(50_000_000), sessionManager, printer: false })
  await agent.invoke(prompt)
}
