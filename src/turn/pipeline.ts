/**
 * The turn pipeline: everything the session manager does with an agent, in one place.
 *
 * - On `InitializedEvent` the agent's latest state is restored.
 * - Saves run when the SDK's `SessionManager` would run them (`saveLatestOn`: after each message,
 *   after each invocation, or only on `snapshotTrigger`), and at once after a guardrail redaction
 *   so redacted input never stays at rest.
 * - The invocation's metrics (on its final assistant message and as running totals) and the
 *   agent's captured configuration (only when it changed since the restore or the last save) travel
 *   with the end-of-invocation save: a steady-state turn is one insert of its messages and one
 *   update of the session document.
 * - Guardrail interventions are audited after the redaction save, naming the stored message.
 *
 * Nothing here throws into the agent but the saves themselves: a failed audit or metrics write is
 * logged, never turned into a failed invocation.
 */
import {
  AfterInvocationEvent,
  AfterModelCallEvent,
  InitializedEvent,
  MessageAddedEvent,
  type LocalAgent,
  type SaveLatestStrategy,
  type SnapshotTriggerCallback,
} from '@strands-agents/sdk'
import { describeError, log } from '../logging.js'
import type { SaveExtras } from '../storage/agent-store.js'
import type { SessionCollections } from '../storage/collections.js'
import { runWithDeadline } from '../storage/deadline.js'
import { captureAgentConfig, capturedConfig, resolveModelId, systemPromptJson } from '../features/agent-config.js'
import type { GuardrailEvent } from '../features/guardrails.js'
import { metricIncrements, recordInvocationMetrics } from '../features/metrics.js'
import { attachGuardrailAudit } from './guardrail-audit.js'
import type { SessionCrypto } from '../storage/crypto/session-crypto.js'
import { InvocationTracker } from './invocation-tracker.js'

/** What the pipeline needs from the session manager. */
export interface TurnPipelineHost {
  readonly sessionId: string
  readonly collections: SessionCollections
  readonly saveLatestOn: SaveLatestStrategy
  readonly snapshotTrigger: SnapshotTriggerCallback | undefined
  readonly captureMetrics: boolean
  readonly captureAgentConfig: boolean
  readonly auditGuardrails: boolean
  /** Encryption on: guardrail events seal their policy summaries under the session's key. */
  readonly crypto?: SessionCrypto | undefined
  /** Deadline of the pipeline's own writes (metrics alone, audit), in milliseconds; 0 for none. */
  readonly operationTimeoutMs: number
  readonly onGuardrailEvent?: (event: GuardrailEvent) => void
  /** Restores the agent's latest state; false when there was none. */
  restore(agent: LocalAgent): Promise<boolean>
  /** Saves the agent's latest state with `extras` in the same writes; whether `messageFields` were stored. */
  saveLatest(agent: LocalAgent, extras?: SaveExtras): Promise<{ messageFieldsStored: boolean }>
  /** Saves an immutable snapshot of the agent. */
  saveImmutable(agent: LocalAgent): Promise<void>
  /** Sequence number of the agent's stored message with this trackingId, if known. */
  seqOf(agentId: string, trackingId: string): number | null
}

/** Wires the pipeline to `agent`. `agentId` must already be validated. */
export function attachTurnPipeline(agent: LocalAgent, agentId: string, host: TurnPipelineHost): void {
  new TurnPipeline(agentId, host).attach(agent)
}

/** One agent's pipeline: the SDK events it handles, each by a named handler. */
class TurnPipeline {
  readonly #agentId: string
  readonly #host: TurnPipelineHost
  readonly #tracker = new InvocationTracker()

  constructor(agentId: string, host: TurnPipelineHost) {
    this.#agentId = agentId
    this.#host = host
  }

