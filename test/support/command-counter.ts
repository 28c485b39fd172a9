/**
 * Counts the commands a client sends, by name (handshakes and heartbeats excluded): what a turn or
 * a request costs in round trips, independent of the engine.
 */
import type { CommandStartedEvent, MongoClient } from 'mongodb'

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

export interface CommandLog {
  /** Commands seen since the last `reset()`, in order, e.g. `['find', 'insert', 'update']`. */
  readonly commands: string[]
  /** The full events, for checking filters and sorts. */
  readonly events: CommandStartedEvent[]
  reset(): void
  stop(): void
}

/** Starts counting the commands of `client` (created with `monitorCommands: true`). */
export function countCommands(client: MongoClient): CommandLog {
  const commands: string[] = []
  const events: CommandStartedEvent[] = []
  const listener = (event: CommandStartedEvent) => {
    if (IGNORED.has(event.commandName)) return
    commands.push(event.commandName)
    events.push(event)
  }
  client.on('commandStarted', listener)
  return {
    commands,
    events,
    reset() {
      commands.length = 0
      events.length = 0
    },
    stop() {
      client.off('commandStarted', listener)
    },
  }
}
