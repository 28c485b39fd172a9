/**
 * Records the commands a `MongoClient` (created with `monitorCommands: true`) sends, with their
 * round-trip times: what a turn or a request costs in commands, whatever the engine. Handshakes,
 * heartbeats and authentication are left out, as in test/support/command-counter.ts.
 */
import { performance } from 'node:perf_hooks'
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, Document, MongoClient } from 'mongodb'

const IGNORED = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'ping',
  'buildInfo',
  'endSessions',
  'saslStart',
  'saslContinue',
])

export interface LoggedCommand {
  name: string
  /** The collection the command addresses (its first field's value), when it is a string. */
  collection: string | undefined
  /** The command's filter (`find`) or first update's filter (`update`), for telling queries apart. */
  filter: Document | undefined
  /**
   * From the command's start event to its reply's, in milliseconds (the driver's own `duration`
   * is whole milliseconds); undefined until the reply arrives.
   */
  durationMs: number | undefined
}

export interface CommandLog {
  /** Commands since the last `reset()`, in the order they were sent. */
  readonly commands: readonly LoggedCommand[]
  reset(): void
  stop(): void
}

export function logCommands(client: MongoClient): CommandLog {
  let commands: LoggedCommand[] = []
  const pending = new Map<number, { entry: LoggedCommand; startedAt: number }>()
  const started = (event: CommandStartedEvent) => {
    if (IGNORED.has(event.commandName)) return
    const command = event.command as Document
    const target: unknown = command[event.commandName]
    const entry: LoggedCommand = {
      name: event.commandName,
      collection: typeof target === 'string' ? target : undefined,
      filter:
        event.commandName === 'find'
          ? (command.filter as Document | undefined)
          : event.commandName === 'update'
            ? ((command.updates as Document[] | undefined)?.[0]?.q as Document | undefined)
            : undefined,
      durationMs: undefined,
    }
    commands.push(entry)
    pending.set(event.requestId, { entry, startedAt: performance.now() })
  }
  const finished = (event: CommandSucceededEvent | CommandFailedEvent) => {
    const started = pending.get(event.requestId)
    if (!started) return
    pending.delete(event.requestId)
    started.entry.durationMs = performance.now() - started.startedAt
  }
  client.on('commandStarted', started)
  client.on('commandSucceeded', finished)
  client.on('commandFailed', finished)
  return {
    get commands() {
      return commands
    },
    reset() {
      commands = []
      pending.clear()
    },
    stop() {
      client.off('commandStarted', started)
      client.off('commandSucceeded', finished)
      client.off('commandFailed', finished)
    },
  }
}

/** `2 (insert, update)`: the count, then the names in order, repeats folded (`getMore ×2`). */
export function describeCommands(names: readonly string[]): string {
  if (names.length === 0) return '0'
  const folded: string[] = []
  for (let i = 0; i < names.length;) {
    let j = i
    while (j < names.length && names[j] === names[i]) j++
    folded.push(j - i > 1 ? `${names[i]} ×${j - i}` : names[i]!)
    i = j
  }
  return `${names.length} (${folded.join(', ')})`
}
