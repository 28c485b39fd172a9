/**
 * `npm run ferretdb`, the lasting local server, as a developer uses it: started, connected to,
 * stopped with Ctrl-C, started again with its data still there; and the demo's `--keep` hint,
 * whose printed command is run as printed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniqueName } from '../support/mongo.js'
import { repoRoot } from './support.js'

interface Started {
  child: ChildProcess
  /** Everything written to stdout so far. */
  output: () => string
  exited: Promise<number | null>
}

/** Process groups started here, stopped after the tests whatever happened. */
const groups: number[] = []

/** `npm run ferretdb -- args`, in its own process group (Ctrl-C in a terminal signals the whole group). */
function npmRunFerretDB(args: string[]): Started {
  const child = spawn('npm', ['run', '--silent', 'ferretdb', '--', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  groups.push(child.pid!)
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return { child, output: () => stdout, exited }
}

async function waitFor(started: Started, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(started.output())
    if (match) return match
    const exited = await Promise.race([started.exited.then(() => true), new Promise((r) => setTimeout(r, 50, false))])
    if (exited) throw new Error(`npm run ferretdb exited: ${started.output()}`)
  }
}

/**
 * Ctrl-C: SIGINT to the process group of the npm process this test started. npm itself dies of the
 * signal at once; the server script stops FerretDB and says so.
 */
async function interrupt(started: Started): Promise<void> {
  process.kill(-started.child.pid!, 'SIGINT')
  await started.exited
  while (!started.output().includes('FerretDB stopped.')) await new Promise((r) => setTimeout(r, 50))
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

/** The environment of a developer's shell: no MongoDB or AWS settings, no colour. */
function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra }
  for (const key of [
    'MONGODB_URI',
    'MONGODB_DATABASE',
    'SNS_TOPIC_FEEDBACK_GOOD',
    'SNS_TOPIC_FEEDBACK_BAD',
    'SNS_TOPIC_FEEDBACK_NEUTRAL',
    'SQS_METADATA_QUEUE_URL',
  ]) {
    if (!(key in extra)) delete env[key]
  }
  return env
}

// Needs the FerretDB build of the test setup (not there when the tests run against MONGODB_URI).
describe.skipIf(Boolean(process.env.MONGODB_URI))('npm run ferretdb', () => {
  let dataDir: string
  let port: number
  const demoDb = uniqueName('msm_demo_keep')

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'msm-lasting-'))
    port = await freePort()
  })

  afterAll(async () => {
    for (const group of groups) {
      try {
        process.kill(-group, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    await rm(dataDir, { recursive: true, force: true })
  })

  it('serves until Ctrl-C, keeps its data, and the demo --keep hint prints a command that works', async () => {
    const first = npmRunFerretDB(['--port', String(port), '--data', dataDir])
    const uri = (await waitFor(first, /listening on (\S+)/))[1]!
    expect(uri).toBe(`mongodb://127.0.0.1:${port}/`)
    expect(first.output()).toContain(`export MONGODB_URI=${uri}`)

    const client = await new MongoClient(uri).connect()
    await client
      .db(demoDb)
      .collection('probe')
      .insertOne({ _id: 'kept' as never })
    await client.close()

    // A second server on the same data would take the first one's socket: refused.
    const second = await run('npm', ['run', '--silent', 'ferretdb', '--', '--port', '1', '--data', dataDir], shellEnv())
    expect(second.code).toBe(1)
    expect(second.stderr).toContain('is in use by process')

    const demo = await run(
      process.execPath,
      ['--import', 'tsx', 'examples/demo/main.ts', '--keep'],
      shellEnv({ MONGODB_URI: uri, MSM_DEMO_DB: demoDb }),
    )
    expect(demo.stderr).toBe('')
    expect(demo.code).toBe(0)
    const lines = demo.stdout.split('\n')
    const hint = lines[lines.indexOf('Session kept. Inspect it with the CLI:') + 1]!.trim()
    const sessionId = /sessions show (\S+)/.exec(hint)?.[1]
    expect(hint).toBe(`MONGODB_URI=${uri} npx tsx src/cli/main.ts sessions show ${sessionId} --db ${demoDb}`)
    // Run as printed, from a shell without MONGODB_URI.
    const shown = await run('sh', ['-c', hint], shellEnv())
    expect(shown.stderr).toBe('')
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(sessionId)
    expect(shown.stdout).toContain('lookup_order')

    await interrupt(first)
    await expect(new MongoClient(uri, { serverSelectionTimeoutMS: 300 }).connect()).rejects.toThrow()

    // Started again on the same data: the session is still there.
    const again = npmRunFerretDB(['--port', String(port), '--data', dataDir])
    await waitFor(again, /listening on /)
    try {
      const listed = await run(
        'sh',
        ['-c', `MONGODB_URI=${uri} npx tsx src/cli/main.ts sessions list --db ${demoDb} --json`],
        shellEnv(),
      )
      expect(listed.code).toBe(0)
      expect(JSON.parse(listed.stdout).items.map((i: { sessionId: string }) => i.sessionId)).toEqual([sessionId])
    } finally {
      await interrupt(again)
    }
  })

  it('the demo --keep on its temporary server points at npm run ferretdb', async () => {
    const demo = await run(
      process.execPath,
      ['--import', 'tsx', 'examples/demo/main.ts', '--keep'],
      shellEnv({ MSM_DEMO_DB: uniqueName('msm_demo_tmp') }),
    )
    expect(demo.code).toBe(0)
    expect(demo.stdout).toContain('Session kept, but in a temporary FerretDB that stops with the demo.')
    expect(demo.stdout).toMatch(/^ {3}npm run ferretdb {3}\(in another terminal/m)
    expect(demo.stdout).toContain('   MONGODB_URI=mongodb://127.0.0.1:27018/ npm run demo -- --keep')
  })
})
