/**
 * `npm run docs:check`: type-checks every TypeScript sample of README.md and docs/*.md against this
 * package, so the documentation cannot drift from the API.
 *
 *   tsx tools/doc-samples/check.ts [file.md …]
 *
 * Exit code 0 when every sample compiles, 1 when one does not (each error is printed at its Markdown
 * line), 2 on a malformed fence. Free variables the samples share are declared in `prelude.d.ts`; a
 * deliberately partial snippet can opt out with ```` ```ts no-check ````.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { extractSamples, SampleSyntaxError, type DocSample } from './extract.js'
import { typecheckSamples } from './typecheck.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '..', '..')

function defaultFiles(): string[] {
  const docs = readdirSync(path.join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => path.join('docs', name))
  return ['README.md', ...docs]
}

function main(args: string[]): number {
  const workDir = process.env.DOC_SAMPLES_WORKDIR ?? path.join(repoRoot, '.cache', 'doc-samples')
  const files = args.length > 0 ? args : defaultFiles()
  let samples: DocSample[]
  try {
    samples = files.flatMap((file) => extractSamples(readFileSync(path.resolve(repoRoot, file), 'utf8'), file))
  } catch (error) {
    if (error instanceof SampleSyntaxError) {
      console.error(error.message)
      return 2
    }
    throw error
  }
  const diagnostics = typecheckSamples(samples, { repoRoot, workDir, prelude: path.join(here, 'prelude.d.ts') })
  for (const d of diagnostics) console.error(`${d.file}:${d.line}:${d.column} - error TS${d.code}: ${d.message}`)
  const skipped = samples.filter((sample) => sample.skip).length
  const failing = new Set(diagnostics.map((d) => `${d.file}:${d.line}`)).size
  console.log(
    `doc samples: ${samples.length - skipped} checked in ${files.length} files` +
      (skipped > 0 ? `, ${skipped} marked no-check` : '') +
      (diagnostics.length > 0 ? `; ${diagnostics.length} errors on ${failing} lines` : '; all compile'),
  )
  return diagnostics.length > 0 ? 1 : 0
}

process.exitCode = main(process.argv.slice(2))
