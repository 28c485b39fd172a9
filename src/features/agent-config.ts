/**
 * Agent configuration: the model id and system prompt each agent ran with (captured automatically
 * after invocations), plus prompt-management metadata set through the API.
 *
 * Everything lives under `agents.<agent_id>.config`, which the core's saves never touch (they write
 * only revision/last_op/ranges/counters/snapshot_* fields by dotted path), so prompt metadata is
 * never wiped by a save. Every write requires the agent entry to exist
 * (`agents.<id>.revision`, set by the core's first save), so an unknown id is a typed
 * {@link NotFoundError} and never creates a partial agent entry.
 */
import { createHash } from 'node:crypto'
import type { Document } from 'mongodb'
import { NotFoundError, StorageOperationError } from '../errors.js'
import type { Metadata } from '../model/types.js'
import { describeError, log } from '../logging.js'
import type { SessionCollections } from '../storage/collections.js'
import { decodeValue, encodeValue } from '../storage/encoding.js'
import { isExpired, NO_EXPIRY, type ExpiryPolicy } from '../storage/retention.js'
import { agentField, type AgentStateDocument } from '../storage/schema.js'
import { isSealed, open } from '../storage/crypto/cipher.js'
import type { SessionCrypto } from '../storage/crypto/session-crypto.js'
import { DATA_KEY_FIELD } from '../storage/crypto/session-key.js'
import {
  validateModelId,
  validatePromptMetadata,
  validateSystemPrompt,
  type PromptMetadata,
} from '../validation/agent-config.js'
import { validateIdentifier } from '../validation/identifiers.js'
import { agentPlace } from '../storage/agent-store.js'

export type { PromptMetadata }

/** The field whose presence marks an agent entry as created (set by the core's first save). */
export const AGENT_EXISTS_FIELD = 'revision'

/** The captured system prompt (user content: sealed with encryption on, like the agent state). */
const SYSTEM_PROMPT = 'config.system_prompt'

/**
 * How an agent-config call seals and opens the system prompt: `crypto` with encryption on, `null`
 * for a manager without it (a sealed prompt is then a `DecryptionError`). Readers that hold no key
 * (the CLI) pass nothing and get a sealed prompt as stored.
 */
type PromptCrypto = SessionCrypto | null | undefined

/** Free-form prompt metadata (`extra`): user content too, sealed like the system prompt. */
const PROMPT_EXTRA = 'extra'

function promptPlace(agentId: string, field = SYSTEM_PROMPT): string {
  return agentPlace(agentId, field)
}

/** A data key and what seals with it; `null`: no encryption. */
type Sealer = { crypto: SessionCrypto; key: Buffer } | null

/** The stored form of a system prompt, sealed when encrypting. */
function storedPrompt(sealer: Sealer, agentId: string, prompt: string | unknown[] | null): unknown {
  const encoded = encodeValue(prompt)
  return sealer ? sealer.crypto.seal(sealer.key, encoded, promptPlace(agentId)) : encoded
}

/** The stored form of prompt metadata, its `extra` sealed when encrypting. */
function storedPromptMetadata(sealer: Sealer, agentId: string, pm: PromptMetadata): Document {
  const doc = promptMetadataToDoc(pm)
  if (sealer && doc[PROMPT_EXTRA] !== undefined) {
    doc[PROMPT_EXTRA] = sealer.crypto.seal(sealer.key, doc[PROMPT_EXTRA], promptPlace(agentId, PROMPT_EXTRA))
  }
  return doc
}

/**
 * With encryption, the key to seal an existing agent's configuration with, from one read. An unknown
 * session or agent is a `NotFoundError` here, before a key is asked for (asking creates a missing
 * session).
 */
async function agentSealer(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  crypto: PromptCrypto,
): Promise<Sealer> {
  if (!crypto) return null
  const doc = await collections.sessions.findOne(
    { _id: sessionId },
    { projection: { [agentField(agentId, AGENT_EXISTS_FIELD)]: 1, [DATA_KEY_FIELD]: 1 } },
  )
  if (!doc) throw new NotFoundError('session', sessionId)
  if (doc.agents?.[agentId]?.[AGENT_EXISTS_FIELD] === undefined) throw new NotFoundError('agent', agentId)
  return { crypto, key: await crypto.writeKey(doc) }
}

/**
 * Opens the sealed system prompts and prompt-metadata `extra`s of `agents` in place (one key read,
 * only when there is one).
 */
