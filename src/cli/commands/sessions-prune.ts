/**
 * `sessions prune`: deletes every document of expired sessions (`retention`) with the library's
 * `pruneExpiredSessions`, in batches, each session's documents first and its session document last.
 *
 * Ctrl-C stops after the batch in progress (exit 130): a session left half-pruned is still expired,
 * so it reads as absent, and running the command again finishes it.
 */
import { pruneExpiredSessions, type PruneProgress, type PruneResult } from '../../features/retention.js'
import { COLLECTIONS, type CollectionKey } from '../../storage/schema.js'
import { flag, intOption, type Command } from '../command.js'
import { EXIT } from '../errors.js'
import type { Output } from '../output.js'

function describeCounts(counts: PruneResult['counts']): string {
  return (Object.keys(COLLECTIONS) as CollectionKey[]).map((key) => `${counts[key]} ${COLLECTIONS[key]}`).join(', ')
}

/** Progress on stderr: a bar on a terminal, otherwise a line at most every second. */
function progressReporter(out: Output, total: number, dryRun: boolean) {
  const bar = out.progress(dryRun ? 'counting' : 'pruning', total)
  let shown = 0
  let lastLine = 0
  return {
    update(p: PruneProgress) {
      const done = p.sessions + p.skippedPendingNotifications
      if (done > shown) bar.tick(done - shown)
      shown = Math.max(shown, done)
      const now = Date.now()
      if (!bar.enabled && now - lastLine >= 1_000) {
        lastLine = now
        out.status(
          `${dryRun ? 'counted' : 'pruned'} ${p.sessions}/${total} expired session(s), ${p.counts.messages} messages…`,
        )
      }
    },
    finish(result: PruneResult) {
      bar.finish()
      if (!bar.enabled) out.status(`${dryRun ? 'counted' : 'pruned'} ${result.sessions}/${total} expired session(s)`)
    },
  }
}

export const sessionsPrune: Command = {
  path: ['sessions', 'prune'],
  summary: 'Delete every document of expired sessions (retention)',
  description:
    'Deletes, in every collection, the documents of each session whose expiry time has passed (sessions\n' +
    'managed with `retention: { expireAfter }`), the session document last. Sessions with undelivered\n' +
    "durable notifications are skipped until they are delivered (run 'relay'). Progress goes to stderr.\n" +
    'Ctrl-C stops after the batch in progress (exit 130); a half-pruned session stays expired (absent to\n' +
    'readers) and the next run finishes it. Safe to run from several processes at once.',
  options: {
    'dry-run': { type: 'boolean', description: 'count what would be deleted; delete nothing' },
    'batch-size': {
      type: 'string',
      value: '<n>',
      description: 'sessions listed, and documents deleted, per command (default 100)',
    },
  },
  examples: ['mongodb-session-manager sessions prune --dry-run', 'mongodb-session-manager sessions prune --json'],
  async run({ values, out, connect, signal }) {
    const dryRun = flag(values, 'dry-run')
    const batchSize = intOption(values, 'batch-size', 100, 1, 10_000)
    const { collections } = await connect()
    const now = new Date()
    const total = await collections.sessions.countDocuments({ expires_at: { $lte: now } })
    const progress = progressReporter(out, total, dryRun)
    const result = await pruneExpiredSessions(collections, {
      batchSize,
      dryRun,
      signal,
      now: () => now,
      onProgress: (p) => progress.update(p),
    })
    progress.finish(result)
    if (out.json) {
      out.printJson(result)
    } else {
      const verb = dryRun ? 'would delete' : 'deleted'
      out.line(`${result.sessions} expired session(s): ${verb} ${describeCounts(result.counts)}`)
      if (result.skippedPendingNotifications > 0) {
        out.line(
          out.style.yellow(
            `skipped ${result.skippedPendingNotifications} session(s) with undelivered notifications (run 'relay', then prune again)`,
          ),
        )
      }
      if (result.aborted) out.error('interrupted: run the command again to finish')
    }
    return result.aborted ? EXIT.interrupted : EXIT.ok
  },
}
