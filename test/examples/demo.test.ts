/** `npm run demo` as a newcomer runs it (here against the test server through MONGODB_URI). */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../cli/support.js'
import { testMongoUri, uniqueName } from '../support/mongo.js'

function runDemo(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'examples/demo/main.ts'), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, MONGODB_URI: testMongoUri(), NO_COLOR: '1', MSM_DEMO_DB: demoDb }
  for (const key of [
    'SNS_TOPIC_FEEDBACK_GOOD',
    'SNS_TOPIC_FEEDBACK_BAD',
    'SNS_TOPIC_FEEDBACK_NEUTRAL',
    'SQS_METADATA_QUEUE_URL',
  ]) {
    delete env[key]
  }
  return env
}

// A throwaway database, dropped afterwards: a MongoDB given in MONGODB_URI is left as it was.
const demoDb = uniqueName('msm_demo_test')
afterAll(async () => {
  const client = await new MongoClient(testMongoUri()).connect()
  await client.db(demoDb).dropDatabase()
  await client.close()
})

describe('demo', () => {
  it('runs the whole system and exits 0', async () => {
    const result = await runDemo([], baseEnv())
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    for (const expected of [
      '1. Infrastructure',
      'local fauxqs',
      '→ tool lookup_order({"orderId":"A-1001"})',
      '✔ restored 6 messages, identical to what was saved',
      'Subject: Virtual Agents Feedback positive on session demo-',
      'Subject: Virtual Agents Feedback negative on session demo-',
      'Subject: Virtual Agents Feedback neutral on session demo-',
      '"operation":"update","metadata":{"status":"escalated","priority":"high","assigned_to":"supervisor-jane"}',
      '"operation":"delete","metadata":{"assigned_to":null}',
      'notifications      5 sent, 0 failed, 0 pending',
      'invocations        2 (3 cycles, 3 model calls)',
      'Demo finished.',
    ]) {
      expect(result.stdout).toContain(expected)
    }
    expect(result.stdout).not.toContain('\u001b[') // no colour when not a terminal
  })

  it('rejects bad arguments with exit 2', async () => {
    const result = await runDemo(['--model', 'gpt'], baseEnv())
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--model must be scripted or bedrock')
  })

  it('says precisely what failed (unreachable MongoDB) and exits 1', async () => {
    const result = await runDemo([], {
      ...baseEnv(),
      MONGODB_URI: 'mongodb://user:pw-secret@127.0.0.1:9/?serverSelectionTimeoutMS=500',
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/demo failed during "Conversation \(a support agent with a tool\)"/)
    expect(result.stderr).not.toContain('pw-secret')
  })
})
