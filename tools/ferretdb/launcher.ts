/**
 * Builds (once, cached) and starts the FerretDB test server from `tools/ferretdb/`.
 *
 * Used by the test suite's global setup, by `npm run demo` and by `npm run bench` when `MONGODB_URI`
 * is not set.
 * The binary is built from the Go module proxy with `go build`; the cache key is a hash of the
 * wrapper's sources, so editing them rebuilds and nothing else does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const wrapperDir = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(wrapperDir, '..', '..')

export interface RunningFerretDB {
  /** Connection string for the relay in front of FerretDB, e.g. `mongodb://127.0.0.1:41234/`. */
  readonly uri: string
  /**
   * FerretDB itself, on its Unix socket, bypassing the relay that serialises commands: concurrent
   * updates of one document are not atomic there. Only for tests that need that failure.
   */
  readonly unrelayedUri: string
  /** Where the SQLite files are. */
  readonly dataDir: string
  /** Stops the server; removes its data directory unless it was given in the options. */
  stop(): Promise<void>
}

export interface StartFerretDBOptions {
  log?: (line: string) => void
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number
  /** An existing directory for the data, kept after `stop()` (default: a temporary one, removed). */
  dataDir?: string
  /**
   * Run FerretDB's PostgreSQL handler on this database (created when missing), e.g.
   * `postgres://postgres@127.0.0.1:5432/ferretdb_bench`, instead of SQLite files. Fails to start
   * when the PostgreSQL server does not answer.
   */
  postgresqlUrl?: string
}

/** The port of `npm run ferretdb`, the lasting local server (`tools/ferretdb/serve.ts`). */
export const LASTING_SERVER_PORT = 27018

/** Thrown when Go is not installed, so the caller can say what to do instead. */
export class GoToolchainMissingError extends Error {
  override readonly name = 'GoToolchainMissingError'
}

function sourcesHash(): string {
  const hash = createHash('sha256')
  for (const file of ['main.go', 'go.mod', 'go.sum']) {
    hash.update(readFileSync(path.join(wrapperDir, file)))
  }
  return hash.digest('hex').slice(0, 16)
}

/** Returns the path of a built `ferretdb-test` binary, building it when the sources changed. */
export function buildFerretDB(log: (line: string) => void = () => {}): string {
  const binary = path.join(repoRoot, '.cache', 'ferretdb', `ferretdb-test-${sourcesHash()}`)
  if (existsSync(binary)) return binary
  const go = spawnSync('go', ['version'], { encoding: 'utf8' })
  if (go.error || go.status !== 0) {
    throw new GoToolchainMissingError(
      'Go is not installed: set MONGODB_URI to a MongoDB server, or install Go (1.24+) so a local FerretDB can be built',
    )
  }
  mkdirSync(path.dirname(binary), { recursive: true })
  log(`building FerretDB 1.24 test server (first run only, about 2 minutes) -> ${path.relative(repoRoot, binary)}`)
  const build = spawnSync('go', ['build', '-trimpath', '-o', binary, '.'], {
    cwd: wrapperDir,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
  })
  if (build.status !== 0) {
    throw new Error(`go build of tools/ferretdb failed (exit ${build.status}):\n${build.stderr}`)
  }
  return binary
}

/**
 * Builds if needed, then starts FerretDB on a loopback port (a free one unless `port` is given), over
 * SQLite files in `dataDir` or a temporary directory, or over PostgreSQL (`postgresqlUrl`).
 */
export async function startFerretDB(options: StartFerretDBOptions = {}): Promise<RunningFerretDB> {
  const binary = buildFerretDB(options.log)
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'ferretdb-'))
  const temporary = options.dataDir === undefined
  const args = ['-listen', `127.0.0.1:${options.port ?? 0}`, '-data', dataDir, '-exit-with-parent']
  if (options.postgresqlUrl) args.push('-postgresql-url', options.postgresqlUrl)
  // stdin stays open for the child's lifetime: when this process dies, the server stops too.
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const started = new Promise<string>((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(() => reject(new Error(`FerretDB did not start within 30 s: ${stderr}`)), 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const match = /listening (\S+)/.exec(stdout)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      // Let the last lines of stderr (the reason) arrive first.
      setTimeout(() => reject(new Error(`FerretDB exited with code ${code}: ${stderr.trim()}`)), 50)
    })
  })
  let address: string
  try {
    address = await started
  } catch (error) {
    await stopChild(child, temporary ? dataDir : undefined)
    throw error
  }
  return {
    uri: `mongodb://${address}/`,
    // main.go puts FerretDB's own socket in the data directory.
    unrelayedUri: `mongodb://${encodeURIComponent(path.join(path.resolve(dataDir), 'ferretdb.sock'))}/`,
    dataDir,
    stop: () => stopChild(child, temporary ? dataDir : undefined),
  }
}

async function stopChild(child: ChildProcess, removeDir: string | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timeout = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timeout)
  }
  if (removeDir !== undefined) rmSync(removeDir, { recursive: true, force: true })
}