async function openPrompts(
  crypto: PromptCrypto,
  sessionId: string,
  agents: Record<string, Partial<AgentStateDocument> | undefined>,
): Promise<void> {
  const fields: { config: Document; field: string; place: string }[] = []
  for (const [agentId, agent] of Object.entries(agents)) {
    const config = agent?.config as Document | undefined
    if (isSealed(config?.system_prompt))
      fields.push({ config: config!, field: 'system_prompt', place: promptPlace(agentId) })
    const pm = config?.prompt_metadata as Document | undefined
    if (isSealed(pm?.[PROMPT_EXTRA])) {
      fields.push({ config: pm!, field: PROMPT_EXTRA, place: promptPlace(agentId, PROMPT_EXTRA) })
    }
  }
  if (fields.length === 0 || crypto === undefined) return
  const opened = (key: Buffer | null) =>
    fields.map(({ config, field, place }) => open(key, config[field], { sessionId, place }))
  const values = crypto ? await crypto.withReadKey(opened) : opened(null)
  fields.forEach(({ config, field }, i) => (config[field] = values[i]))
}

/** Configuration of one agent. */
export interface AgentConfig {
  agentId: string
  /** Model id, e.g. `us.anthropic.claude-sonnet-4-…`; `null` until captured or set. */
  model: string | null
  /** A string, or the SDK's system content blocks as JSON; `null` when none. */
  systemPrompt: string | unknown[] | null
  promptMetadata: PromptMetadata | null
  /** When the automatic capture last wrote the model/system prompt. */
  capturedAt: Date | null
}

/** One agent of the session, as listed by `listAgents()` (no messages are read). */
export interface AgentSummary extends AgentConfig {
  messageCount: number
  createdAt: Date | null
  updatedAt: Date | null
}

/** Fields `updateAgentConfig` may change. */
export interface AgentConfigUpdate {
  model?: string
  systemPrompt?: string | unknown[]
  promptMetadata?: PromptMetadata
}

export { agentField }

function promptMetadataToDoc(pm: PromptMetadata): Document {
  const doc: Document = {}
  if (pm.promptId !== undefined) doc.prompt_id = pm.promptId
  if (pm.promptName !== undefined) doc.prompt_name = pm.promptName
  if (pm.promptVersion !== undefined) doc.prompt_version = pm.promptVersion
  if (pm.deploymentId !== undefined) doc.deployment_id = pm.deploymentId
  if (pm.deploymentName !== undefined) doc.deployment_name = pm.deploymentName
  if (pm.temperature !== undefined) doc.temperature = pm.temperature
  if (pm.extra !== undefined) doc.extra = encodeValue(pm.extra)
  return doc
}

function promptMetadataFromDoc(doc: Document | undefined): PromptMetadata | null {
  if (!doc || typeof doc !== 'object') return null
  const pm: PromptMetadata = {}
  if (typeof doc.prompt_id === 'string') pm.promptId = doc.prompt_id
  if (typeof doc.prompt_name === 'string') pm.promptName = doc.prompt_name
  if (typeof doc.prompt_version === 'string' || typeof doc.prompt_version === 'number')
    pm.promptVersion = doc.prompt_version
  if (typeof doc.deployment_id === 'string') pm.deploymentId = doc.deployment_id
  if (typeof doc.deployment_name === 'string') pm.deploymentName = doc.deployment_name
  if (typeof doc.temperature === 'number') pm.temperature = doc.temperature
  if (doc.extra !== undefined) pm.extra = decodeValue(doc.extra) as Metadata
  return pm
}

function toConfig(agentId: string, agent: Partial<AgentStateDocument> | undefined): AgentConfig {
  const config = agent?.config
  const prompt =
    config?.system_prompt === undefined ? null : (decodeValue(config.system_prompt) as string | unknown[] | null)
  return {
    agentId,
    model: typeof config?.model === 'string' ? config.model : null,
    systemPrompt: prompt,
    promptMetadata: promptMetadataFromDoc(config?.prompt_metadata),
    capturedAt: config?.captured_at ?? null,
  }
}

async function notFound(collections: SessionCollections, sessionId: string, agentId: string): Promise<never> {
  const session = await collections.sessions.findOne({ _id: sessionId }, { projection: { _id: 1 } })
  throw session ? new NotFoundError('agent', agentId) : new NotFoundError('session', sessionId)
}

