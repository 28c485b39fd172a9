/**
 * Finds the TypeScript samples in a Markdown document: every fenced block whose info string starts with
 * `ts` or `typescript`. A block is type-checked unless its info string carries the `no-check` flag
 * (```` ```ts no-check ````), kept for the rare snippet that is deliberately partial.
 */

/** One fenced TypeScript block. */
export interface DocSample {
  /** The Markdown file, as given (used in messages). */
  file: string
  /** 1-based line, in `file`, of the first line of code (the line after the opening fence). */
  line: number
  /** The code, with the fence's own indentation removed. */
  code: string
  /** `true` for ```` ```ts no-check ```` blocks. */
  skip: boolean
}

/** A fence the extractor refuses (an unknown flag, a block never closed), so a typo cannot silently skip a sample. */
export class SampleSyntaxError extends Error {
  override readonly name = 'SampleSyntaxError'
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`)
  }
}

const LANGUAGES = new Set(['ts', 'typescript'])
const FLAGS = new Set(['no-check'])
const OPENING = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/

/** Every TypeScript block of `markdown`, in order. Blocks in other languages are ignored. */
export function extractSamples(markdown: string, file: string): DocSample[] {
  const lines = markdown.split(/\r?\n/)
  const samples: DocSample[] = []
  for (let i = 0; i < lines.length; i++) {
    const opening = OPENING.exec(lines[i] ?? '')
    if (!opening) continue
    const [, indent = '', fence = '', info = ''] = opening
    const [language = '', ...flags] = info.trim().split(/\s+/)
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
    let end = i + 1
    while (end < lines.length && !closing.test(lines[end] ?? '')) end++
    if (end === lines.length) throw new SampleSyntaxError(file, i + 1, 'code block never closed')
    if (LANGUAGES.has(language.toLowerCase())) {
      const unknown = flags.filter((flag) => !FLAGS.has(flag))
      if (unknown.length > 0) {
        throw new SampleSyntaxError(file, i + 1, `unknown flag ${unknown.join(', ')} (known: ${[...FLAGS].join(', ')})`)
      }
      const code = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
        .join('\n')
      samples.push({ file, line: i + 2, code, skip: flags.includes('no-check') })
    }
    i = end
  }
  return samples
}
