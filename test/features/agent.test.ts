import { Agent, tool } from '@strands-agents/sdk'
import { MongoClient } from 'mongodb'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { NotFoundError, ValidationError } from '../../src/errors.js'
import { extractPoliciesTriggered, traceAction } from '../../src/features/guardrails.js'
import type { InvocationMetricsRecord } from '../../src/features/metrics.js'
import { MongoDBSessionManager } from '../../src/session/manager.js'
import { ScriptedModel, type ScriptedTurn } from '../../src/testing/scripted-model.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { openFeaturesDatabase, type FeaturesTestContext } from './support.js'

let ctx: FeaturesTestContext
let n = 0
const sid = () => `agent-${++n}`

beforeAll(async () => {
  ctx = await openFeaturesDatabase('msm_agent')
})
afterAll(async () => {
  await ctx.db.cleanup()
})

function setup(
  script: ScriptedTurn[],
  options: { systemPrompt?: string; tools?: unknown[]; client?: MongoClient } = {},
) {
  const sessionId = sid()
  const manager = new MongoDBSessionManager({
    sessionId,
    client: options.client ?? ctx.db.client,
    databaseName: ctx.db.databaseName,
  })
  // The manager's own session-data API reads what the turn pipeline wrote.
  const data = manager
  const agent = new Agent({
    model: new ScriptedModel(script),
    sessionManager: manager,
    ...(options.systemPrompt !== undefined && { systemPrompt: options.systemPrompt }),
    ...(options.tools !== undefined && { tools: options.tools as never }),
    printer: false,
  } as never)
  return { sessionId, manager, data, agent }
}

const calc = tool({
  name: 'calc',
  description: 'adds',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  callback: async ({ a, b }) => {
    await new Promise((r) => setTimeout(r, 15))
    return a + b
  },
})
const broken = tool({
  name: 'broken',
  description: 'fails',
  inputSchema: z.object({}),
  callback: () => {
    throw new Error('tool exploded')
  },
})