/** Reads one agent's configuration; unknown session or agent → {@link NotFoundError}. */
export async function loadAgentConfig(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  crypto?: PromptCrypto,
  expiry: ExpiryPolicy = NO_EXPIRY,
): Promise<AgentConfig> {
  validateIdentifier(agentId, 'agentId')
  const doc = await collections.sessions.findOne(
    { _id: sessionId },
    {
      projection: {
        [agentField(agentId, 'config')]: 1,
        [agentField(agentId, AGENT_EXISTS_FIELD)]: 1,
        expires_at: 1,
      },
    },
  )
  // An expired session reads as absent until it is pruned.
  if (!doc || isExpired(doc, expiry.now())) throw new NotFoundError('session', sessionId)
  const agent = doc.agents?.[agentId]
  if (agent?.[AGENT_EXISTS_FIELD] === undefined) throw new NotFoundError('agent', agentId)
  await openPrompts(crypto, sessionId, { [agentId]: agent })
  return toConfig(agentId, agent)
}

async function writeConfig(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  set: Document,
  crypto: PromptCrypto,
): Promise<AgentConfig> {
  let doc: Document | null
  try {
    doc = await collections.sessions.findOneAndUpdate(
      { _id: sessionId, [agentField(agentId, AGENT_EXISTS_FIELD)]: { $exists: true } },
      { $set: set },
      // No projection: FerretDB 1.24 rejects findAndModify's `fields` (the session document is small).
      { returnDocument: 'after' },
    )
  } catch (error) {
    throw new StorageOperationError(`agent config update failed for agent '${agentId}'`, { cause: error })
  }
  if (!doc) return notFound(collections, sessionId, agentId)
  const agent = (doc.agents as Record<string, Partial<AgentStateDocument>> | undefined)?.[agentId]
  await openPrompts(crypto, sessionId, { [agentId]: agent })
  return toConfig(agentId, agent)
}

/** `updateAgentConfig`: sets only the given fields; an empty update returns the current config. */
export async function storeAgentConfigUpdate(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  update: AgentConfigUpdate,
  crypto?: PromptCrypto,
): Promise<AgentConfig> {
  validateIdentifier(agentId, 'agentId')
  const set: Document = {}
  if (update === null || typeof update !== 'object') {
    validatePromptMetadata(update) // throws the typed error for a non-object
  }
  if (update.model !== undefined) set[agentField(agentId, 'config.model')] = validateModelId(update.model)
  const prompt = update.systemPrompt === undefined ? undefined : validateSystemPrompt(update.systemPrompt)
  const pm = update.promptMetadata === undefined ? undefined : validatePromptMetadata(update.promptMetadata)
  const sealer =
    prompt !== undefined || pm !== undefined ? await agentSealer(collections, sessionId, agentId, crypto) : null
  if (pm !== undefined) set[agentField(agentId, 'config.prompt_metadata')] = storedPromptMetadata(sealer, agentId, pm)
  if (prompt !== undefined) set[agentField(agentId, SYSTEM_PROMPT)] = storedPrompt(sealer, agentId, prompt)
  if (Object.keys(set).length === 0) return loadAgentConfig(collections, sessionId, agentId, crypto)
  return writeConfig(collections, sessionId, agentId, set, crypto)
}

/** `setPromptMetadata`: replaces the agent's prompt metadata as a whole. */
export async function storePromptMetadata(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  promptMetadata: PromptMetadata,
  crypto?: PromptCrypto,
): Promise<AgentConfig> {
  validateIdentifier(agentId, 'agentId')
  const valid = validatePromptMetadata(promptMetadata)
  const doc = storedPromptMetadata(await agentSealer(collections, sessionId, agentId, crypto), agentId, valid)
  return writeConfig(collections, sessionId, agentId, { [agentField(agentId, 'config.prompt_metadata')]: doc }, crypto)
}

/** All agents of the session (sorted by id) with their config and message counts; `[]` for a missing or expired session. */
export async function loadAgents(
  collections: SessionCollections,
  sessionId: string,
  expiry: ExpiryPolicy = NO_EXPIRY,
  crypto?: PromptCrypto,
): Promise<AgentSummary[]> {
  // The session document holds no messages (they live in `messages`), so projecting `agents` is cheap.
  const doc = await collections.sessions.findOne({ _id: sessionId }, { projection: { agents: 1, expires_at: 1 } })
  const agents = (isExpired(doc, expiry.now()) ? {} : (doc?.agents ?? {})) as Record<
    string,
    Partial<AgentStateDocument>
  >
  await openPrompts(crypto, sessionId, agents)
  return Object.keys(agents)
    .filter((id) => agents[id]?.[AGENT_EXISTS_FIELD] !== undefined)
    .sort()
    .map((id) => {
      const agent = agents[id]
      return {
        ...toConfig(id, agent),
        messageCount: agent?.message_count ?? 0,
        createdAt: agent?.created_at ?? null,
        updatedAt: agent?.updated_at ?? null,
      }
    })
}

