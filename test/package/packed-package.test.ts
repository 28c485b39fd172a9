/**
 * The package as npm publishes it: `npm pack` (which builds through `prepack`), installed into a fresh
 * ESM application next to the SDK and zod, without the optional AWS clients. The README Quickstart is
 * compiled there with the consumer's `tsc` settings (strict, NodeNext) and run against the test server,
 * with the offline `ScriptedModel` in place of Bedrock; the command-line tool runs from `.bin`.
 *
 * Packages come from the npm cache when it has them (`--prefer-offline`): after `npm ci` the cache holds
 * every tarball needed, so the registry is asked for package metadata at most.
 */
import { execFile, execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string }
const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

function expectSuccess(result: Run, what: string): void {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}\n${result.stdout}\n${result.stderr}`)
}

const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
const scripted =
  "new ScriptedModel([{ text: 'Your order A-1001 ships tomorrow.', usage: { inputTokens: 21, outputTokens: 8 } }])"

/** Reads the Quickstart back after it ran, from a second process, and probes the missing optional peer. */
const VERIFY = `import { Agent } from '@strands-agents/sdk'
import { ConfigurationError, MongoDBSessionManager } from 'mongodb-session-manager'
import { createFeedbackSnsHook, isFeedbackSnsHookAvailable } from 'mongodb-session-manager/aws'
import { ScriptedModel } from 'mongodb-session-manager/testing'

