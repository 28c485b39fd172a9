/**
 * A deterministic Strands model for tests, demos and offline development: it replays scripted
 * turns instead of calling a provider. Exported as `mongodb-session-manager/testing`.
 *
 * @example
 * ```ts
 * const model = new ScriptedModel([
 *   { toolUse: { name: 'lookup_order', input: { orderId: 'A-1' } } },
 *   { text: 'Your order ships tomorrow.' },
 * ])
 * const agent = new Agent({ model, tools: [lookupOrder] })
 * ```
 */
import {
  Model,
  type BaseModelConfig,
  type Message,
  type ModelStreamEvent,
  type StreamOptions,
} from '@strands-agents/sdk'

/** One model response. */
export interface ScriptedTurn {
  /** Assistant text (streamed in chunks of `chunkSize` characters). */
  text?: string
  /** Tool calls to request, in order (stop reason becomes `toolUse`). */
  toolUses?: { name: string; input: unknown; toolUseId?: string }[]
  /** Shorthand for a single tool call. */
  toolUse?: { name: string; input: unknown; toolUseId?: string }
  /** Emit a guardrail input redaction with this replacement text. */
  redactInput?: string
  /** Token usage reported for this turn (defaults derive from the text length). */
  usage?: { inputTokens: number; outputTokens: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number }
  /** Latency reported by the "provider". */
  latencyMs?: number
  /** A raw guardrail trace passed through `modelMetadataEvent.trace`. */
  trace?: Record<string, unknown>
  /** Throw this error instead of answering (after `failAfterChunks` streamed text chunks). */
  error?: Error
  failAfterChunks?: number
  /** Wait this long before the first event (to make time-to-first-byte measurable). */
  delayMs?: number
  stopReason?: 'endTurn' | 'toolUse' | 'maxTokens' | 'guardrailIntervened'
}

export type ScriptedResponder = (messages: Message[], turnIndex: number) => ScriptedTurn

export interface ScriptedModelConfig extends BaseModelConfig {
  chunkSize?: number
}

/** Replays `script` turn by turn (cycling when exhausted), or asks `script(messages, i)` when it is a function. */
export class ScriptedModel extends Model<ScriptedModelConfig> {
  #config: ScriptedModelConfig
  readonly #script: ScriptedTurn[] | ScriptedResponder
  #turn = 0

  constructor(script: ScriptedTurn[] | ScriptedResponder, config: ScriptedModelConfig = {}) {
    super()
    this.#script = script
    this.#config = { modelId: 'scripted-model-v1', chunkSize: 16, ...config }
  }

  /** How many model calls have been made. */
  get callCount(): number {
    return this.#turn
  }

  updateConfig(config: ScriptedModelConfig): void {
    this.#config = { ...this.#config, ...config }
  }

  getConfig(): ScriptedModelConfig {
    return this.#config
  }

  async *stream(messages: Message[], _options?: StreamOptions): AsyncIterable<ModelStreamEvent> {
    const index = this.#turn++
    const script = this.#script
    const turn: ScriptedTurn =
      typeof script === 'function' ? script(messages, index) : (script[index % Math.max(script.length, 1)] ?? {})
    if (turn.delayMs) await new Promise((resolve) => setTimeout(resolve, turn.delayMs))
    if (turn.error && turn.failAfterChunks === undefined) throw turn.error

    yield { type: 'modelMessageStartEvent', role: 'assistant' }
    let chunks = 0
    if (turn.text !== undefined) {
      yield { type: 'modelContentBlockStartEvent' }
      const size = Math.max(1, this.#config.chunkSize ?? 16)
      for (let i = 0; i < Math.max(turn.text.length, 1); i += size) {
        if (turn.error && chunks === turn.failAfterChunks) throw turn.error
        yield { type: 'modelContentBlockDeltaEvent', delta: { type: 'textDelta', text: turn.text.slice(i, i + size) } }
        chunks++
      }
      yield { type: 'modelContentBlockStopEvent' }
    }
    if (turn.error) throw turn.error
    const toolUses = [...(turn.toolUses ?? []), ...(turn.toolUse ? [turn.toolUse] : [])]
    for (const [i, toolUse] of toolUses.entries()) {
      yield {
        type: 'modelContentBlockStartEvent',
        start: { type: 'toolUseStart', name: toolUse.name, toolUseId: toolUse.toolUseId ?? `tool-${index}-${i}` },
      }
      yield {
        type: 'modelContentBlockDeltaEvent',
        delta: { type: 'toolUseInputDelta', input: JSON.stringify(toolUse.input) },
      }
      yield { type: 'modelContentBlockStopEvent' }
    }
    const stopReason =
      turn.stopReason ?? (toolUses.length > 0 ? 'toolUse' : turn.redactInput ? 'guardrailIntervened' : 'endTurn')
    yield { type: 'modelMessageStopEvent', stopReason }
    if (turn.redactInput !== undefined) {
      yield { type: 'modelRedactionEvent', inputRedaction: { replaceContent: turn.redactInput } }
    }
    const outputTokens = turn.usage?.outputTokens ?? Math.ceil((turn.text?.length ?? 8) / 4)
    const inputTokens = turn.usage?.inputTokens ?? 10 + messages.length * 5
    yield {
      type: 'modelMetadataEvent',
      usage: {
        inputTokens,
        outputTokens,
        totalTokens: inputTokens + outputTokens,
        ...(turn.usage?.cacheReadInputTokens !== undefined && {
          cacheReadInputTokens: turn.usage.cacheReadInputTokens,
        }),
        ...(turn.usage?.cacheWriteInputTokens !== undefined && {
          cacheWriteInputTokens: turn.usage.cacheWriteInputTokens,
        }),
      },
      metrics: { latencyMs: turn.latencyMs ?? 25 },
      ...(turn.trace !== undefined && { trace: turn.trace }),
    } as ModelStreamEvent
  }
}
