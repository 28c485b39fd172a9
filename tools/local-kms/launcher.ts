/**
 * Builds (once, into .cache/local-kms) and starts local-kms, a local AWS KMS emulator, for the KMS
 * key provider's tests: a free port on 127.0.0.1, a temporary data directory, stopped by `stop()`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** A pseudo-version of github.com/nsmithuk/local-kms (the module has no tagged Go-module release). */
export const LOCAL_KMS_VERSION = 'v0.0.0-20260228092603-2a5e92d09ab6'
const binDir = path.join(repoRoot, '.cache', 'local-kms', LOCAL_KMS_VERSION)
const binary = path.join(binDir, 'local-kms')

export interface RunningLocalKms {
  /** Endpoint for the AWS SDK, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string
  stop(): Promise<void>
}

/** Builds local-kms with `go install` unless it is already built; throws when Go fails. */
export function buildLocalKms(): string {
  if (existsSync(binary)) return binary
  mkdirSync(binDir, { recursive: true })
  const result = spawnSync('go', ['install', `github.com/nsmithuk/local-kms@${LOCAL_KMS_VERSION}`], {
    env: { ...process.env, GOBIN: binDir },
    encoding: 'utf8',
  })
  if (result.status !== 0 || !existsSync(binary)) {
    throw new Error(`building local-kms failed: ${result.error?.message ?? result.stderr}`)
  }
  return binary
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export async function startLocalKms(): Promise<RunningLocalKms> {
  const bin = buildLocalKms()
  const port = await freePort()
  const dataDir = mkdtempSync(path.join(tmpdir(), 'msm-local-kms-'))
  const child = spawn(bin, [], {
    env: { ...process.env, PORT: String(port), KMS_DATA_PATH: dataDir },
    stdio: 'ignore',
  })
  for (let attempt = 0; !(await accepts(port)); attempt++) {
    if (attempt > 200 || child.exitCode !== null) {
      child.kill()
      rmSync(dataDir, { recursive: true, force: true })
      throw new Error('local-kms did not start')
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill()
        await exited
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
