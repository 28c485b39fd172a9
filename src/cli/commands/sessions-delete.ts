/**
 * `sessions delete <id…>`: deletes sessions one at a time with the library's `deleteSessions`
 * (every collection, the session document last).
 *
 * Whole or gone: every id is validated and looked up before anything is deleted; on SIGINT/SIGTERM
 * the session being deleted is finished and the remaining ones are left untouched (exit 130).
 * If the process is killed outright (SIGKILL, power loss), the session in progress keeps its session
 * document — it is still listed and found, and running the command again completes it.
 */
import { deleteSessions, type SessionDeleteCounts } from '../../features/catalogue.js'
import { validateIdentifier } from '../../validation/identifiers.js'
import { flag, type Command } from '../command.js'
import { CliError, EXIT, NotFoundCliError, UsageError, messageOf } from '../errors.js'
import { sessionExists } from '../queries/transcript.js'

function describeCounts(c: SessionDeleteCounts): string {
  return `${c.messages} messages, ${c.feedback} feedback, ${c.snapshots} snapshots, ${c.guardrailEvents} guardrail events`
}

export const sessionsDelete: Command = {
  path: ['sessions', 'delete'],
  args: '<id…>',
  summary: 'Delete sessions and all their data (each session whole or gone)',
  description:
    'Deletes every document of each session in every collection (messages, snapshots, feedback,\n' +
    'guardrail events, storage keys), the session document last, one session at a time.\n' +
    'Ctrl-C finishes the session in progress and stops (exit 130); run again to delete the rest.\n' +
    'Unknown ids are an error (exit 3, nothing deleted) unless --missing-ok.',
  options: {
    yes: {
      type: 'boolean',
      short: 'y',
      description: 'do not ask for confirmation (required when stdin is not a terminal)',
    },
    'missing-ok': { type: 'boolean', description: 'skip ids with no stored data instead of failing' },
  },
  examples: ['mongodb-session-manager sessions delete user-session-123 user-session-456 --yes'],
  async run({ values, positionals, out, connect, signal }) {
    if (positionals.length === 0) throw new UsageError('expected at least one session id')
    const ids = [...new Set(positionals.map((id) => validateIdentifier(id, 'session id')))]
    const yes = flag(values, 'yes')
    if (!yes && !process.stdin.isTTY) {
      throw new UsageError('refusing to delete without --yes (stdin is not a terminal to confirm on)')
    }
    const { collections } = await connect()
    const present: string[] = []
    const missing: string[] = []
    for (const id of ids) ((await sessionExists(collections, id)) ? present : missing).push(id)
    if (missing.length > 0 && !flag(values, 'missing-ok')) {
      throw new NotFoundCliError(
        `no stored data for session(s) ${missing.join(', ')}; nothing deleted (use --missing-ok to skip them)`,
      )
    }
    if (!yes && !(await confirm(`Delete ${present.length} session(s) and all their data? [y/N] `))) {
      out.line('aborted, nothing deleted')
      return EXIT.failure
    }
    const deleted: { sessionId: string; counts: SessionDeleteCounts }[] = []
    const progress = out.progress('deleting', present.length)
    let interrupted = false
    for (const sessionId of present) {
      if (signal.aborted) {
        interrupted = true
        break
      }
      // One session per call: its documents go first, its session document last.
      let counts: SessionDeleteCounts
      try {
        counts = await deleteSessions(collections, { sessionIds: [sessionId] })
      } catch (error) {
        progress.finish()
        const done = deleted.map((d) => d.sessionId).join(' ') || 'none'
        throw new CliError(
          `deleting session '${sessionId}' failed (${messageOf(error)}); deleted before it: ${done}. ` +
            'Run the command again to complete it (its session document is removed last, so it is still found).',
        )
      }
      deleted.push({ sessionId, counts })
      progress.tick()
      if (!out.json && !progress.enabled) out.line(`deleted ${sessionId} (${describeCounts(counts)})`)
    }
    progress.finish()
    const remaining = present.slice(deleted.length)
    if (out.json) {
      out.printJson({ deleted, skipped: missing, remaining, interrupted })
    } else {
      if (progress.enabled) for (const d of deleted) out.line(`deleted ${d.sessionId} (${describeCounts(d.counts)})`)
      if (missing.length > 0) out.line(out.style.dim(`skipped (no data): ${missing.join(', ')}`))
      if (interrupted)
        out.error(`interrupted: ${deleted.length} deleted, ${remaining.length} left untouched: ${remaining.join(' ')}`)
    }
    return interrupted ? EXIT.interrupted : EXIT.ok
  },
}

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises')
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}
