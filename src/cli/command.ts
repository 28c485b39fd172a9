/**
 * The shape of a command and its argument parsing (`node:util` `parseArgs`, strict), plus the
 * generated `--help` text.
 */
import { parseArgs } from 'node:util'
import type { Connection } from './connection.js'
import { UsageError } from './errors.js'
import type { Output } from './output.js'

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** Shown in `--help`. */
  description: string
  /** Placeholder shown in `--help` for string options, e.g. `<date>`. */
  value?: string
}

/** A command: `sessions list`, `doctor`… */
export interface Command {
  /** Words after the program name, e.g. `['sessions', 'list']`. */
  path: string[]
  summary: string
  /** Positional arguments as shown in usage, e.g. `<id…>`. */
  args?: string
  /** Longer explanation shown in `--help`. */
  description?: string
  options: Record<string, OptionSpec>
  examples?: string[]
  /** Whether the command talks to MongoDB (adds the connection options). Default true. */
  connects?: boolean
  run(context: CommandContext): Promise<number | void>
}

/** Parsed values of string and boolean options. */
export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>

/** What a running command gets. */
export interface CommandContext {
  values: OptionValues
  positionals: string[]
  out: Output
  env: NodeJS.ProcessEnv
  /** Connects on first call (commands that fail on arguments never connect). */
  connect(): Promise<Connection>
  /** Aborted on SIGINT/SIGTERM: long commands finish their unit of work and stop. */
  signal: AbortSignal
}

/** Options every connecting command accepts. */
export const CONNECTION_OPTIONS: Record<string, OptionSpec> = {
  uri: { type: 'string', value: '<uri>', description: 'MongoDB connection string (default: $MONGODB_URI)' },
  db: {
    type: 'string',
    value: '<name>',
    description: 'database name (default: $MONGODB_DATABASE or "strands_sessions")',
  },
  prefix: { type: 'string', value: '<prefix>', description: 'collection name prefix (default: none)' },
  timeout: { type: 'string', value: '<ms>', description: 'server selection timeout in ms (default: 5000)' },
}

/** Options every command accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'machine-readable JSON on stdout' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
}

/** All options of `command`, in help order. */
export function optionsOf(command: Command): Record<string, OptionSpec> {
  return {
    ...command.options,
    ...(command.connects === false ? {} : CONNECTION_OPTIONS),
    ...COMMON_OPTIONS,
  }
}

/** Parses `argv` (the words after the command path) against the command's options. */
export function parseCommandArgs(command: Command, argv: string[]): { values: OptionValues; positionals: string[] } {
  const options = optionsOf(command)
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(options).map(([name, spec]) => [
          name,
          {
            type: spec.type,
            ...(spec.short !== undefined && { short: spec.short }),
            ...(spec.multiple !== undefined && { multiple: spec.multiple }),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    })
    return { values: values as OptionValues, positionals }
  } catch (error) {
    // parseArgs messages are clear ("Unknown option '--foo'"); drop its hint about `--` for positionals.
    const message = error instanceof Error ? error.message.split('. To specify')[0]! : String(error)
    throw new UsageError(message)
  }
}

/** `mongodb-session-manager sessions list [options]` */
export function usageLine(program: string, command: Command): string {
  return `${program} ${command.path.join(' ')}${command.args ? ` ${command.args}` : ''} [options]`
}

/** The full `--help` text of a command. */
export function helpText(program: string, command: Command): string {
  const lines = [`Usage: ${usageLine(program, command)}`, '', command.summary]
  if (command.description) lines.push('', command.description)
  const options = optionsOf(command)
  const labels = Object.entries(options).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '    '
    const value = spec.type === 'string' ? ` ${spec.value ?? '<value>'}` : ''
    return [`${short}--${name}${value}`, spec.description + (spec.multiple ? ' (repeatable)' : '')] as const
  })
  const width = Math.max(...labels.map(([l]) => l.length))
  lines.push('', 'Options:')
  for (const [label, description] of labels) lines.push(`  ${label.padEnd(width)}  ${description}`)
  if (command.examples?.length) {
    lines.push('', 'Examples:')
    for (const example of command.examples) lines.push(`  ${example}`)
  }
  return `${lines.join('\n')}\n`
}

/** A string option, or `undefined`. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/** A boolean option (false when absent). */
export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true
}

/** A repeatable string option (empty when absent). */
export function listOption(values: OptionValues, name: string): string[] {
  const value = values[name]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/** A positive integer option within [min, max], or `fallback` when absent. */
export function intOption(values: OptionValues, name: string, fallback: number, min = 1, max = 1_000_000): number {
  const raw = stringOption(values, name)
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return n
}

/**
 * A date option: an ISO 8601 date/time (`2026-11-01`, `2026-11-01T10:00:00Z`) or a duration ago
 * (`30m`, `12h`, `7d`).
 */
export function dateOption(values: OptionValues, name: string, now = new Date()): Date | undefined {
  const raw = stringOption(values, name)
  if (raw === undefined) return undefined
  const relative = /^(\d+)(s|m|h|d|w)$/.exec(raw.trim())
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2] as 's']
    return new Date(now.getTime() - Number(relative[1]) * unit)
  }
  const date = /^\d{4}-\d{2}-\d{2}/.test(raw) ? new Date(raw) : new Date(Number.NaN)
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(
      `--${name} must be an ISO date (2026-11-01, 2026-11-01T10:00:00Z) or a duration ago (30m, 12h, 7d), got ${JSON.stringify(raw)}`,
    )
  }
  return date
}
