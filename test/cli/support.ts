/** Helpers for the CLI tests: seeding sessions with the library, running the CLI in-process or as a subprocess. */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoDBSessionManager } from '../../src/index.js'
import { runCli } from '../../src/cli/run.js'
import { testAgent } from '../support/agents.js'
import type { TestDatabase } from '../support/mongo.js'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in this process with captured, non-TTY streams. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, {
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: false },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: false },
    env: { NO_COLOR: '1', ...env },
  })
  return { code, stdout, stderr }
}

/** Connection arguments for a test database. */
export function dbArgs(db: TestDatabase): string[] {
  return ['--uri', db.uri, '--db', db.databaseName]
}

/** Starts the CLI as a child process (`node --import tsx src/cli/main.ts …`). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Runs the CLI as a child process to completion. */
export function runCliProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawnCli(args, env)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }))
  })
}

/** What {@link seedSession} stored. */
export interface SeededSession {
  sessionId: string
  messages: number
  feedback: number
}

/**
 * Creates a session through the library: one agent turn with a tool call (4 messages), metadata,
 * and the given feedback.
 */
export async function seedSession(
  db: TestDatabase,
  sessionId: string,
  options: {
    applicationName?: string
    userId?: string
    metadata?: Record<string, string | number>
    feedback?: ('up' | 'down' | null)[]
    metadataFields?: string[]
    prompt?: string
  } = {},
): Promise<SeededSession> {
  const manager = new MongoDBSessionManager({
    sessionId,
    client: db.client,
    databaseName: db.databaseName,
    ...(options.applicationName !== undefined && { applicationName: options.applicationName }),
    ...(options.userId !== undefined && { userId: options.userId }),
    ...(options.metadataFields !== undefined && { metadataFields: options.metadataFields }),
  })
  const agent = testAgent({ sessionManager: manager, id: 'support' })
  await agent.invoke(options.prompt ?? 'Where is my order?')
  if (options.metadata) await manager.updateMetadata(options.metadata)
  for (const rating of options.feedback ?? []) {
    await manager.addFeedback({ rating, comment: `rated ${rating ?? 'neutral'}`, agentId: 'support' })
  }
  await manager.close()
  return { sessionId, messages: agent.messages.length, feedback: options.feedback?.length ?? 0 }
}

/** Documents stored for a session, per collection. */
export async function documentsOf(
  db: TestDatabase,
  sessionId: string,
): Promise<{ sessions: number; messages: number; feedback: number }> {
  const [sessions, messages, feedback] = await Promise.all([
    db.db.collection('sessions').countDocuments({ _id: sessionId as never }),
    db.db.collection('messages').countDocuments({ session_id: sessionId }),
    db.db.collection('feedback').countDocuments({ session_id: sessionId }),
  ])
  return { sessions, messages, feedback }
}
