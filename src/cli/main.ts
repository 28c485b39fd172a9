#!/usr/bin/env node
/**
 * `mongodb-session-manager` command-line tool: entry point. See `run.ts` and `docs/cli.md`.
 *
 * SIGINT/SIGTERM do not kill the process outright: they abort the running command's signal, so a
 * `sessions delete` finishes the session it is deleting (each session whole or gone) and an export
 * removes its partial file. A second signal exits at once.
 */
import { configureLogger } from '../logging.js'
import { runCli } from './run.js'

// The library's log lines (warnings; everything with DEBUG=mongodb-session-manager) go to stderr:
// stdout carries the command's output, which `--json` keeps machine-readable.
const toStderr = (line: string): void => void process.stderr.write(`${line}\n`)
configureLogger({ logger: { debug: toStderr, info: toStderr, warn: toStderr, error: toStderr } })

const controller = new AbortController()
let signals = 0
const onSignal = (signal: NodeJS.Signals): void => {
  signals += 1
  if (signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143)
  controller.abort(new Error(`received ${signal}`))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
})
process.exitCode = code
// Long-running commands (relay) return only when stopped; anything still pending must not keep us alive.
process.off('SIGINT', onSignal)
process.off('SIGTERM', onSignal)