describe('metrics', () => {
  it('records per-invocation metrics on the final assistant message and running totals', async () => {
    const { agent, data, sessionId } = setup(
      [
        {
          toolUse: { name: 'calc', input: { a: 1, b: 2 } },
          delayMs: 40,
          usage: { inputTokens: 100, outputTokens: 10 },
          latencyMs: 50,
        },
        {
          text: 'The answer is 3.',
          usage: { inputTokens: 120, outputTokens: 20, cacheReadInputTokens: 60, cacheWriteInputTokens: 20 },
          latencyMs: 30,
        },
        { text: 'Second answer.', usage: { inputTokens: 200, outputTokens: 5 }, latencyMs: 10 },
      ],
      { tools: [calc] },
    )
    await agent.invoke('what is 1 + 2?')
    const final = agent.messages.at(-1)!
    expect(final.role).toBe('assistant')
    const docs = await ctx.collections.messages.find({ session_id: sessionId }).sort({ seq: 1 }).toArray()
    expect(docs.map((d) => d.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    // Only the invocation's final assistant message carries the record.
    expect(docs.slice(0, 3).every((d) => d.invocation_metrics === undefined)).toBe(true)
    const record = docs[3]!.invocation_metrics as unknown as InvocationMetricsRecord
    expect(docs[3]!.tracking_id).toBe(final.trackingId)
    expect(record.usage).toEqual({
      input_tokens: 220,
      output_tokens: 30,
      total_tokens: 250,
      cache_read_input_tokens: 60,
      cache_write_input_tokens: 20,
    })
    expect(record.cycle_count).toBe(2)
    expect(record.model_calls).toHaveLength(2)
    expect(record.model_latency_ms).toBe(80)
    // The first model call waited 40 ms before streaming: time to first byte is measured by the library.
    expect(record.time_to_first_byte_ms).toBeGreaterThanOrEqual(35)
    expect(record.tool_calls).toHaveLength(1)
    expect(record.tool_calls[0]).toMatchObject({ name: 'calc', status: 'success' })
    expect(record.tool_calls[0]!.duration_ms).toBeGreaterThanOrEqual(10)
    expect(record.duration_ms).toBeGreaterThanOrEqual(record.time_to_first_byte_ms!)

    await agent.invoke('and again')
    const summary = await data.getMetricsSummary()
    expect(summary.session).toMatchObject({
      invocations: 2,
      cycles: 3,
      modelCalls: 3,
      inputTokens: 420,
      outputTokens: 35,
      totalTokens: 455,
      cacheReadInputTokens: 60,
      cacheWriteInputTokens: 20,
      modelLatencyMs: 90,
      toolCalls: 1,
      toolErrors: 0,
      timeToFirstByteSamples: 3,
      cacheHitRate: 0.75,
    })
    expect(summary.agents.agent).toMatchObject({
      invocations: 2,
      inputTokens: 420,
      tools: { calc: { calls: 1, errors: 0 } },
    })
    // The per-invocation record of the second turn holds only that turn.
    const last = await ctx.collections.messages.findOne({
      session_id: sessionId,
      tracking_id: agent.messages.at(-1)!.trackingId,
    })
    expect((last!.invocation_metrics as unknown as InvocationMetricsRecord).usage.input_tokens).toBe(200)
  })

  it('records failed tool calls with their status and error', async () => {
    const { agent, data } = setup([{ toolUse: { name: 'broken', input: {} } }, { text: 'sorry' }], { tools: [broken] })
    await agent.invoke('try it')
    const summary = await data.getMetricsSummary()
    expect(summary.session).toMatchObject({ toolCalls: 1, toolErrors: 1 })
    expect(summary.agents.agent!.tools.broken).toMatchObject({ calls: 1, errors: 1 })
  })
})

describe('agent configuration', () => {
  it('captures model and system prompt, keeps prompt metadata across captures, lists agents', async () => {
    const { agent, data, sessionId } = setup([{ text: 'one' }, { text: 'two' }, { text: 'three' }], {
      systemPrompt: 'You are helpful.',
    })
    await agent.invoke('hi')
    expect(await data.getAgentConfig('agent')).toMatchObject({
      agentId: 'agent',
      model: 'scripted-model-v1',
      systemPrompt: 'You are helpful.',
      promptMetadata: null,
    })
    const pm = {
      promptId: 'p-1',
      promptName: 'support',
      promptVersion: 3,
      deploymentId: 'd-1',
      deploymentName: 'prod',
      temperature: 0.2,
      extra: { team: 'care' },
    }
    await data.setPromptMetadata('agent', pm)
    agent.systemPrompt = 'You are terse.'
    await agent.invoke('again')
    const config = await data.getAgentConfig('agent')
    expect(config.systemPrompt).toBe('You are terse.')
    expect(config.promptMetadata).toEqual(pm)
    // A manual model value stays until the agent's actual configuration changes.
    await data.updateAgentConfig('agent', { model: 'manual-model' })
    await agent.invoke('third')
    expect((await data.getAgentConfig('agent')).model).toBe('manual-model')
    const agents = await data.listAgents()
    expect(agents).toHaveLength(1)
    expect(agents[0]).toMatchObject({ agentId: 'agent', model: 'manual-model', messageCount: agent.messages.length })
    expect(await data.getMessageCount('agent')).toBe(agent.messages.length)
    expect(agent.messages.length).toBe(6)
    // Saves by the core never wipe the config.
    const raw = await ctx.collections.sessions.findOne({ _id: sessionId })
    expect(raw!.agents.agent!.config!.prompt_metadata).toMatchObject({ prompt_id: 'p-1', temperature: 0.2 })
  })

  it('unknown agents and sessions are NotFoundError; nothing partial is created', async () => {
    const { agent, data, sessionId } = setup([{ text: 'x' }])
    await agent.invoke('hi')
    await expect(data.getAgentConfig('nobody')).rejects.toBeInstanceOf(NotFoundError)
    await expect(data.updateAgentConfig('nobody', { model: 'm' })).rejects.toMatchObject({
      resource: 'agent',
      id: 'nobody',
    })
    await expect(data.setPromptMetadata('nobody', { promptId: 'p' })).rejects.toBeInstanceOf(NotFoundError)
    await expect(data.getMessageCount('nobody')).rejects.toBeInstanceOf(NotFoundError)
    const raw = await ctx.collections.sessions.findOne({ _id: sessionId })
    expect(Object.keys(raw!.agents)).toEqual(['agent'])
    const missing = new MongoDBSessionManager({
      sessionId: sid(),
      client: ctx.db.client,
      databaseName: ctx.db.databaseName,
    })
    await expect(missing.getAgentConfig('agent')).rejects.toMatchObject({ resource: 'session' })
    expect(await missing.listAgents()).toEqual([])
  })

  it('validates prompt metadata (nothing written on error)', async () => {
    const { agent, data, sessionId } = setup([{ text: 'x' }])
    await agent.invoke('hi')
    const before = await ctx.collections.sessions.findOne({ _id: sessionId })
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            temperature: fc.oneof(
              fc.double({ min: 2.0001, noNaN: true }),
              fc.constant(Number.NaN),
              fc.constant(-1),
              fc.string(),
            ),
          }),
          fc.record({ promptId: fc.oneof(fc.integer(), fc.string({ minLength: 513, maxLength: 600 })) }),
          fc.record({ unknownField: fc.string() }),
          fc.constant({}),
        ),
        async (pm) => {
          await expect(data.setPromptMetadata('agent', pm as never)).rejects.toBeInstanceOf(ValidationError)
        },
      ),
      { numRuns: 40 },
    )
    expect(await ctx.collections.sessions.findOne({ _id: sessionId })).toEqual(before)
  })
})

