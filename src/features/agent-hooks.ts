/**
 * The SDK hooks that feed metrics, agent-config capture and the guardrail audit.
 *
 * Registered on an agent by `SessionData.registerAgentHooks(agent)`. The writes run on
 * `AfterInvocationEvent` / `AfterModelCallEvent` at `HookOrder.SDK_LAST`, i.e. after the core's own
 * save hooks (default order), so the messages they refer to are already stored. None of these
 * callbacks ever throws: a hook error would reject `agent.invoke()` although the model turn
 * succeeded (research/strands-ts.md §2.1), and a failed audit must never undo a redaction.
 */
import {
  AfterInvocationEvent,
  AfterModelCallEvent,
  AfterToolCallEvent,
  BeforeInvocationEvent,
  BeforeModelCallEvent,
  BeforeToolCallEvent,
  HookOrder,
  MessageAddedEvent,
  ModelStreamUpdateEvent,
  type LocalAgent,
} from '@strands-agents/sdk'
import { describeError, log } from '../logging.js'
import type { SessionCollections } from '../storage/collections.js'
import { validateIdentifier } from '../validation/identifiers.js'
import { captureAgentConfig, resolveModelId, systemPromptJson } from './agent-config.js'
import { extractPoliciesTriggered, insertGuardrailEvent, traceAction, type GuardrailEvent } from './guardrails.js'
import {
  recordInvocationMetrics,
  type InvocationMetricsRecord,
  type ModelCallRecord,
  type ToolCallRecord,
  type UsageRecord,
} from './metrics.js'
import { runWithDeadline } from '../storage/deadline.js'

/** Options of {@link registerSessionDataHooks}. */
export interface AgentHooksOptions {
  collections: SessionCollections
  sessionId: string
  /** Record per-invocation metrics and totals (default true). */
  metrics?: boolean
  /** Capture model id and system prompt (default true). */
  captureConfig?: boolean
  /** Record guardrail events (default true). */
  guardrails?: boolean
  /** Called after each guardrail event is stored (tests, custom alerting). Errors are logged. */
  onGuardrailEvent?: (event: GuardrailEvent) => void
  /** Deadline of each hook's writes in milliseconds (`0` or absent: none). */
  timeoutMs?: number
}

interface ModelCallState {
  start: number
  ttfb: number | null
  latency: number | null
  redactedInput: boolean
  redactedOutput: boolean
  /** trackingId of the user message at the time of an input redaction. */
  inputTrackingId: string | null
  trace: unknown
}

interface InvocationState {
  startedAt: Date
  start: number
  sdkInvocationBefore: unknown
  usage: UsageRecord
  modelCalls: ModelCallRecord[]
  modelLatency: number
  tools: ToolCallRecord[]
  toolStarts: Map<string, number>
  finalTrackingId: string | null
}

const registrations = new WeakMap<LocalAgent, Set<string>>()

