/**
 * The support agent the examples talk to: a Strands `Agent` with an order-lookup tool, driven by
 * the deterministic `ScriptedModel` (no network, same answers every run) or by Amazon Bedrock.
 */
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import { Agent, NullConversationManager, tool, type Model, type SessionManager } from '@strands-agents/sdk'
import { z } from 'zod'
import { ScriptedModel, type ScriptedResponder } from '../../src/testing/index.js'

export const SYSTEM_PROMPT =
  'You are a friendly customer-support agent for an online shop. Use lookup_order to check orders. Be brief.'

/** Order lookup: a fixed answer per order id, so runs are reproducible. */
export const lookupOrder = tool({
  name: 'lookup_order',
  description: 'Looks up the shipping status of an order by its id (e.g. A-1001)',
  inputSchema: z.object({ orderId: z.string().describe('the order id') }),
  callback: ({ orderId }) => ({
    orderId,
    status: 'delayed',
    carrier: 'ParcelNet',
    lastScan: 'Lyon hub, 2 days ago',
    newEta: '2 business days',
  }),
})

function lastText(messages: Parameters<ScriptedResponder>[0]): string {
  const content = messages.at(-1)?.content ?? []
  const text = content.find((block) => block.type === 'textBlock')
  return text && 'text' in text ? String(text.text) : ''
}

/**
 * The scripted support conversation: order questions trigger `lookup_order`, its result gets a
 * summary, anything else a polite reply.
 */
export const supportResponder: ScriptedResponder = (messages) => {
  const last = messages.at(-1)
  if (last?.content.some((block) => block.type === 'toolResultBlock')) {
    return {
      text: 'Your order A-1001 is delayed at the Lyon hub; ParcelNet now expects delivery within 2 business days.',
      usage: { inputTokens: 412, outputTokens: 38 },
      latencyMs: 180,
    }
  }
  const said = lastText(messages)
  const order = /\b([A-Z]-\d{3,})\b/.exec(said)
  if (order) {
    return {
      toolUse: { name: 'lookup_order', input: { orderId: order[1] } },
      usage: { inputTokens: 350, outputTokens: 22 },
    }
  }
  if (/escalat|refund|manager/i.test(said)) {
    return { text: 'I have escalated your case to a supervisor; you will hear from us within 24 hours.' }
  }
  if (/thank/i.test(said)) return { text: 'You are welcome! Is there anything else I can help with?' }
  return { text: `Happy to help. Could you share your order id? (You said: "${said.slice(0, 60)}")` }
}

/** Whether AWS credentials are configured in a way the AWS SDK will find. */
export function awsCredentialsPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(
    (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) ||
    env.AWS_PROFILE ||
    env.AWS_WEB_IDENTITY_TOKEN_FILE ||
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ||
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
    existsSync(path.join(homedir(), '.aws', 'credentials')),
  )
}

/** `scripted` (default) or `bedrock` (model id from `BEDROCK_MODEL_ID`, else the SDK's default). */
export async function createModel(kind: 'scripted' | 'bedrock', env: NodeJS.ProcessEnv = process.env): Promise<Model> {
  if (kind === 'scripted') return new ScriptedModel(supportResponder, { chunkSize: 24 })
  const { BedrockModel } = await import('@strands-agents/sdk/models/bedrock')
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION
  return new BedrockModel({
    ...(env.BEDROCK_MODEL_ID ? { modelId: env.BEDROCK_MODEL_ID } : {}),
    ...(region ? { region } : {}),
  })
}

/** A support agent (id `support` unless given) persisted by `sessionManager`. */
export function createSupportAgent(options: { sessionManager: SessionManager; model: Model; id?: string }): Agent {
  return new Agent({
    model: options.model,
    tools: [lookupOrder],
    systemPrompt: SYSTEM_PROMPT,
    sessionManager: options.sessionManager,
    conversationManager: new NullConversationManager(),
    printer: false,
    id: options.id ?? 'support',
  })
}
