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
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>
}

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

export interface StartFerretDBOptions {
  log?: (line: string) => void
  /**
   * Run FerretDB's PostgreSQL handler on this database (created when missing), e.g.
   * `postgres://postgres@127.0.0.1:5432/ferretdb_bench`, instead of SQLite files in a temporary
   * directory. Fails to start when the PostgreSQL server does not answer.
   */
  postgresqlUrl?: string
}

/**
 * Builds if needed, then starts FerretDB on a free loopback port, over SQLite files in a temporary
 * directory (default) or over PostgreSQL (`postgresqlUrl`).
 */
export async function startFerretDB(options: StartFerretDBOptions = {}): Promise<RunningFerretDB> {
  const binary = buildFerretDB(options.log)
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ferretdb-'))
  const args = ['-listen', '127.0.0.1:0', '-data', dataDir, '-exit-with-parent']
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
    await stopChild(child, dataDir)
    throw error
  }
  return {
    uri: `mongodb://${address}/`,
    stop: () => stopChild(child, dataDir),
  }
}

async function stopChild(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timeout = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timeout)
  }
  rmSync(dataDir, { recursive: true, force: true })
}