const bedrockTrace = {
  guardrail: {
    inputAssessment: {
      gr123: {
        contentPolicy: { filters: [{ type: 'HATE', confidence: 'HIGH', action: 'BLOCKED', detected: true }] },
        topicPolicy: { topics: [{ name: 'Investments', type: 'DENY', action: 'BLOCKED' }] },
        sensitiveInformationPolicy: { piiEntities: [{ type: 'EMAIL', match: 'a@b.c', action: 'ANONYMIZED' }] },
      },
    },
    outputAssessments: {
      gr123: [
        {
          wordPolicy: {
            customWords: [{ match: 'darn', action: 'BLOCKED' }],
            managedWordLists: [{ type: 'PROFANITY', match: 'x', action: 'BLOCKED' }],
          },
          contextualGroundingPolicy: {
            filters: [{ type: 'GROUNDING', score: 0.3, threshold: 0.7, action: 'BLOCKED' }],
          },
          contentPolicy: { filters: [{ type: 'VIOLENCE', confidence: 'LOW', action: 'NONE', detected: false }] },
        },
      ],
    },
  },
}

describe('guardrail audit', () => {
  it('parses Bedrock traces (keyed by guardrail id) and the flat shape', () => {
    const expected = {
      contentPolicy: ['HATE/HIGH'],
      topicPolicy: ['Investments/BLOCKED'],
      sensitiveInformationPolicy: ['EMAIL/ANONYMIZED'],
      wordPolicy: ['darn', 'PROFANITY/x'],
      contextualGroundingPolicy: ['GROUNDING/0.3/0.7'],
    }
    expect(extractPoliciesTriggered(bedrockTrace)).toEqual(expected)
    const flat = {
      inputAssessment: bedrockTrace.guardrail.inputAssessment.gr123,
      outputAssessments: bedrockTrace.guardrail.outputAssessments.gr123,
    }
    expect(extractPoliciesTriggered(flat)).toEqual(expected)
    expect(extractPoliciesTriggered({ guardrail: flat })).toEqual(expected)
    expect(traceAction(bedrockTrace)).toBe('BLOCKED')
    expect(extractPoliciesTriggered({})).toBeNull()
  })

  it('property: parsing arbitrary traces never throws', () => {
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true }), (junk) => {
        extractPoliciesTriggered(junk)
        extractPoliciesTriggered({ guardrail: { inputAssessment: junk, outputAssessments: junk } })
        traceAction({ guardrail: { inputAssessment: { g: junk }, outputAssessments: { g: [junk] } } })
      }),
      { numRuns: 300 },
    )
  })

  it('records a redaction with the message reference and the policies triggered', async () => {
    const { agent, data, sessionId } = setup([
      {
        text: 'blocked',
        redactInput: '[User input redacted.]',
        trace: bedrockTrace,
        stopReason: 'guardrailIntervened',
      },
      { text: 'fine' },
    ])
    await agent.invoke('something hateful')
    const user = agent.messages[0]!
    expect(user.content[0]).toMatchObject({ text: '[User input redacted.]' })
    const page = await data.getGuardrailEvents()
    expect(page.items).toHaveLength(1)
    const event = page.items[0]!
    expect(event).toMatchObject({
      sessionId,
      agentId: 'agent',
      messageTrackingId: user.trackingId,
      action: 'BLOCKED',
      stopReason: 'guardrailIntervened',
    })
    expect(event.policiesTriggered).toMatchObject({
      contentPolicy: ['HATE/HIGH'],
      topicPolicy: ['Investments/BLOCKED'],
    })
    const stored = await ctx.collections.messages.findOne({ session_id: sessionId, tracking_id: user.trackingId })
    expect(event.messageSeq).toBe(stored!.seq)
    // A normal turn records nothing.
    await agent.invoke('hello')
    expect((await data.getGuardrailEvents()).items).toHaveLength(1)
  })

  it('a redaction without a trace is still recorded, as BLOCKED with no policies', async () => {
    const { agent, data } = setup([{ text: 'no', redactInput: '[redacted]' }])
    await agent.invoke('bad')
    const [event] = (await data.getGuardrailEvents()).items
    expect(event).toMatchObject({ action: 'BLOCKED', policiesTriggered: null })
  })

  it('a failing audit store never breaks the redaction', async () => {
    const proxy = await startFaultProxy(ctx.db.uri)
    const client = await new MongoClient(proxy.uri).connect()
    try {
      // Every insert into the audit collection loses its connection; everything else goes through.
      proxy.failCommandsOn('insert', 'guardrail_events')
      const { agent, sessionId } = setup([{ text: 'x', redactInput: '[redacted]', trace: bedrockTrace }], { client })
      await agent.invoke('bad')
      expect(agent.messages[0]!.content[0]).toMatchObject({ text: '[redacted]' })
      const stored = await ctx.collections.messages.findOne({ session_id: sessionId, seq: 0 })
      expect(JSON.stringify(stored!.content)).toContain('[redacted]')
      expect(await ctx.collections.guardrailEvents.countDocuments({ session_id: sessionId })).toBe(0)
    } finally {
      await client.close()
      await proxy.close()
    }
  })
})

