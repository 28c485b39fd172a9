/**
 * Durations given as options: a whole number of milliseconds, or a string of a whole number and
 * one unit (`'500ms'`, `'90s'`, `'15m'`, `'12h'`, `'30d'`, `'2w'`).
 */
import { ConfigurationError } from '../errors.js'

/** Milliseconds per unit accepted by {@link parseDuration}. */
export const DURATION_UNITS: Readonly<Record<string, number>> = Object.freeze({
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
})

const PATTERN = /^([0-9]{1,16})(ms|s|m|h|d|w)$/

/**
 * The duration in milliseconds: a positive safe integer.
 * @throws {@link ConfigurationError} for anything else (zero, a fraction, an unknown unit, spaces).
 */
export function parseDuration(value: unknown, option: string): number {
  let ms: number
  if (typeof value === 'number') {
    ms = value
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value)
    if (!match) {
      throw new ConfigurationError(
        `${option} must be milliseconds or a string such as '30d', '12h', '15m', '90s', '500ms', got ${JSON.stringify(value)}`,
      )
    }
    ms = Number(match[1]) * DURATION_UNITS[match[2]!]!
  } else {
    throw new ConfigurationError(`${option} must be milliseconds or a duration string, got ${typeof value}`)
  }
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new ConfigurationError(`${option} must be a whole number of milliseconds > 0, got ${String(value)}`)
  }
  return ms
}
