/**
 * `sessions export <id>`: everything stored for a session as JSON Lines — one `session` line, then
 * `message`, `feedback` and `guardrail_event` lines. With `--out`, the file appears only when the
 * export is complete (written to a temporary file next to it, then renamed).
 */
import { once, type EventEmitter } from 'node:events'
import { createWriteStream, type WriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { loadAgents } from '../../features/agent-config.js'
import { loadFeedbackPage } from '../../features/feedback.js'
import { loadGuardrailEvents } from '../../features/guardrails.js'
import { loadMetricsSummary } from '../../features/metrics.js'
import type { SessionCollections } from '../../storage/collections.js'
import { stringOption, type Command } from '../command.js'
import { CliError, EXIT, NotFoundCliError } from '../errors.js'
import type { Progress } from '../output.js'
import type { OutputStream } from '../style.js'
import { displayFeedback } from '../queries/feedback.js'
import { countMessages, loadSessionDocument, readTranscript } from '../queries/transcript.js'
import { decodeForDisplay, redactSealed } from '../sealed.js'
import { sessionIdArgument } from './sessions-show.js'

/** Bumped when the line format changes incompatibly. */
export const EXPORT_FORMAT_VERSION = 1

interface LineSink {
  write(line: unknown): Promise<void>
}

function sinkFor(stream: OutputStream | WriteStream): LineSink {
  return {
    async write(value) {
      const ok = stream.write(`${JSON.stringify(value)}\n`)
      // Respect back-pressure on real streams (a pipe to a slow reader, a file).
      if (ok === false && typeof (stream as Partial<EventEmitter>).once === 'function') {
        await once(stream as EventEmitter, 'drain')
      }
    },
  }
}

/** Writes every line of the export to `sink`; returns the number of lines per type. */
export async function writeExport(
  collections: SessionCollections,
  sessionId: string,
  sink: LineSink,
  options: { signal?: AbortSignal; progress?: (n: number) => void } = {},
): Promise<Record<string, number>> {
  const session = await loadSessionDocument(collections, sessionId)
  if (!session) throw new NotFoundCliError(`session '${sessionId}' not found`)
  const counts: Record<string, number> = { session: 1, message: 0, feedback: 0, guardrail_event: 0 }
  const [agents, metrics, snapshots] = await Promise.all([
    // The captured system prompt is sealed in encrypted sessions.
    loadAgents(collections, sessionId).then(redactSealed),
    loadMetricsSummary(collections, sessionId),
    collections.snapshots.countDocuments({ session_id: sessionId }),
  ])
  await sink.write({
    type: 'session',
    format_version: EXPORT_FORMAT_VERSION,
    exported_at: new Date(),
    session_id: sessionId,
    application_name: session.application_name,
    created_at: session.created_at,
    updated_at: session.updated_at,
    metadata: decodeForDisplay(session.metadata ?? {}),
    feedback_counts: { up: 0, down: 0, neutral: 0, ...session.feedback_counts },
    agents,
    metrics,
    snapshot_count: snapshots,
  })
  const check = () => {
    if (options.signal?.aborted) throw new CliError('export interrupted', EXIT.interrupted)
  }
  for await (const m of readTranscript(collections, session, sessionId)) {
    check()
    await sink.write({
      type: 'message',
      agent_id: m.agentId,
      seq: m.seq,
      active: m.active,
      created_at: m.createdAt,
      message: m.message,
      ...(m.invocationMetrics && { invocation_metrics: m.invocationMetrics }),
    })
    counts.message! += 1
    options.progress?.(1)
  }
  for (let cursor: string | null = null; ;) {
    check()
    const page = await loadFeedbackPage(collections, sessionId, { limit: 500, cursor })
    for (const f of displayFeedback(page.items)) await sink.write({ type: 'feedback', ...f })
    counts.feedback! += page.items.length
    if (!page.nextCursor) break
    cursor = page.nextCursor
  }
  for (let cursor: string | null = null; ;) {
    check()
    const page = await loadGuardrailEvents(collections, sessionId, { limit: 500, cursor })
    for (const e of page.items) await sink.write({ type: 'guardrail_event', ...redactSealed(e) })
    counts.guardrail_event! += page.items.length
    if (!page.nextCursor) break
    cursor = page.nextCursor
  }
  return counts
}

export const sessionsExport: Command = {
  path: ['sessions', 'export'],
  args: '<id>',
  summary: 'Export a session as JSON Lines (stdout or --out file)',
  description:
    'Lines: {"type":"session",…} first, then "message" (every stored message, active and history),\n' +
    '"feedback" and "guardrail_event" lines. Media bytes are base64, as in the SDK’s JSON.\n' +
    'Values encrypted at rest read as {"$encrypted":true} (the CLI holds no key); an expired session\n' +
    'is not found.\n' +
    'With --out the file is written under a temporary name and renamed when complete.',
  options: {
    out: { type: 'string', short: 'o', value: '<file>', description: 'write to this file instead of stdout' },
  },
  examples: ['mongodb-session-manager sessions export user-session-123 --out session.jsonl'],
  async run({ values, positionals, out, connect, signal }) {
    const sessionId = sessionIdArgument(positionals)
    const file = stringOption(values, 'out')
    const { collections } = await connect()
    let progress: Progress | undefined
    if (out.stderr.isTTY) progress = out.progress('exporting', await countMessages(collections, sessionId))
    if (file === undefined) {
      const counts = await writeExport(collections, sessionId, sinkFor(out.stdout), {
        signal,
        progress: (n) => progress?.tick(n),
      })
      progress?.finish()
      if (out.stderr.isTTY)
        out.stderr.write(`exported ${sessionId}: ${counts.message} messages, ${counts.feedback} feedback\n`)
      return
    }
    const target = path.resolve(file)
    const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.partial`)
    const stream = createWriteStream(temporary, { flags: 'wx' })
    await once(stream, 'open').catch((error: Error) => {
      throw new CliError(`cannot write ${file}: ${error.message}`)
    })
    try {
      const counts = await writeExport(collections, sessionId, sinkFor(stream), {
        signal,
        progress: (n) => progress?.tick(n),
      })
      stream.end()
      await once(stream, 'finish')
      await rename(temporary, target)
      progress?.finish()
      if (out.json) out.printJson({ sessionId, file: target, lines: counts })
      else
        out.line(
          `exported ${sessionId} → ${file}: ${counts.message} messages, ${counts.feedback} feedback, ${counts.guardrail_event} guardrail events`,
        )
    } catch (error) {
      progress?.finish()
      stream.destroy()
      await rm(temporary, { force: true })
      throw error
    }
  },
}
