/**
 * Usage metrics: the per-invocation record stored on the invocation's final assistant message
 * (`messages.invocation_metrics`) and the running totals kept with `$inc` per agent
 * (`agents.<id>.metrics`) and per session (`metrics`).
 *
 * Why per invocation: the SDK's `agent.metrics` accumulates over the lifetime of the Agent object
 * (and is reset for every new Agent), so writing it as-is mis-attributes usage.
 * Each invocation's own numbers are recorded once; totals are sums of those, so they stay right
 * across processes and per-request Agent instances.
 */
import type { Document } from 'mongodb'
import { describeError, log } from '../logging.js'
import type { SessionCollections } from '../storage/collections.js'
import { messageDocumentId } from '../storage/message-codec.js'
import { isExpired, NO_EXPIRY, type ExpiryPolicy } from '../storage/retention.js'
import { AGENT_EXISTS_FIELD, agentField } from './agent-config.js'

/** One tool call of an invocation. */
export interface ToolCallRecord {
  name: string
  tool_use_id: string
  duration_ms: number
  status: 'success' | 'error'
  /** First 500 characters of the error, when the tool failed. */
  error?: string
}

/** One model call (attempt) of an invocation. */
export interface ModelCallRecord {
  /** From the model call's start to its first streamed content delta; `null` when nothing was streamed. */
  time_to_first_byte_ms: number | null
  /** Latency reported by the provider (`metadata.metrics.latencyMs`); `null` when not reported. */
  latency_ms: number | null
  /** Wall-clock duration of the model call measured by the library. */
  duration_ms: number
}

/** Token usage, snake_case as stored. */
export interface UsageRecord {
  input_tokens: number
  output_tokens: number
  total_tokens: number
  cache_read_input_tokens: number
  cache_write_input_tokens: number
}

/** Stored in `messages.invocation_metrics` of the invocation's final assistant message. */
export interface InvocationMetricsRecord {
  started_at: Date
  ended_at: Date
  /** Wall clock from BeforeInvocationEvent to AfterInvocationEvent. */
  duration_ms: number
  usage: UsageRecord
  /** Sum of the provider-reported latencies of the invocation's model calls. */
  model_latency_ms: number
  /** Time to first byte of the invocation's first model call (measured by the library). */
  time_to_first_byte_ms: number | null
  model_calls: ModelCallRecord[]
  /** Event-loop cycles (model call + tool execution rounds). */
  cycle_count: number
  tool_calls: ToolCallRecord[]
}

/** Running totals (per session and per agent). */
export interface MetricsTotals {
  invocations: number
  cycles: number
  modelCalls: number
  inputTokens: number
  outputTokens: number
  totalTokens: number
  cacheReadInputTokens: number
  cacheWriteInputTokens: number
  /** Sum of provider-reported model latencies. */
  modelLatencyMs: number
  /** Sum of measured times to first byte, and how many model calls were measured. */
  timeToFirstByteMs: number
  timeToFirstByteSamples: number
  /** `timeToFirstByteMs / timeToFirstByteSamples`, or `null` without samples. */
  averageTimeToFirstByteMs: number | null
  toolCalls: number
  toolErrors: number
  toolTimeMs: number
  /** Wall-clock time spent in invocations. */
  durationMs: number
  /** `cacheRead / (cacheRead + cacheWrite)`, or `null` when there was no cache activity. */
  cacheHitRate: number | null
}

/** Per-tool totals of one agent. */
export interface ToolTotals {
  calls: number
  errors: number
  timeMs: number
}

export interface AgentMetricsTotals extends MetricsTotals {
  tools: Record<string, ToolTotals>
}

/** What `getMetricsSummary()` returns. */
export interface MetricsSummary {
  sessionId: string
  session: MetricsTotals
  agents: Record<string, AgentMetricsTotals>
}

/** Stored counter name (snake_case, in `sessions.metrics` and `agents.<id>.metrics`) → public field. */
export const METRIC_COUNTERS = {
  invocations: 'invocations',
  cycles: 'cycles',
  model_calls: 'modelCalls',
  input_tokens: 'inputTokens',
  output_tokens: 'outputTokens',
  total_tokens: 'totalTokens',
  cache_read_input_tokens: 'cacheReadInputTokens',
  cache_write_input_tokens: 'cacheWriteInputTokens',
  model_latency_ms: 'modelLatencyMs',
  time_to_first_byte_ms: 'timeToFirstByteMs',
  time_to_first_byte_samples: 'timeToFirstByteSamples',
  tool_calls: 'toolCalls',
  tool_errors: 'toolErrors',
  tool_time_ms: 'toolTimeMs',
  duration_ms: 'durationMs',
} as const satisfies Record<string, keyof MetricsTotals>

/** Tool names become path segments of the per-tool totals: only the SDK's own name rule is accepted. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/

/** The `$inc` increments an invocation contributes, keyed by stored counter name. */
export function invocationIncrements(record: InvocationMetricsRecord): Record<keyof typeof METRIC_COUNTERS, number> {
  const ttfbSamples = record.model_calls.filter((c) => c.time_to_first_byte_ms !== null)
  return {
    invocations: 1,
    cycles: record.cycle_count,
    model_calls: record.model_calls.length,
    input_tokens: record.usage.input_tokens,
    output_tokens: record.usage.output_tokens,
    total_tokens: record.usage.total_tokens,
    cache_read_input_tokens: record.usage.cache_read_input_tokens,
    cache_write_input_tokens: record.usage.cache_write_input_tokens,
    model_latency_ms: record.model_latency_ms,
    time_to_first_byte_ms: ttfbSamples.reduce((sum, c) => sum + (c.time_to_first_byte_ms ?? 0), 0),
    time_to_first_byte_samples: ttfbSamples.length,
    tool_calls: record.tool_calls.length,
    tool_errors: record.tool_calls.filter((t) => t.status === 'error').length,
    tool_time_ms: record.tool_calls.reduce((sum, t) => sum + t.duration_ms, 0),
    duration_ms: record.duration_ms,
  }
}

