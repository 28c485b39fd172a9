/**
 * The library's logger. One namespace, `mongodb-session-manager`; silent below `warn` unless the
 * level is lowered with {@link configureLogger} or `DEBUG=mongodb-session-manager`.
 *
 * Messages follow the Strands SDK's format: `key=<value>, key2=<value> | human message`.
 * Nothing logged here contains credentials: every line goes through `redactText`, which masks
 * connection strings and the secrets of those the library was given.
 */
import { redactText } from './redaction.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/** Anything with these four methods (console, pino, winston, the Strands `Logger`). */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export const LOGGER_NAMESPACE = 'mongodb-session-manager'

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

function defaultLevel(): LogLevel {
  const debug = process.env.DEBUG ?? ''
  if (debug.split(',').some((name) => name.trim() === LOGGER_NAMESPACE || name.trim() === '*')) return 'debug'
  const level = process.env.MONGODB_SESSION_MANAGER_LOG_LEVEL as LogLevel | undefined
  return level && level in order ? level : 'warn'
}

const consoleSink: Logger = {
  debug: (m) => console.debug(m),
  info: (m) => console.info(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
}

let sink: Logger = consoleSink
let threshold: LogLevel = defaultLevel()

/** Replace the sink and/or the level. `configureLogger({ level: 'debug' })` shows every MongoDB write and AWS call. */
export function configureLogger(options: { logger?: Logger; level?: LogLevel }): void {
  if (options.logger) sink = options.logger
  if (options.level) threshold = options.level
}

function emit(level: Exclude<LogLevel, 'silent'>, fields: Record<string, unknown>, message: string): void {
  if (order[level] < order[threshold]) return
  const prefix = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=<${typeof v === 'string' ? v : JSON.stringify(v)}>`)
    .join(', ')
  sink[level](redactText(`[${LOGGER_NAMESPACE}] ${prefix ? `${prefix} | ` : ''}${message}`))
}

/** Internal logger used across the library. */
export const log = {
  debug: (fields: Record<string, unknown>, message: string) => emit('debug', fields, message),
  info: (fields: Record<string, unknown>, message: string) => emit('info', fields, message),
  warn: (fields: Record<string, unknown>, message: string) => emit('warn', fields, message),
  error: (fields: Record<string, unknown>, message: string) => emit('error', fields, message),
  isDebug: () => order.debug >= order[threshold],
}

export { describeError, redactUri } from './redaction.js'
