/**
 * `npm run bench`: what persisting a conversation costs, measured on what users run.
 *
 * 1. Whole turns: `agent.invoke()` on an Agent holding n messages of ~2 KB, with every library
 *    default on, against the agent alone and the SDK's own SessionManager over LocalFileStorage and
 *    over one MongoDB document per snapshot.
 * 2. Factory-pattern requests: a new session manager and a new Agent per request (restore, invoke,
 *    save) in a database holding other sessions too, against the same two SDK baselines.
 * 3. The median round trip of each of the library's hot-path commands.
 *
 * Commands are counted with the driver's command monitoring (handshakes and heartbeats left out);
 * bytes are counted on the wire by a TCP relay in front of the server. Every ratio compares
 * figures from this same run. Knobs and the meaning of each column: docs/benchmarks.md.
 */
import { cpus, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { MongoClient } from 'mongodb'
import { logCommands } from './command-log.js'
import { startCountingProxy } from './counting-proxy.js'
import { goals, hotPathTable, requestsTable, turnsTable } from './report.js'
import { benchRequests, type RequestMeasurement } from './requests.js'
import { startBenchServer } from './server.js'
import { benchTurns, type TurnMeasurement } from './turns.js'
import { MESSAGE_CHARS } from './workload.js'

const numbers = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number)

const SIZES = numbers(process.env.BENCH_SIZES, '10,100,1000,10000')
const TURNS = Number(process.env.BENCH_TURNS ?? 15)
const HISTORY_TURNS = numbers(process.env.BENCH_HISTORY_TURNS, '10,200,1000')
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 15)
const OTHER_SESSIONS = Number(process.env.BENCH_OTHER_SESSIONS ?? 50)
const OTHER_TURNS = Number(process.env.BENCH_OTHER_TURNS ?? 20)

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`)

async function main(): Promise<void> {
  const load = loadavg()[0]!
  const server = await startBenchServer(progress)
  progress(`server: ${server.engine}`)
  const proxy = await startCountingProxy(server.uri)
  // Few heartbeats: the monitoring connection also goes through the relay.
  const client = await new MongoClient(proxy.uri, {
    serverMonitoringMode: 'poll',
    heartbeatFrequencyMS: 600_000,
    monitorCommands: true,
    appName: 'msm-bench',
  }).connect()
  const log = logCommands(client)
  const stamp = Date.now().toString(36)
  const turnsDb = client.db(`msm_bench_turns_${stamp}`)
  const requestsDb = client.db(`msm_bench_requests_${stamp}`)

  const started = performance.now()
  let turns: TurnMeasurement[] = []
  let requests: RequestMeasurement[] = []
  try {
    if (SIZES.length > 0 && TURNS > 0) {
      turns = await benchTurns({ client, db: turnsDb, proxy, log, sizes: SIZES, turns: TURNS, progress })
      await turnsDb.dropDatabase()
    }
    if (HISTORY_TURNS.length > 0 && REQUESTS > 0) {
      requests = await benchRequests({
        client,
        db: requestsDb,
        proxy,
        log,
        historyTurns: HISTORY_TURNS,
        requests: REQUESTS,
        otherSessions: OTHER_SESSIONS,
        otherTurns: OTHER_TURNS,
        progress,
      })
    }
  } finally {
    log.stop()
    await turnsDb.dropDatabase().catch(() => undefined)
    await requestsDb.dropDatabase().catch(() => undefined)
    await client.close()
    await proxy.close()
    await server.stop()
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  const out: string[] = [
    `## Benchmark run, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Server: ${server.engine}. Node ${process.version}, ${cpus().length} CPUs, load average ${load.toFixed(1)} at the start, ` +
      `${loadavg()[0]!.toFixed(1)} at the end. Messages of ${MESSAGE_CHARS} characters. Total ${seconds} s.`,
    '',
  ]
  if (turns.length > 0) {
    out.push(
      `### Whole turns (\`agent.invoke()\`, library defaults, NullConversationManager; ${TURNS} turns after a first one)`,
      '',
      turnsTable(turns),
      '',
    )
  }
  if (requests.length > 0) {
    out.push(
      `### Factory-pattern requests (new manager + new Agent each; ${OTHER_SESSIONS} other sessions of ${OTHER_TURNS} turns in the database; ` +
        `${REQUESTS} requests after 2 warm-up ones)`,
      '',
      requestsTable(requests),
      '',
    )
  }
  out.push(
    '### The library’s hot-path commands',
    '',
    hotPathTable(turns, requests),
    '',
    '### Goals',
    '',
    ...goals(turns, requests),
  )
  console.log(`\n${out.join('\n')}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
