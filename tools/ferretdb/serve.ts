/**
 * `npm run ferretdb`: a lasting local MongoDB-compatible server for the CLI and the demo's `--keep`.
 *
 * The FerretDB 1.24 of the tests (built on first use, needs Go), on a fixed port, with its data in
 * `.cache/ferretdb-data/` so sessions survive restarts. Runs until Ctrl-C / SIGTERM.
 *
 *   npm run ferretdb                       # mongodb://127.0.0.1:27018/
 *   npm run ferretdb -- --port 27100       # another port (or FERRETDB_PORT)
 *   npm run ferretdb -- --data /some/dir   # another data directory (or FERRETDB_DATA)
 *
 * Delete the data directory to start afresh.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { GoToolchainMissingError, LASTING_SERVER_PORT, startFerretDB } from './launcher.js'

const DEFAULT_PORT = LASTING_SERVER_PORT
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const DEFAULT_DATA_DIR = path.join(repoRoot, '.cache', 'ferretdb-data')

const HELP = `Usage: npm run ferretdb -- [--port <port>] [--data <dir>]

A lasting local FerretDB 1.24 (MongoDB wire protocol) for the CLI and 'npm run demo -- --keep'.
  --port <port>  TCP port on 127.0.0.1 (default ${DEFAULT_PORT}, or $FERRETDB_PORT)
  --data <dir>   data directory, kept between runs (default .cache/ferretdb-data, or $FERRETDB_DATA)
Runs until Ctrl-C. Delete the data directory to start afresh.
`

async function main(): Promise<number> {
  let values: { port?: string; data?: string; help?: boolean }
  try {
    values = parseArgs({
      options: { port: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values
  } catch (error) {
    process.stderr.write(`ferretdb: ${(error as Error).message}\n${HELP}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  const portText = values.port ?? process.env.FERRETDB_PORT ?? String(DEFAULT_PORT)
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    process.stderr.write(`ferretdb: --port must be a port number, got ${JSON.stringify(portText)}\n`)
    return 2
  }
  const dataDir = path.resolve(values.data ?? process.env.FERRETDB_DATA ?? DEFAULT_DATA_DIR)
  mkdirSync(dataDir, { recursive: true })
  // One server per data directory: a second one would replace the first one's socket and share its files.
  const lock = path.join(dataDir, 'serve.pid')
  const holder = runningPid(lock)
  if (holder !== undefined) {
    process.stderr.write(`ferretdb: ${dataDir} is in use by process ${holder} (another 'npm run ferretdb')\n`)
    return 1
  }
  writeFileSync(lock, String(process.pid))
  try {
    return await serve(port, dataDir)
  } finally {
    rmSync(lock, { force: true })
  }
}

/** The pid in `lock` if that process is still running. */
function runningPid(lock: string): number | undefined {
  let pid: number
  try {
    pid = Number(readFileSync(lock, 'utf8'))
  } catch {
    return undefined
  }
  try {
    process.kill(pid, 0)
    return pid
  } catch {
    return undefined
  }
}

async function serve(port: number, dataDir: string): Promise<number> {
  let server: Awaited<ReturnType<typeof startFerretDB>>
  try {
    server = await startFerretDB({ port, dataDir, log: (line) => process.stderr.write(`ferretdb: ${line}\n`) })
  } catch (error) {
    if (error instanceof GoToolchainMissingError) {
      process.stderr.write('ferretdb: Go (1.24+) is needed to build FerretDB the first time\n')
    } else if (/address already in use/.test(String(error))) {
      process.stderr.write(
        `ferretdb: port ${port} is in use (is 'npm run ferretdb' already running?): pick another with --port\n`,
      )
    } else {
      process.stderr.write(`ferretdb: ${error instanceof Error ? error.message : String(error)}\n`)
    }
    return 1
  }
  const uri = server.uri
  process.stdout.write(
    [
      `FerretDB 1.24 listening on ${uri}`,
      `data: ${dataDir} (kept between runs)`,
      '',
      'In another terminal:',
      `  export MONGODB_URI=${uri}`,
      '  npm run demo -- --keep',
      '  npx tsx src/cli/main.ts sessions list --db msm_demo',
      '',
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  )
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  await server.stop()
  process.stdout.write('FerretDB stopped.\n')
  return 0
}

process.exitCode = await main()
