/**
 * Exit codes and the error type commands throw to end with one of them.
 *
 * Library errors are mapped in {@link exitCodeOf}: a `ValidationError` is bad input (2), a
 * `NotFoundError` is not found (3), everything else is a failure (1).
 */
import { MongoSessionError } from '../errors.js'
import { describeError, redactText } from '../redaction.js'

/** The CLI's exit codes. Part of its contract: scripts branch on them. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  /** Stopped by SIGINT/SIGTERM after finishing the unit of work in progress. */
  interrupted: 130,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** An error that ends the command with `exitCode` and prints only `message` (no stack). */
export class CliError extends Error {
  override readonly name: string = 'CliError'
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
  ) {
    super(message)
  }
}

/** Bad arguments: exit code 2, and the command's usage line is printed after the message. */
export class UsageError extends CliError {
  override readonly name = 'UsageError'
  constructor(message: string) {
    super(message, EXIT.usage)
  }
}

/** Something named on the command line does not exist: exit code 3. */
export class NotFoundCliError extends CliError {
  override readonly name = 'NotFoundCliError'
  constructor(message: string) {
    super(message, EXIT.notFound)
  }
}

/** Exit code for any thrown value. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode
  if (error instanceof MongoSessionError) {
    if (error.code === 'MSM_VALIDATION') return EXIT.usage
    if (error.code === 'MSM_NOT_FOUND') return EXIT.notFound
  }
  return EXIT.failure
}

/** One-line message for any thrown value, connection strings redacted. */
export function messageOf(error: unknown): string {
  // Messages built by the CLI and the library are already redacted; once more costs nothing.
  if (error instanceof CliError || error instanceof MongoSessionError) return redactText(error.message)
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'MongoServerSelectionError' || name === 'MongoNetworkError' || name === 'MongoNetworkTimeoutError') {
    return `cannot reach the MongoDB server: ${describeError(error).replace(/^[A-Za-z]+: /, '')}`
  }
  return describeError(error)
}
