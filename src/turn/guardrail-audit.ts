/**
 * The guardrail audit: one event per model call in which a guardrail intervened (input or output
 * redacted, or the model stopped with `guardrailIntervened`). Runs after the save that a redaction
 * triggers, so the event can name the stored message it concerns by sequence number — looked up in
 * what the agent store knows, never by a query.
 */
import { AfterModelCallEvent, HookOrder, type LocalAgent } from '@strands-agents/sdk'
import { log } from '../logging.js'
import type { SessionCollections } from '../storage/collections.js'
import {
  extractPoliciesTriggered,
  insertGuardrailEvent,
  traceAction,
  type GuardrailEvent,
} from '../features/guardrails.js'
import type { InvocationTracker } from './invocation-tracker.js'
import type { SessionCrypto } from '../storage/crypto/session-crypto.js'

export interface GuardrailAuditOptions {
  collections: SessionCollections
  sessionId: string
  agentId: string
  tracker: InvocationTracker
  /** Sequence number of the stored message with this trackingId, if known. */
  seqOf: (trackingId: string) => number | null
  /** Runs the write (with the caller's deadline and error policy). */
  run: (what: string, write: () => Promise<void>) => Promise<void>
  onGuardrailEvent?: (event: GuardrailEvent) => void
  /** Encryption on: the event's policy summary is sealed under the session's key. */
  crypto?: SessionCrypto
}

export function attachGuardrailAudit(agent: LocalAgent, options: GuardrailAuditOptions): () => void {
  const { collections, sessionId, agentId, tracker } = options
  return agent.addHook(
    AfterModelCallEvent,
    (event) =>
      options.run('guardrail audit', async () => {
        const call = tracker.lastModelCall
        if (!call) return
        const stop = event.stopData
        const redacted = call.redactedInput || call.redactedOutput || stop?.redaction !== undefined
        if (!redacted && stop?.stopReason !== 'guardrailIntervened') return
        let trackingId: string | null = call.inputTrackingId
        if (trackingId === null && call.redactedOutput && !call.redactedInput) {
          trackingId = stop?.message.trackingId ?? null
        }
        if (trackingId === null) {
          const lastUser = [...event.agent.messages].reverse().find((m) => m.role === 'user')
          trackingId = lastUser?.trackingId ?? null
        }
        const policiesTriggered = extractPoliciesTriggered(call.trace)
        // Only the policy summary is sealed: without one, no key (and no read) is needed.
        const crypto = policiesTriggered === null ? undefined : options.crypto
        const seal = crypto ? { crypto, key: await crypto.writeKey() } : undefined
        const stored = await insertGuardrailEvent(
          collections,
          {
            sessionId,
            agentId,
            messageTrackingId: trackingId,
            messageSeq: trackingId === null ? null : options.seqOf(trackingId),
            action: traceAction(call.trace) ?? (redacted ? 'BLOCKED' : 'INTERVENED'),
            stopReason: stop?.stopReason ?? null,
            policiesTriggered,
          },
          seal,
        )
        log.info({ session_id: sessionId, agent_id: agentId, action: stored.action }, 'guardrail event recorded')
        options.onGuardrailEvent?.(stored)
      }),
    { order: HookOrder.SDK_LAST },
  )
}