const sessionManager = new MongoDBSessionManager({
  sessionId: 'user-session-123',
  connectionString: process.env.MONGODB_URI!,
  databaseName: process.argv[2]!,
})
const agent = new Agent({ model: new ScriptedModel([]), sessionManager, printer: false })
await agent.initialize()
let missingPeer: { code: string; message: string } | undefined
try {
  createFeedbackSnsHook({ topicArnBad: 'arn:aws:sns:eu-west-1:123456789012:feedback-bad' })
} catch (error) {
  if (error instanceof ConfigurationError) missingPeer = { code: error.code, message: error.message }
}
const messages = agent.messages.map((message) => ({
  role: message.role,
  text: message.content.map((block) => (block.type === 'textBlock' ? block.text : block.type)).join(''),
}))
const summary = await sessionManager.getMetricsSummary()
console.log(
  JSON.stringify({
    messages,
    metadata: await sessionManager.getMetadata(),
    feedback: (await sessionManager.getFeedbacks()).items.map(({ rating, comment }) => ({ rating, comment })),
    metrics: summary.session,
    snsAvailable: await isFeedbackSnsHookAvailable(),
    missingPeer,
  }),
)
await sessionManager.close()
`

// Builds, installs and compiles: minutes on a loaded two-core machine, not the default minute.
describe('the packed package in a fresh application', { timeout: 180_000 }, () => {
  let work: string
  let app: string
  let tarball: string
  let packedFiles: string[]
  let db: TestDatabase

  // A copy of the checkout (tracked files, with the repository's node_modules linked in) is packed:
  // `prepack` rebuilds `dist/` from scratch, which must not pull the build out from under other test
  // files running at the same time (the viewer serves its assets from `dist/`).
  let checkout: string

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'msm-packed-'))
    app = path.join(work, 'app')
    checkout = path.join(work, 'checkout')
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0')
    for (const file of tracked.filter(Boolean)) {
      if (!existsSync(path.join(repoRoot, file))) continue
      mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true })
      copyFileSync(path.join(repoRoot, file), path.join(checkout, file))
    }
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(checkout, 'node_modules'), 'dir')
    db = await openTestDatabase('msm_packed')
  })

  afterAll(async () => {
    await db?.cleanup()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('packs a fresh build: dist and its sources, the guides, and nothing stale or generated', async () => {
    // Files the package must never carry: a stale build output, and generated API pages.
    const stale = path.join(checkout, 'dist', '__tests__', 'stale-probe.js')
    mkdirSync(path.dirname(stale), { recursive: true })
    writeFileSync(stale, 'stale\n')
    const apiDocs = path.join(checkout, 'docs', 'api')
    mkdirSync(apiDocs, { recursive: true })
    writeFileSync(path.join(apiDocs, 'pack-probe.html'), '<p>generated</p>\n')

    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], checkout)
    expectSuccess(packed, 'npm pack')
    const [report] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
      filename: string
      files: { path: string }[]
    }[]
    tarball = path.join(work, report!.filename)
    packedFiles = report!.files.map((file) => file.path)

    expect(existsSync(stale)).toBe(false) // prepack started from an empty dist
    for (const required of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'docs/getting-started.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
      'dist/cli/main.js',
      'dist/viewer-assets/index.html',
      'dist/viewer-assets/viewer.js',
      'dist/viewer-assets/viewer.css',
      'src/index.ts',
    ]) {
      expect(packedFiles).toContain(required)
    }
    expect(packedFiles.filter((file) => /(^|\/)__tests__\/|\.test\.|^docs\/api\//.test(file))).toEqual([])
    expect(packedFiles.every((file) => /^(dist|src|docs)\/|^[A-Z]+\.md$|^package\.json$/.test(file))).toBe(true)
  })

  it('installs next to the SDK and zod without the optional AWS clients', async () => {
    mkdirSync(app)
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, type: 'module' }))
    const installed = await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        tarball,
        `@strands-agents/sdk@${installedVersion('@strands-agents/sdk')}`,
        `zod@${installedVersion('zod')}`,
        `@types/node@${installedVersion('@types/node')}`,
      ],
      app,
    )
    expectSuccess(installed, 'npm install')
    for (const client of ['client-sns', 'client-sqs', 'client-apigatewaymanagementapi', 'client-kms']) {
      expect(existsSync(path.join(app, 'node_modules', '@aws-sdk', client))).toBe(false)
    }

    // Every source map points at a file the package ships.
    const root = path.join(app, 'node_modules', pkg.name)
    const maps = packedFiles.filter((file) => file.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(path.join(root, map), 'utf8')) as { sources: string[] }
      return sources
        .map((source) => path.resolve(path.dirname(path.join(root, map)), source))
        .filter((s) => !existsSync(s))
    })
    expect(missing).toEqual([])
  })

  it('compiles the README Quickstart (strict, NodeNext) and runs it; a second process reads it all back', async () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Quickstart'))
    const quickstart = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
    // The offline model and a database of its own replace Bedrock and 'my_db'; each replacement must apply.
    const replacements: [string, string][] = [
      [
        "import { BedrockModel } from '@strands-agents/sdk/models/bedrock'",
        "import { ScriptedModel } from 'mongodb-session-manager/testing'",
      ],
      ['new BedrockModel()', scripted],
      ["databaseName: 'my_db'", `databaseName: '${db.databaseName}'`],
    ]
    let source = quickstart
    for (const [from, to] of replacements) {
      expect(source, `README Quickstart no longer contains ${from}`).toContain(from)
      source = source.replace(from, to)
    }
    writeFileSync(path.join(app, 'quickstart.ts'), source)
    writeFileSync(path.join(app, 'verify.ts'), VERIFY)
    const compilerOptions = {
      target: 'ES2023',
      lib: ['ES2023'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      types: ['node'],
      outDir: 'out',
      skipLibCheck: true,
    }
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: ['quickstart.ts', 'verify.ts'] }),
    )
    expectSuccess(await run(process.execPath, [tsc, '-p', '.'], app), 'tsc')

    // The package's own declarations also pass a full check (no reference to an absent optional
    // package); errors inside other packages' declarations are theirs.
    const full = await run(process.execPath, [tsc, '-p', '.', '--noEmit', '--skipLibCheck', 'false'], app)
    const ours = full.stdout
      .split('\n')
      .filter((line) => line.includes(`node_modules/${pkg.name}/`) || /^\w+\.ts\(/.test(line))
    expect(ours).toEqual([])

    const env = { MONGODB_URI: db.uri }
    const quick = await run(process.execPath, ['out/quickstart.js'], app, env)
    expectSuccess(quick, 'the Quickstart')
    expect(quick.stdout).toContain('Your order A-1001 ships tomorrow.') // the agent's printed reply
    expect(quick.stdout).toMatch(/sessionId: 'user-session-123'/) // the metrics summary it logs
    expect(quick.stdout).toMatch(/totalTokens: 29\b/)

    const verify = await run(process.execPath, ['out/verify.js', db.databaseName], app, env)
    expectSuccess(verify, 'the verification')
    const state = JSON.parse(verify.stdout) as Record<string, unknown>
    expect(state.messages).toEqual([
      { role: 'user', text: 'Where is my order?' },
      { role: 'assistant', text: 'Your order A-1001 ships tomorrow.' },
    ])
    expect(state.metadata).toEqual({ status: 'processing', priority: 'high' })
    expect(state.feedback).toEqual([{ rating: 'down', comment: 'The response was incomplete' }])
    expect(state.metrics).toMatchObject({ invocations: 1, inputTokens: 21, outputTokens: 8, totalTokens: 29 })
    // Without @aws-sdk/client-sns the root entry still loads; only the SNS hook refuses, with the library's error.
    expect(state.snsAvailable).toBe(false)
    expect(state.missingPeer).toMatchObject({
      code: 'MSM_CONFIGURATION',
      message: expect.stringContaining('@aws-sdk/client-sns'),
    })
  })

  it('runs the command-line tool from node_modules/.bin', async () => {
    const bin = path.join(app, 'node_modules', '.bin', pkg.name)
    const help = await run(bin, ['--help'], app)
    expectSuccess(help, `${pkg.name} --help`)
    expect(help.stdout).toContain(`Usage: ${pkg.name} <command>`)
    expect(help.stdout).toContain('sessions show')

    const version = await run(bin, ['--version'], app)
    expect(version.stdout.trim()).toBe(pkg.version)

    const show = await run(bin, ['sessions', 'show', 'user-session-123', '--json', '--db', db.databaseName], app, {
      MONGODB_URI: db.uri,
    })
    expectSuccess(show, 'sessions show')
    expect(show.stdout).toContain('Your order A-1001 ships tomorrow.')
  })
})