function emptyUsage(): UsageRecord {
  return { input_tokens: 0, output_tokens: 0, total_tokens: 0, cache_read_input_tokens: 0, cache_write_input_tokens: 0 }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * Registers the session-data hooks on `agent` and returns a function removing them.
 * Throws a `ValidationError` when the agent id cannot be used as a storage key.
 */
export function registerSessionDataHooks(agent: LocalAgent, options: AgentHooksOptions): () => void {
  const agentId = validateIdentifier(agent.id, 'agent.id')
  const { collections, sessionId } = options
  // Registering twice for the same session (the manager wires these, and a user plugin might too)
  // would count every invocation twice.
  const key = `${collections.db.databaseName}\u0000${collections.sessions.collectionName}\u0000${sessionId}`
  const registered = registrations.get(agent) ?? new Set<string>()
  if (registered.has(key)) {
    log.debug({ session_id: sessionId, agent_id: agentId }, 'session-data hooks already registered on this agent')
    return () => undefined
  }
  registered.add(key)
  registrations.set(agent, registered)
  const wantMetrics = options.metrics ?? true
  const wantConfig = options.captureConfig ?? true
  const wantGuardrails = options.guardrails ?? true
  let invocation: InvocationState | null = null
  let modelCall: ModelCallState | null = null
  let lastCapturedFingerprint: string | null = null
  const cleanups: (() => void)[] = []

  const safe =
    <E>(what: string, fn: (event: E) => void | Promise<void>) =>
    async (event: E): Promise<void> => {
      try {
        await runWithDeadline(options.timeoutMs ?? 0, async () => fn(event))
      } catch (error) {
        log.warn({ session_id: sessionId, agent_id: agentId, error: describeError(error) }, `${what} failed`)
      }
    }

  cleanups.push(
    agent.addHook(
      BeforeInvocationEvent,
      safe('metrics (invocation start)', (event) => {
        invocation = {
          startedAt: new Date(),
          start: performance.now(),
          // Identity of the SDK's latest invocation record before ours starts: tells at the end
          // whether the SDK recorded one for this invocation (it does not when a hook cancels it).
          sdkInvocationBefore: event.agent.metrics.latestAgentInvocation,
          usage: emptyUsage(),
          modelCalls: [],
          modelLatency: 0,
          tools: [],
          toolStarts: new Map(),
          finalTrackingId: null,
        }
      }),
    ),
  )

  cleanups.push(
    agent.addHook(
      BeforeModelCallEvent,
      safe('metrics (model call start)', () => {
        modelCall = {
          start: performance.now(),
          ttfb: null,
          latency: null,
          redactedInput: false,
          redactedOutput: false,
          inputTrackingId: null,
          trace: undefined,
        }
      }),
    ),
  )

  cleanups.push(
    agent.addHook(
      ModelStreamUpdateEvent,
      safe('metrics (stream)', (event) => {
        const call = modelCall
        if (!call) return
        const data = event.event
        switch (data.type) {
          case 'modelContentBlockDeltaEvent':
            if (call.ttfb === null) call.ttfb = performance.now() - call.start
            break
          case 'modelMetadataEvent': {
            if (data.metrics && typeof data.metrics.latencyMs === 'number') {
              call.latency = (call.latency ?? 0) + data.metrics.latencyMs
            }
            if (invocation && data.usage) {
              const u = invocation.usage
              u.input_tokens += num(data.usage.inputTokens)
              u.output_tokens += num(data.usage.outputTokens)
              u.total_tokens += num(data.usage.totalTokens)
              u.cache_read_input_tokens += num(data.usage.cacheReadInputTokens)
              u.cache_write_input_tokens += num(data.usage.cacheWriteInputTokens)
            }
            if (data.trace !== undefined) call.trace = structuredClone(data.trace)
            break
          }
          case 'modelRedactionEvent': {
            if (data.inputRedaction) {
              call.redactedInput = true
              // The user message is still the original here; its trackingId survives the redaction.
              const last = event.agent.messages.at(-1)
              if (last?.role === 'user') call.inputTrackingId = last.trackingId ?? null
            }
            if (data.outputRedaction) call.redactedOutput = true
            break
          }
          default:
            break
        }
      }),
    ),
  )

  cleanups.push(
    agent.addHook(
      AfterModelCallEvent,
      safe('metrics/guardrail (model call end)', async (event) => {
        const call = modelCall
        modelCall = null
        if (!call) return
        if (invocation) {
          invocation.modelCalls.push({
            time_to_first_byte_ms: call.ttfb === null ? null : round(call.ttfb),
            latency_ms: call.latency,
            duration_ms: round(performance.now() - call.start),
          })
          invocation.modelLatency += call.latency ?? 0
        }
        if (!wantGuardrails) return
        const stop = event.stopData
        const intervened =
          call.redactedInput ||
          call.redactedOutput ||
          stop?.redaction !== undefined ||
          stop?.stopReason === 'guardrailIntervened'
        if (!intervened) return
        let trackingId: string | null = call.inputTrackingId
        if (trackingId === null && call.redactedOutput && !call.redactedInput)
          trackingId = stop?.message.trackingId ?? null
        if (trackingId === null) {
          const lastUser = [...event.agent.messages].reverse().find((m) => m.role === 'user')
          trackingId = lastUser?.trackingId ?? null
        }
        let messageSeq: number | null = null
        if (trackingId !== null) {
          const stored = await collections.messages.findOne(
            { session_id: sessionId, agent_id: agentId, tracking_id: trackingId },
            { sort: { seq: -1 }, projection: { seq: 1 } },
          )
          messageSeq = stored?.seq ?? null
        }
        const redacted = call.redactedInput || call.redactedOutput || stop?.redaction !== undefined
        const stored = await insertGuardrailEvent(collections, {
          sessionId,
          agentId,
          messageTrackingId: trackingId,
          messageSeq,
          action: traceAction(call.trace) ?? (redacted ? 'BLOCKED' : 'INTERVENED'),
          stopReason: stop?.stopReason ?? null,
          policiesTriggered: extractPoliciesTriggered(call.trace),
        })
        log.info({ session_id: sessionId, agent_id: agentId, action: stored.action }, 'guardrail event recorded')
        options.onGuardrailEvent?.(stored)
      }),
      { order: HookOrder.SDK_LAST },
    ),
  )

  cleanups.push(
    agent.addHook(
      BeforeToolCallEvent,
      safe('metrics (tool start)', (event) => {
        invocation?.toolStarts.set(event.toolUse.toolUseId, performance.now())
      }),
    ),
  )

  cleanups.push(
    agent.addHook(
      AfterToolCallEvent,
      safe('metrics (tool end)', (event) => {
        if (!invocation) return
        const started = invocation.toolStarts.get(event.toolUse.toolUseId)
        invocation.toolStarts.delete(event.toolUse.toolUseId)
        const failed = event.error !== undefined || event.result.status === 'error'
        const record: ToolCallRecord = {
          name: event.toolUse.name,
          tool_use_id: event.toolUse.toolUseId,
          duration_ms: started === undefined ? 0 : round(performance.now() - started),
          status: failed ? 'error' : 'success',
        }
        if (failed) {
          const text =
            event.error?.message ?? event.result.content.map((c) => ('text' in c ? String(c.text) : '')).join(' ')
          record.error = text.slice(0, 500)
        }
        invocation.tools.push(record)
      }),
    ),
  )

  cleanups.push(
    agent.addHook(
      MessageAddedEvent,
      safe('metrics (message)', (event) => {
        if (invocation && event.message.role === 'assistant')
          invocation.finalTrackingId = event.message.trackingId ?? null
      }),
    ),
  )

  cleanups.push(
    agent.addHook(
      AfterInvocationEvent,
      safe('metrics/config (invocation end)', async (event) => {
        const state = invocation
        invocation = null
        modelCall = null
        if (state && wantMetrics) {
          const sdk = event.agent.metrics.latestAgentInvocation
          // Deep copy: the SDK's metric objects are live references that keep changing.
          const ours = sdk !== undefined && sdk !== state.sdkInvocationBefore ? structuredClone(sdk) : undefined
          const usage: UsageRecord = ours
            ? {
                input_tokens: num(ours.usage.inputTokens),
                output_tokens: num(ours.usage.outputTokens),
                total_tokens: num(ours.usage.totalTokens),
                cache_read_input_tokens: num(ours.usage.cacheReadInputTokens),
                cache_write_input_tokens: num(ours.usage.cacheWriteInputTokens),
              }
            : state.usage
          const record: InvocationMetricsRecord = {
            started_at: state.startedAt,
            ended_at: new Date(),
            duration_ms: round(performance.now() - state.start),
            usage,
            model_latency_ms: state.modelLatency,
            time_to_first_byte_ms:
              state.modelCalls.find((c) => c.time_to_first_byte_ms !== null)?.time_to_first_byte_ms ?? null,
            model_calls: state.modelCalls,
            cycle_count: ours ? ours.cycles.length : state.modelCalls.length,
            tool_calls: state.tools,
          }
          await recordInvocationMetrics(collections, sessionId, agentId, state.finalTrackingId, record)
        }
        if (wantConfig) {
          const model = resolveModelId(event.agent.model)
          const prompt = systemPromptJson(event.agent.systemPrompt)
          const fingerprint = JSON.stringify([model, prompt])
          // In-process memo: the conditional write below is already a no-op when nothing changed,
          // this just saves the round trip on every invocation.
          if (fingerprint !== lastCapturedFingerprint) {
            const outcome = await captureAgentConfig(collections, sessionId, agentId, model, prompt)
            if (outcome === 'written' || outcome === 'unchanged') lastCapturedFingerprint = fingerprint
          }
        }
      }),
      { order: HookOrder.SDK_LAST },
    ),
  )

  return () => {
    for (const cleanup of cleanups.splice(0)) cleanup()
    registered.delete(key)
  }
}
