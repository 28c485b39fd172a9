/**
 * The availability check and the hook factory must give the same answer, also when the application
 * is bundled. A tiny app importing the library and the SNS client is bundled with esbuild into a
 * directory with no node_modules, then run with node:
 * - alone: the AWS client package cannot be resolved by the library (the bundle's inlined copy is
 *   the application's, not something the library can look up), so the check says false and the
 *   factory throws — they agree;
 * - with NODE_PATH pointing at an install (as the Lambda runtime does for its bundled SDK): the check
 *   says true, the factory succeeds, and a notification really reaches the emulator.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFauxqs, type RunningFauxqs } from '../support/fauxqs.js'
import { createTopicWithQueues, drain } from './support/aws.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
let dir: string
let bundle: string
let fauxqs: RunningFauxqs

beforeAll(async () => {
  fauxqs = await startFauxqs()
  dir = await mkdtemp(join(tmpdir(), 'msm-bundle-'))
  bundle = join(dir, 'app.mjs')
  await build({
    entryPoints: [join(root, 'test/aws/fixtures/bundled-app.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'error',
    // The usual shim for CommonJS dependencies (the MongoDB driver) inside an ESM bundle.
    banner: {
      js: "import { createRequire as __msmCreateRequire } from 'node:module'; const require = __msmCreateRequire(import.meta.url);",
    },
    // Optional peer dependencies of the MongoDB driver that are not installed.
    external: [
      'kerberos',
      '@mongodb-js/zstd',
      '@aws-sdk/credential-providers',
      'gcp-metadata',
      'snappy',
      'socks',
      'aws4',
      'mongodb-client-encryption',
    ],
  })
})

afterAll(async () => {
  await fauxqs?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

async function runBundle(env: Record<string, string>): Promise<{ available: boolean; factory: string; sent: number }> {
  const { NODE_PATH: _ignored, ...inherited } = process.env
  const { stdout } = await run(process.execPath, [bundle], { cwd: dir, env: { ...inherited, ...env }, timeout: 30_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { available: boolean; factory: string; sent: number }
}

describe('bundled application (esbuild)', () => {
  it('without a resolvable AWS client package: the check says false and the factory throws MSM_CONFIGURATION', async () => {
    const out = await runBundle({})
    expect(out).toEqual({ available: false, factory: 'MSM_CONFIGURATION', sent: 0 })
  })

  it('with the package resolvable through NODE_PATH: the check says true, the factory works, the message arrives', async () => {
    const topic = await createTopicWithQueues(fauxqs, 'bundled-feedback')
    const out = await runBundle({
      NODE_PATH: join(root, 'node_modules'),
      TOPIC_ARN: topic.topicArn,
      SNS_ENDPOINT: fauxqs.endpoint,
    })
    expect(out).toEqual({ available: true, factory: 'created', sent: 1 })
    const [message] = await drain(fauxqs, topic.rawQueueUrl, 1)
    expect(message?.Body).toBe('Session: bundled-app\n\nsent from a bundle')
  })
})
