/**
 * The documentation sample checker (`npm run docs:check`): it must find every TypeScript block, point
 * at the Markdown line of an error, and fail the run on a sample that does not compile.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { extractSamples, SampleSyntaxError } from '../../tools/doc-samples/extract.js'
import { typecheckSamples } from '../../tools/doc-samples/typecheck.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const prelude = path.join(repoRoot, 'tools/doc-samples/prelude.d.ts')
const scratch: string[] = []

function workDir(): string {
  const dir = path.join(repoRoot, '.cache', `doc-samples-test-${process.pid}-${scratch.length}`)
  scratch.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
})

const fence = '```'

describe('extractSamples', () => {
  it('takes ts and typescript blocks with their first code line, and nothing else', () => {
    const markdown = [
      '# Title', // 1
      `${fence}ts`, // 2
      'const a = 1', // 3
      fence, // 4
      `${fence}bash`, // 5
      'npm test', // 6
      fence, // 7
      '1. a list item:', // 8
      `   ${fence}typescript`, // 9
      '   const b = 2', // 10
      '     .toString()', // 11
      `   ${fence}`, // 12
      `${fence}ts no-check`, // 13
      'partial(', // 14
      fence, // 15
    ].join('\n')
    expect(extractSamples(markdown, 'x.md')).toEqual([
      { file: 'x.md', line: 3, code: 'const a = 1', skip: false },
      { file: 'x.md', line: 10, code: 'const b = 2\n  .toString()', skip: false },
      { file: 'x.md', line: 14, code: 'partial(', skip: true },
    ])
  })

  it('does not mistake a fenced block inside a longer fence for a sample', () => {
    const markdown = ['````md', `${fence}ts`, 'not a sample', fence, '````'].join('\n')
    expect(extractSamples(markdown, 'x.md')).toEqual([])
  })

  it('refuses an unknown flag (a typo must not silently skip a sample) and an unclosed block', () => {
    expect(() => extractSamples(`${fence}ts nocheck\nx\n${fence}`, 'x.md')).toThrow(SampleSyntaxError)
    expect(() => extractSamples(`${fence}ts\nconst a = 1\n`, 'x.md')).toThrow(/never closed/)
  })
})

// Each check compiles the library's sources with the samples: slow on a loaded machine.
describe('typecheckSamples', { timeout: 180_000 }, () => {
  it('reports an error at its Markdown line, skips no-check blocks, and accepts a correct sample', () => {
    const markdown = [
      `${fence}ts`, // 1
      "import { MongoDBSessionManager } from 'mongodb-session-manager'", // 2
      "import { ScriptedModel } from 'mongodb-session-manager/testing'", // 3
      '', // 4
      "const manager = new MongoDBSessionManager({ sessionId: 's-1', connectionString: 'mongodb://localhost' })", // 5
      "await manager.updateMetadata({ status: 'open' })", // 6
      "new ScriptedModel([{ text: 'hi' }])", // 7
      fence, // 8
      `${fence}ts`, // 9
      'await sessionManager.addFeedbak({ rating: "up" }) // a typo of the real method', // 10
      fence, // 11
      `${fence}ts no-check`, // 12
      'this would not compile(', // 13
      fence, // 14
    ].join('\n')
    const diagnostics = typecheckSamples(extractSamples(markdown, 'guide.md'), {
      repoRoot,
      workDir: workDir(),
      prelude,
    })
    expect(diagnostics.map(({ file, line, column, code }) => ({ file, line, column, code }))).toEqual([
      { file: 'guide.md', line: 10, column: 22, code: 2551 },
    ])
    expect(diagnostics[0]?.message).toMatch(/addFeedbak.*addFeedback/)
  })

  it('fails `npm run docs:check` with exit code 1 on a broken sample', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'msm-doc-samples-'))
    try {
      const file = path.join(dir, 'broken.md')
      writeFileSync(file, `# Broken\n\n${fence}ts\nconst count: number = await manager.getMetadata()\n${fence}\n`)
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'tools/doc-samples/check.ts', file], {
        cwd: repoRoot,
        env: { ...process.env, DOC_SAMPLES_WORKDIR: workDir() },
        encoding: 'utf8',
      })
      expect(run.status).toBe(1)
      expect(run.stderr).toContain(`${file}:4:7 - error TS2322`)
      expect(run.stdout).toContain('1 checked in 1 files; 1 errors on 1 lines')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
