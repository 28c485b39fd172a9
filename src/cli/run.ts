/**
 * The CLI as a function: `runCli(argv, io)` parses, runs one command and returns its exit code.
 * `main.ts` wires it to the process; tests call it in-process with their own streams.
 */
import { helpText, parseCommandArgs, usageLine, type Command, type CommandContext } from './command.js'
import { COMMANDS } from './commands/index.js'
import { connectionSettings, openConnection, type Connection } from './connection.js'
import { EXIT, UsageError, exitCodeOf, messageOf } from './errors.js'
import { Output } from './output.js'
import type { OutputStream } from './style.js'

/** The program name shown in usage lines. */
export const PROGRAM = 'mongodb-session-manager'

/** Streams and environment of one run. */
export interface CliIo {
  stdout: OutputStream
  stderr: OutputStream
  env?: NodeJS.ProcessEnv
  /** Aborted to ask a long command to stop after its current unit of work (SIGINT/SIGTERM). */
  signal?: AbortSignal
}

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length))
  const lines = [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Inspect and maintain Strands Agents sessions stored by mongodb-session-manager.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Connection: --uri <uri> (or MONGODB_URI), --db <name>, --prefix <prefix>. Output: --json.',
    `Run '${PROGRAM} <command> --help' for the options of a command.`,
    '',
    'Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found, 130 interrupted.',
  ]
  return `${lines.join('\n')}\n`
}

/** Finds the longest command path that prefixes `argv`. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined
  for (const command of COMMANDS) {
    const n = command.path.length
    if (command.path.every((word, i) => argv[i] === word) && (!best || n > best.command.path.length)) {
      best = { command, rest: argv.slice(n) }
    }
  }
  return best
}

/** Runs the CLI once; never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env
  const json = argv.includes('--json')
  const out = new Output(io.stdout, io.stderr, { json, env })
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(topLevelHelp())
    return argv.length === 0 ? EXIT.usage : EXIT.ok
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    io.stdout.write(`${await packageVersion()}\n`)
    return EXIT.ok
  }
  const found = findCommand(argv)
  if (!found) {
    const group = COMMANDS.filter((c) => c.path[0] === argv[0])
    if (group.length > 0) {
      out.error(
        argv[1] === undefined || argv[1].startsWith('-')
          ? `'${argv[0]}' needs a subcommand: ${group.map((c) => c.path.slice(1).join(' ')).join(', ')}`
          : `unknown command '${argv[0]} ${argv[1]}'`,
      )
      io.stderr.write(group.map((c) => `  ${usageLine(PROGRAM, c)}\n`).join(''))
    } else {
      out.error(`unknown command '${argv[0]}'`)
      io.stderr.write(`Run '${PROGRAM} --help' for the list of commands.\n`)
    }
    return EXIT.usage
  }
  const { command, rest } = found
  let connection: Connection | undefined
  try {
    const { values, positionals } = parseCommandArgs(command, rest)
    if (values.help === true) {
      io.stdout.write(helpText(PROGRAM, command))
      return EXIT.ok
    }
    // Validate connection settings before the command does anything else.
    const settings = command.connects === false ? undefined : connectionSettings(values, env)
    const context: CommandContext = {
      values,
      positionals,
      out,
      env,
      signal: io.signal ?? new AbortController().signal,
      async connect() {
        if (!settings) throw new Error(`${command.path.join(' ')} does not connect`)
        connection ??= await openConnection(settings)
        return connection
      },
    }
    const code = await command.run(context)
    return code ?? EXIT.ok
  } catch (error) {
    const code = exitCodeOf(error)
    out.error(messageOf(error))
    if (error instanceof UsageError) io.stderr.write(`Usage: ${usageLine(PROGRAM, command)}\n(see --help)\n`)
    return code
  } finally {
    await connection?.close().catch(() => undefined)
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'mongodb-session-manager') return pkg.version ?? 'unknown'
    } catch {
      // try the next location (src/cli vs dist/cli)
    }
  }
  return 'unknown'
}
