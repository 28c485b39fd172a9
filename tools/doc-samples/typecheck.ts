/**
 * Type-checks documentation samples against this package, with the project's own TypeScript and
 * compiler options.
 *
 * Each sample becomes one module in a scratch project under the repository (so `@strands-agents/sdk`,
 * `zod` and the AWS clients resolve from its `node_modules`), where `mongodb-session-manager` and
 * `mongodb-session-manager/testing` and `/aws` map to the sources. The scratch project is left in place: `npx tsc
 * -p <workDir>` reproduces a failure. Free variables a sample relies on (`model`, `agent`, `app`…) come
 * from one explicit prelude of ambient declarations.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import type { DocSample } from './extract.js'

export interface TypecheckOptions {
  /** The repository root (holds `tsconfig.json`, `src/` and `node_modules/`). */
  repoRoot: string
  /** Scratch directory, inside `repoRoot`; emptied first. */
  workDir: string
  /** The ambient declarations file. */
  prelude: string
}

/** One compiler error, located in the Markdown file when it is inside a sample. */
export interface SampleDiagnostic {
  file: string
  line: number
  column: number
  code: number
  message: string
}

/** Returns the compiler's errors; an empty array means every checked sample compiles. */
export function typecheckSamples(samples: readonly DocSample[], options: TypecheckOptions): SampleDiagnostic[] {
  const { repoRoot, workDir } = options
  rmSync(workDir, { recursive: true, force: true })
  mkdirSync(path.join(workDir, 'samples'), { recursive: true })

  const bySourceFile = new Map<string, DocSample>()
  const checked = samples.filter((sample) => !sample.skip)
  for (const [index, sample] of checked.entries()) {
    const name = `${path.basename(sample.file, '.md').toLowerCase()}-${String(index).padStart(3, '0')}-line${sample.line}.ts`
    const file = path.join(workDir, 'samples', name)
    // `export {}` makes every sample a module: top-level await works, and its declarations stay its own.
    writeFileSync(file, `${sample.code}\nexport {}\n`)
    bySourceFile.set(path.resolve(file), sample)
  }

  const relative = (to: string): string => path.relative(workDir, to).split(path.sep).join('/')
  const tsconfig = {
    extends: relative(path.join(repoRoot, 'tsconfig.json')),
    compilerOptions: {
      noEmit: true,
      paths: {
        'mongodb-session-manager': [relative(path.join(repoRoot, 'src/index.ts'))],
        'mongodb-session-manager/testing': [relative(path.join(repoRoot, 'src/testing/index.ts'))],
        'mongodb-session-manager/aws': [relative(path.join(repoRoot, 'src/aws/index.ts'))],
      },
    },
    files: [relative(options.prelude), ...[...bySourceFile.keys()].map(relative)],
  }
  const configPath = path.join(workDir, 'tsconfig.json')
  writeFileSync(configPath, `${JSON.stringify(tsconfig, null, 2)}\n`)

  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
      },
    },
  )
  if (!parsed) throw new Error(`cannot read ${configPath}`)
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options })
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => locate(diagnostic, bySourceFile, repoRoot))
}

function locate(
  diagnostic: ts.Diagnostic,
  bySourceFile: ReadonlyMap<string, DocSample>,
  repoRoot: string,
): SampleDiagnostic {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
  if (!diagnostic.file || diagnostic.start === undefined) {
    return { file: '(project)', line: 0, column: 0, code: diagnostic.code, message }
  }
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
  const sample = bySourceFile.get(path.resolve(diagnostic.file.fileName))
  if (sample)
    return { file: sample.file, line: sample.line + line, column: character + 1, code: diagnostic.code, message }
  return {
    file: path.relative(repoRoot, diagnostic.file.fileName),
    line: line + 1,
    column: character + 1,
    code: diagnostic.code,
    message,
  }
}
