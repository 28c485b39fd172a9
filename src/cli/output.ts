/**
 * What commands write: human text or JSON on stdout, diagnostics and progress on stderr.
 *
 * Progress bars are drawn only when stderr is a TTY, so piped or captured output never contains
 * carriage-return noise.
 */
import { displayJson } from './sealed.js'
import { createStyle, stripAnsi, type OutputStream, type Style } from './style.js'

/** Writers for one command run. */
export class Output {
  readonly style: Style
  readonly errStyle: Style
  readonly json: boolean

  constructor(
    readonly stdout: OutputStream,
    readonly stderr: OutputStream,
    options: { json?: boolean; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.json = options.json ?? false
    this.style = createStyle(stdout, options.json ? false : undefined)
    this.errStyle = createStyle(stderr)
  }

  /** A line of text on stdout. */
  line(text = ''): void {
    this.stdout.write(`${text}\n`)
  }

  /** A value as pretty JSON on stdout. */
  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }

  /** A diagnostic on stderr. */
  warn(text: string): void {
    this.stderr.write(`${this.errStyle.yellow('warning:')} ${text}\n`)
  }

  /** A status line on stderr (progress of a long command when stderr is not a terminal). */
  status(text: string): void {
    this.stderr.write(`${text}\n`)
  }

  /** An error message on stderr. */
  error(text: string): void {
    this.stderr.write(`${this.errStyle.red('error:')} ${text}\n`)
  }

  /** A section heading. */
  heading(text: string): void {
    this.line(this.style.bold(text))
  }

  /** Aligned `key  value` lines. */
  fields(entries: [string, string][], indent = '  '): void {
    const width = Math.max(0, ...entries.map(([k]) => k.length))
    for (const [key, value] of entries) this.line(`${indent}${this.style.dim(key.padEnd(width))}  ${value}`)
  }

  /** A table with a header row; cells may contain colour codes. */
  table(headers: string[], rows: string[][]): void {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => stripAnsi(r[i] ?? '').length)))
    const pad = (cell: string, i: number) => cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - stripAnsi(cell).length))
    this.line(this.style.bold(headers.map(pad).join('  ').trimEnd()))
    for (const row of rows) this.line(row.map(pad).join('  ').trimEnd())
  }

  /**
   * One page of a paged listing: the page as JSON with `--json`, otherwise `empty` or a table of
   * `row(item)` under `headers`, followed by the `--cursor` to continue with.
   */
  page<T>(
    page: { items: T[]; nextCursor: string | null },
    view: { empty: string; headers: string[]; row: (item: T) => string[] },
  ): void {
    if (this.json) return this.printJson(page)
    if (page.items.length === 0) return this.line(this.style.dim(view.empty))
    this.table(view.headers, page.items.map(view.row))
    if (page.nextCursor) this.line(`\n${this.style.dim('next:')} --cursor ${page.nextCursor}`)
  }

  /** A progress bar on stderr (a no-op unless stderr is a TTY and output is not JSON-only). */
  progress(label: string, total: number): Progress {
    return new Progress(this.stderr, label, total, this.stderr.isTTY === true)
  }
}

/** A single-line progress bar redrawn in place; silent when not attached to a terminal. */
export class Progress {
  #done = 0
  #lastDraw = 0

  constructor(
    readonly stream: OutputStream,
    readonly label: string,
    readonly total: number,
    readonly enabled: boolean,
  ) {}

  /** Advances by `n` and redraws at most every 50 ms. */
  tick(n = 1): void {
    this.#done += n
    const now = Date.now()
    if (this.enabled && (now - this.#lastDraw > 50 || this.#done >= this.total)) {
      this.#lastDraw = now
      this.#draw()
    }
  }

  #draw(): void {
    const width = 30
    const ratio = this.total > 0 ? Math.min(1, this.#done / this.total) : 1
    const filled = Math.round(ratio * width)
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
    this.stream.write(`\r${this.label} ${bar} ${this.#done}/${this.total} (${Math.round(ratio * 100)}%)`)
  }

  /** Clears the bar. */
  finish(): void {
    if (this.enabled) this.stream.write(`\r${' '.repeat(this.label.length + 60)}\r`)
  }
}

/** `2026-11-28 10:30:45Z` style, or `-`. */
export function formatDate(value: Date | null | undefined): string {
  if (!value) return '-'
  return value
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z')
}

/** Shortens `text` to `max` characters with an ellipsis, on one line. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`
}

/** Compact JSON of a small value for a table cell (encrypted values as `"[encrypted]"`). */
export function compactJson(value: unknown, max = 60): string {
  return truncate(displayJson(value) || 'null', max)
}