  attach(agent: LocalAgent): void {
    const host = this.#host
    if (host.captureMetrics || host.auditGuardrails) this.#tracker.attach(agent, this.#logFailure)
    agent.addHook(InitializedEvent, (event) => this.onInitialized(event))
    if (host.saveLatestOn === 'message') agent.addHook(MessageAddedEvent, (event) => this.onMessageAdded(event))
    if (host.saveLatestOn !== 'trigger') agent.addHook(AfterModelCallEvent, (event) => this.onModelCallEnd(event))
    if (host.auditGuardrails) {
      attachGuardrailAudit(agent, {
        collections: host.collections,
        sessionId: host.sessionId,
        agentId: this.#agentId,
        tracker: this.#tracker,
        seqOf: (trackingId) => host.seqOf(this.#agentId, trackingId),
        run: this.#bestEffort,
        ...(host.crypto && { crypto: host.crypto }),
        ...(host.onGuardrailEvent && { onGuardrailEvent: host.onGuardrailEvent }),
      })
    }
    agent.addHook(AfterInvocationEvent, (event) => this.onInvocationEnd(event))
  }

  /** Restores the agent's latest state (SDK semantics: restored state replaces what the agent held). */
  async onInitialized(event: InitializedEvent): Promise<void> {
    const hadMessages = event.agent.messages.length > 0
    const restored = await this.#host.restore(event.agent)
    if (restored && hadMessages) {
      log.warn(
        { agent_id: event.agent.id, session_id: this.#host.sessionId },
        'agent had existing messages that were overwritten by session restore',
      )
    }
    // Stateful models keep the conversation server-side; restored messages would drift from it.
    if (restored && event.agent.model?.stateful && event.agent.messages.length > 0) {
      event.agent.messages.length = 0
    }
  }

  /** `saveLatestOn: 'message'`: every message is saved as it is added. */
  async onMessageAdded(event: MessageAddedEvent): Promise<void> {
    await this.#host.saveLatest(event.agent)
  }

  /** A guardrail redaction is saved at once, so redacted input never stays at rest. */
  async onModelCallEnd(event: AfterModelCallEvent): Promise<void> {
    if (event.stopData?.redaction) await this.#host.saveLatest(event.agent)
  }

  /**
   * The end of an invocation: the save the SDK makes here, carrying the invocation's metrics and
   * the agent's configuration, then the snapshot the trigger asks for. Without a save (`'trigger'`
   * declining), metrics and configuration are recorded on their own.
   */
  async onInvocationEnd(event: AfterInvocationEvent): Promise<void> {
    const host = this.#host
    const agentId = this.#agentId
    const finished = host.captureMetrics ? this.#tracker.finish(event.agent) : null
    // Metrics stay in clear (listing, dashboards); a failed tool's error text is content (it often
    // quotes the tool's input), so an encrypted session keeps only the failure, not its text.
    if (finished && host.crypto) for (const call of finished.record.tool_calls) delete call.error
    const extras: SaveExtras = {}
    if (finished) {
      extras.increments = metricIncrements(agentId, finished.record)
      if (finished.finalTrackingId !== null) {
        extras.messageFields = { trackingId: finished.finalTrackingId, fields: { invocation_metrics: finished.record } }
      }
    }
    if (host.captureAgentConfig) extras.agentFields = capturedConfig(event.agent)

    let saved = false
    if (host.saveLatestOn !== 'trigger') {
      await host.saveLatest(event.agent, extras)
      saved = true
    }
    if (host.snapshotTrigger?.({ agentData: event.agent })) {
      await host.saveImmutable(event.agent)
      await host.saveLatest(event.agent, saved ? {} : extras)
      saved = true
    }
    if (saved) return
    await this.#bestEffort('metrics and config (no save)', async () => {
      if (finished) {
        const seq = finished.finalTrackingId === null ? null : host.seqOf(agentId, finished.finalTrackingId)
        await recordInvocationMetrics(host.collections, host.sessionId, agentId, seq, finished.record)
      }
      if (host.captureAgentConfig) {
        const model = resolveModelId(event.agent.model)
        const prompt = systemPromptJson(event.agent.systemPrompt)
        await captureAgentConfig(host.collections, host.sessionId, agentId, model, prompt, host.crypto ?? null)
      }
    })
  }

  readonly #logFailure = (what: string, error: unknown): void => {
    log.warn(
      { session_id: this.#host.sessionId, agent_id: this.#agentId, error: describeError(error) },
      `${what} failed`,
    )
  }

  /** Runs a write that must never fail the invocation: under the deadline, failures logged. */
  readonly #bestEffort = async (what: string, write: () => Promise<void>): Promise<void> => {
    try {
      await runWithDeadline(this.#host.operationTimeoutMs, write)
    } catch (error) {
      this.#logFailure(what, error)
    }
  }
}
