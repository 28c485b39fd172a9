/** Builders for real Strands agents driven by the deterministic ScriptedModel. */
import {
  Agent,
  NullConversationManager,
  tool,
  type ConversationManager,
  type SessionManager,
} from '@strands-agents/sdk'
import { z } from 'zod'
import { ScriptedModel, type ScriptedTurn, type ScriptedResponder } from '../../src/testing/index.js'

export const lookupOrder = tool({
  name: 'lookup_order',
  description: 'Looks up an order by id',
  inputSchema: z.object({ orderId: z.string() }),
  callback: ({ orderId }) => ({ orderId, status: 'shipped', eta: '2026-12-01' }),
})

export interface TestAgentOptions {
  sessionManager: SessionManager
  script?: ScriptedTurn[] | ScriptedResponder
  id?: string
  systemPrompt?: string
  conversationManager?: ConversationManager
  appState?: Record<string, never>
}

/** Echoes the last user text; calls `lookup_order` when the text mentions an order. */
export const echoResponder: ScriptedResponder = (messages) => {
  const last = messages[messages.length - 1]
  const toolResult = last?.content.some((block) => block.type === 'toolResultBlock')
  if (toolResult) return { text: 'Your order has shipped.' }
  const text = last?.content.find((block) => block.type === 'textBlock')
  const said = text && 'text' in text ? String(text.text) : ''
  if (/order/i.test(said)) return { toolUse: { name: 'lookup_order', input: { orderId: 'A-1' } } }
  return { text: `echo: ${said}` }
}

export function testAgent(options: TestAgentOptions): Agent {
  return new Agent({
    model: new ScriptedModel(options.script ?? echoResponder),
    tools: [lookupOrder],
    sessionManager: options.sessionManager,
    conversationManager: options.conversationManager ?? new NullConversationManager(),
    printer: false,
    ...(options.id !== undefined && { id: options.id }),
    ...(options.systemPrompt !== undefined && { systemPrompt: options.systemPrompt }),
    ...(options.appState !== undefined && { appState: options.appState }),
  })
}

/** The agent's conversation as the SDK serialises it (what its own session storage would save). */
export function conversationOf(agent: Agent): unknown[] {
  return JSON.parse(JSON.stringify(agent.messages.map((m) => m.toJSON())))
}