describe('metrics in every saveLatestOn mode', () => {
  it.each(['message', 'invocation', 'trigger'] as const)(
    "saveLatestOn '%s': the final assistant message carries the invocation's metrics once saved, and totals count it",
    async (saveLatestOn) => {
      const sessionId = sid()
      const manager = new MongoDBSessionManager({
        sessionId,
        client: ctx.db.client,
        databaseName: ctx.db.databaseName,
        saveLatestOn,
        // 'trigger' saves only when the trigger says so: here, after every invocation.
        ...(saveLatestOn === 'trigger' && { snapshotTrigger: () => true }),
      })
      const agent = new Agent({
        model: new ScriptedModel([{ text: 'one', usage: { inputTokens: 10, outputTokens: 2 } }]),
        sessionManager: manager,
        printer: false,
      })
      await agent.invoke('hello')
      const final = await ctx.collections.messages.findOne({
        session_id: sessionId,
        tracking_id: agent.messages.at(-1)!.trackingId,
      })
      expect((final!.invocation_metrics as unknown as InvocationMetricsRecord).usage.input_tokens).toBe(10)
      expect((await manager.getMetricsSummary()).session).toMatchObject({ invocations: 1, inputTokens: 10 })
    },
  )

  it("saveLatestOn 'trigger' without a save still counts the invocation in the totals", async () => {
    const sessionId = sid()
    const manager = new MongoDBSessionManager({
      sessionId,
      client: ctx.db.client,
      databaseName: ctx.db.databaseName,
      saveLatestOn: 'trigger',
    })
    const agent = new Agent({
      model: new ScriptedModel([{ text: 'one', usage: { inputTokens: 10, outputTokens: 2 } }, { text: 'two' }]),
      sessionManager: manager,
      printer: false,
    })
    await agent.invoke('first')
    await manager.saveSnapshot({ target: agent, isLatest: true }) // the agent now exists in storage
    await agent.invoke('second')
    // The first invocation ran before anything of the agent was stored: there were no totals to add
    // to. The second, with nothing saved after it, is counted against the stored agent.
    expect((await manager.getMetricsSummary()).session.invocations).toBe(1)
  })
})