/** Messages in the agent's active conversation (`message_count`, maintained by the core's saves). */
export async function loadMessageCount(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  expiry: ExpiryPolicy = NO_EXPIRY,
): Promise<number> {
  validateIdentifier(agentId, 'agentId')
  const doc = await collections.sessions.findOne(
    { _id: sessionId },
    {
      projection: {
        [agentField(agentId, 'message_count')]: 1,
        [agentField(agentId, AGENT_EXISTS_FIELD)]: 1,
        expires_at: 1,
      },
    },
  )
  if (!doc || isExpired(doc, expiry.now())) throw new NotFoundError('session', sessionId)
  const agent = doc.agents?.[agentId]
  if (agent?.[AGENT_EXISTS_FIELD] === undefined) throw new NotFoundError('agent', agentId)
  return agent.message_count ?? 0
}

/**
 * Fingerprint of the captured (model, system prompt) pair. The capture writes only when the agent's
 * actual configuration differs from the last capture, so a value set with `updateAgentConfig`
 * stays until the agent really runs with something new — and an unchanged config costs no write.
 */
export function configFingerprint(model: string | null, prompt: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([model, prompt ?? null]))
    .digest('base64url')
}

/** The model id of an agent's model: `modelId`, else `getConfig().modelId`, else the class name. */
export function resolveModelId(model: unknown): string | null {
  if (!model || typeof model !== 'object') return null
  try {
    const direct = (model as { modelId?: unknown }).modelId
    if (typeof direct === 'string' && direct.length > 0) return direct
    const config = (model as { getConfig?: () => unknown }).getConfig?.()
    const fromConfig = (config as { modelId?: unknown } | undefined)?.modelId
    if (typeof fromConfig === 'string' && fromConfig.length > 0) return fromConfig
  } catch {
    // A provider whose getters throw still gets a name below.
  }
  return (model as { constructor?: { name?: string } }).constructor?.name ?? null
}

/** The JSON form of an agent's system prompt (strings stay strings; content blocks via their toJSON). */
export function systemPromptJson(prompt: unknown): string | unknown[] | null {
  if (prompt === undefined || prompt === null) return null
  if (typeof prompt === 'string') return prompt
  return JSON.parse(JSON.stringify(prompt)) as unknown[]
}

/**
 * What a capture writes, as fields of the agent's entry, and the fingerprint that tells whether the
 * stored capture is already this one.
 */
export function capturedConfig(agent: { model?: unknown; systemPrompt?: unknown }): {
  fingerprint: string
  fields: Document
  sealed: readonly string[]
} {
  const model = resolveModelId(agent.model)
  const prompt = systemPromptJson(agent.systemPrompt)
  return {
    fingerprint: configFingerprint(model, prompt),
    fields: { 'config.model': model, [SYSTEM_PROMPT]: encodeValue(prompt), 'config.captured_at': new Date() },
    sealed: [SYSTEM_PROMPT],
  }
}

/** Outcome of {@link captureAgentConfig}. */
export type CaptureOutcome = 'written' | 'unchanged' | 'no-agent' | 'failed'

/**
 * Records the agent's model id and system prompt when they differ from the last capture (a
 * conditional update: an unchanged config costs no write). Never throws: failures are logged.
 */
export async function captureAgentConfig(
  collections: SessionCollections,
  sessionId: string,
  agentId: string,
  model: string | null,
  systemPrompt: string | unknown[] | null,
  crypto?: PromptCrypto,
): Promise<CaptureOutcome> {
  const fingerprint = configFingerprint(model, systemPrompt)
  try {
    const prompt = storedPrompt(crypto ? { crypto, key: await crypto.writeKey() } : null, agentId, systemPrompt)
    const result = await collections.sessions.updateOne(
      {
        _id: sessionId,
        [agentField(agentId, AGENT_EXISTS_FIELD)]: { $exists: true },
        [agentField(agentId, 'config.captured_fingerprint')]: { $ne: fingerprint },
      },
      {
        $set: {
          [agentField(agentId, 'config.model')]: model,
          [agentField(agentId, SYSTEM_PROMPT)]: prompt,
          [agentField(agentId, 'config.captured_fingerprint')]: fingerprint,
          [agentField(agentId, 'config.captured_at')]: new Date(),
        },
      },
    )
    if (result.matchedCount > 0) return 'written'
    const exists = await collections.sessions.findOne(
      { _id: sessionId, [agentField(agentId, AGENT_EXISTS_FIELD)]: { $exists: true } },
      { projection: { _id: 1 } },
    )
    return exists ? 'unchanged' : 'no-agent'
  } catch (error) {
    log.warn({ session_id: sessionId, agent_id: agentId, error: describeError(error) }, 'agent config capture failed')
    return 'failed'
  }
}