/**
 * The `$inc` of the session document for one invocation: the session's and the agent's totals,
 * and the agent's per-tool totals (tools whose name cannot be a path segment are left out).
 */
export function metricIncrements(agentId: string, record: InvocationMetricsRecord): Record<string, number> {
  const inc: Record<string, number> = {}
  for (const [name, value] of Object.entries(invocationIncrements(record))) {
    if (value === 0) continue
    inc[`metrics.${name}`] = value
    inc[agentField(agentId, `metrics.${name}`)] = value
  }
  for (const call of record.tool_calls) {
    if (!TOOL_NAME.test(call.name)) continue
    const base = agentField(agentId, `metrics.tools.${call.name}`)
    inc[`${base}.calls`] = (inc[`${base}.calls`] ?? 0) + 1
    inc[`${base}.time_ms`] = (inc[`${base}.time_ms`] ?? 0) + call.duration_ms
    if (call.status === 'error') inc[`${base}.errors`] = (inc[`${base}.errors`] ?? 0) + 1
  }
  return inc
}

/**
 * Writes one invocation's metrics: the record on the final assistant message (when there is one
 * and it is saved), then the totals. Never throws: a metrics failure must not fail the agent's
 * invocation, so it is logged and the invocation goes on.
 */
export async function recordInvocationMetrics(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  finalMessageSeq: number | null,
  record: InvocationMetricsRecord,
): Promise<{ message: boolean; totals: boolean }> {
  const written = { message: false, totals: false }
  try {
    if (finalMessageSeq !== null) {
      const result = await collections.messages.updateOne(
        { _id: messageDocumentId({ sessionId, agentId, seq: finalMessageSeq }) },
        { $set: { invocation_metrics: record as unknown as Document } },
      )
      written.message = result.matchedCount > 0
    }
    if (!written.message) {
      log.debug(
        { session_id: sessionId, agent_id: agentId },
        'final assistant message not saved | invocation metrics kept in totals only',
      )
    }
    const inc = metricIncrements(agentId, record)
    const result = await collections.sessions.updateOne(
      { _id: sessionId, [agentField(agentId, AGENT_EXISTS_FIELD)]: { $exists: true } },
      { $inc: inc },
    )
    written.totals = result.matchedCount > 0
    if (!written.totals) {
      log.warn({ session_id: sessionId, agent_id: agentId }, 'agent state not saved yet | metric totals not recorded')
    }
  } catch (error) {
    log.warn({ session_id: sessionId, agent_id: agentId, error: describeError(error) }, 'recording metrics failed')
  }
  return written
}

function totalsFrom(stored: unknown): MetricsTotals {
  const doc = (stored && typeof stored === 'object' ? stored : {}) as Record<string, unknown>
  const totals = {} as MetricsTotals
  for (const [name, key] of Object.entries(METRIC_COUNTERS)) {
    const value = doc[name]
    ;(totals as unknown as Record<string, number>)[key] = typeof value === 'number' ? value : 0
  }
  totals.averageTimeToFirstByteMs =
    totals.timeToFirstByteSamples > 0 ? totals.timeToFirstByteMs / totals.timeToFirstByteSamples : null
  const cache = totals.cacheReadInputTokens + totals.cacheWriteInputTokens
  totals.cacheHitRate = cache > 0 ? totals.cacheReadInputTokens / cache : null
  return totals
}

/** Totals per session and per agent (zeros for a missing or expired session). */
export async function loadMetricsSummary(
  collections: SessionCollections,
  sessionId: string,
  expiry: ExpiryPolicy = NO_EXPIRY,
): Promise<MetricsSummary> {
  const read = await collections.sessions.findOne(
    { _id: sessionId },
    { projection: { metrics: 1, agents: 1, expires_at: 1 } },
  )
  const doc = isExpired(read, expiry.now()) ? null : read
  const agents: Record<string, AgentMetricsTotals> = {}
  for (const [agentId, agent] of Object.entries(doc?.agents ?? {})) {
    if (agent?.[AGENT_EXISTS_FIELD] === undefined) continue
    const stored = (agent.metrics ?? {}) as Record<string, unknown>
    const tools: Record<string, ToolTotals> = {}
    const storedTools = (stored.tools ?? {}) as Record<string, Record<string, unknown>>
    for (const [name, t] of Object.entries(storedTools)) {
      tools[name] = {
        calls: typeof t.calls === 'number' ? t.calls : 0,
        errors: typeof t.errors === 'number' ? t.errors : 0,
        timeMs: typeof t.time_ms === 'number' ? t.time_ms : 0,
      }
    }
    agents[agentId] = { ...totalsFrom(stored), tools }
  }
  return { sessionId, session: totalsFrom(doc?.metrics), agents }
}
