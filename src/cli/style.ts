/**
 * Terminal styling: ANSI colours only when the stream is a TTY (and `NO_COLOR` is unset, or
 * `FORCE_COLOR` asks for them). Shared by the CLI and the examples.
 */

/** The subset of a writable stream the CLI writes to. */
export interface OutputStream {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
}

/** Colour helpers bound to one stream; each returns the text unchanged when colour is off. */
export interface Style {
  readonly enabled: boolean
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  blue(text: string): string
  magenta(text: string): string
  cyan(text: string): string
}

/** Whether to colour `stream`, following the `NO_COLOR` / `FORCE_COLOR` conventions. */
export function colourEnabled(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true
  return stream.isTTY === true && env.TERM !== 'dumb'
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
} as const

/** A {@link Style} for `stream` (or with colour forced on/off by `enabled`). */
export function createStyle(stream: OutputStream, enabled = colourEnabled(stream)): Style {
  const paint =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text
  return {
    enabled,
    bold: paint(...CODES.bold),
    dim: paint(...CODES.dim),
    red: paint(...CODES.red),
    green: paint(...CODES.green),
    yellow: paint(...CODES.yellow),
    blue: paint(...CODES.blue),
    magenta: paint(...CODES.magenta),
    cyan: paint(...CODES.cyan),
  }
}

/** Removes ANSI escape sequences (for width computations). */
export function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}
