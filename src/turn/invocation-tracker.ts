/**
 * What an invocation did, as seen through the SDK's hooks: token usage, model calls (time to first
 * byte, provider latency, duration), tool calls, the final assistant message, and guardrail
 * interventions. It writes nothing: the turn pipeline hands the record to the save, so metrics
 * cost no round trip of their own.
 *
 * Why per invocation: the SDK's `agent.metrics` accumulates over the lifetime of the Agent object
 * (and starts again with every new Agent), so storing it as is would mis-attribute usage. Each
 * invocation's own numbers are recorded once; totals are sums of those.
 */
import {
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
import type { InvocationMetricsRecord, ModelCallRecord, ToolCallRecord, UsageRecord } from '../features/metrics.js'

/** A model call as the guardrail audit needs it. */
export interface ModelCallOutcome {
  redactedInput: boolean
  redactedOutput: boolean
  /** trackingId of the user message at the time of an input redaction. */
  inputTrackingId: string | null
  /** The guardrail trace of the provider, if it sent one. */
  trace: unknown
}

interface ModelCallState extends ModelCallOutcome {
  start: number
  ttfb: number | null
  latency: number | null
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

function emptyUsage(): UsageRecord {
  return { input_tokens: 0, output_tokens: 0, total_tokens: 0, cache_read_input_tokens: 0, cache_write_input_tokens: 0 }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/** Follows one agent's invocations. `finish()` at the end of each gives its record. */
export class InvocationTracker {
  #invocation: InvocationState | null = null
  #modelCall: ModelCallState | null = null
  #lastModelCall: ModelCallOutcome | null = null

  /** Registers the tracking hooks (they run before any hook at the default order that reads them). */
  attach(agent: LocalAgent, onError: (what: string, error: unknown) => void): (() => void)[] {
    const guard =
      <E>(what: string, fn: (event: E) => void) =>
      (event: E): void => {
        try {
          fn(event)
        } catch (error) {
          onError(what, error)
        }
      }
    const first = { order: HookOrder.SDK_FIRST }
    return [
      agent.addHook(
        BeforeInvocationEvent,
        guard('metrics (invocation start)', (e) => this.#start(e)),
        first,
      ),
      agent.addHook(
        BeforeModelCallEvent,
        guard('metrics (model call start)', () => this.#startModelCall()),
        first,
      ),
      agent.addHook(
        ModelStreamUpdateEvent,
        guard('metrics (stream)', (e) => this.#onStream(e)),
        first,
      ),
      agent.addHook(
        AfterModelCallEvent,
        guard('metrics (model call end)', () => this.#endModelCall()),
        first,
      ),
      agent.addHook(
        BeforeToolCallEvent,
        guard('metrics (tool start)', (e) => this.#invocation?.toolStarts.set(e.toolUse.toolUseId, performance.now())),
        first,
      ),
      agent.addHook(
        AfterToolCallEvent,
        guard('metrics (tool end)', (e) => this.#endToolCall(e)),
        first,
      ),
      agent.addHook(
        MessageAddedEvent,
        guard('metrics (message)', (e) => {
          if (this.#invocation && e.message.role === 'assistant') {
            this.#invocation.finalTrackingId = e.message.trackingId ?? null
          }
        }),
        first,
      ),
    ]
  }

  /** The model call that just ended (for the guardrail audit), or `null`. */
  get lastModelCall(): ModelCallOutcome | null {
    return this.#lastModelCall
  }

  /**
   * Ends the current invocation: its metrics record and the trackingId of its final assistant
   * message, or `null` when no invocation was being tracked.
   */
  finish(agent: LocalAgent): { record: InvocationMetricsRecord; finalTrackingId: string | null } | null {
    const state = this.#invocation
    this.#invocation = null
    this.#modelCall = null
    if (!state) return null
    const sdk = agent.metrics.latestAgentInvocation
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
    return { record, finalTrackingId: state.finalTrackingId }
  }

  #start(event: BeforeInvocationEvent): void {
    this.#invocation = {
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
  }

  #startModelCall(): void {
    this.#lastModelCall = null
    this.#modelCall = {
      start: performance.now(),
      ttfb: null,
      latency: null,
      redactedInput: false,
      redactedOutput: false,
      inputTrackingId: null,
      trace: undefined,
    }
  }

  #onStream(event: ModelStreamUpdateEvent): void {
    const call = this.#modelCall
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
        const invocation = this.#invocation
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
  }

  #endModelCall(): void {
    const call = this.#modelCall
    this.#modelCall = null
    if (!call) return
    const { redactedInput, redactedOutput, inputTrackingId, trace } = call
    this.#lastModelCall = { redactedInput, redactedOutput, inputTrackingId, trace }
    if (this.#invocation) {
      this.#invocation.modelCalls.push({
        time_to_first_byte_ms: call.ttfb === null ? null : round(call.ttfb),
        latency_ms: call.latency,
        duration_ms: round(performance.now() - call.start),
      })
      this.#invocation.modelLatency += call.latency ?? 0
    }
  }

  #endToolCall(event: AfterToolCallEvent): void {
    const invocation = this.#invocation
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
  }
}
