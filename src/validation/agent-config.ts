/**
 * Validation of agent configuration written through the API (`updateAgentConfig`, `setPromptMetadata`).
 */
import { ValidationError } from '../errors.js'
import type { Metadata } from '../model/types.js'
import { validateMetadataUpdate } from './metadata.js'
import { containsLoneSurrogate } from './text.js'

/** Prompt-management metadata attached to an agent (which prompt and deployment produced it). */
export interface PromptMetadata {
  promptId?: string
  promptName?: string
  /** A label (`'v3'`) or a number (`3`). */
  promptVersion?: string | number
  deploymentId?: string
  deploymentName?: string
  /** Sampling temperature of the deployment: a finite number from 0 to 2. */
  temperature?: number
  /** Anything else worth keeping, validated like session metadata. */
  extra?: Metadata
}

/** Longest string accepted in prompt metadata and model ids. */
export const MAX_CONFIG_STRING_LENGTH = 512
/** Longest system prompt accepted by `updateAgentConfig`, as UTF-8 JSON bytes. */
export const MAX_SYSTEM_PROMPT_BYTES = 256 * 1024

const STRING_FIELDS = ['promptId', 'promptName', 'deploymentId', 'deploymentName'] as const
const ALL_FIELDS = new Set<string>([...STRING_FIELDS, 'promptVersion', 'temperature', 'extra'])

function checkString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ValidationError(`${field} must be a string`, { field })
  if (value.length > MAX_CONFIG_STRING_LENGTH) {
    throw new ValidationError(`${field} is longer than ${MAX_CONFIG_STRING_LENGTH} characters`, { field })
  }
  if (value.includes('\u0000')) throw new ValidationError(`${field} contains a NUL character`, { field })
  rejectLoneSurrogates(value, field)
  return value
}

/** MongoDB stores UTF-8: a lone surrogate would come back as U+FFFD, so refuse it rather than store something else. */
function rejectLoneSurrogates(value: unknown, field: string): void {
  if (containsLoneSurrogate(value)) {
    throw new ValidationError(`${field} contains a lone surrogate (not valid Unicode)`, { field })
  }
}

/** Validates prompt metadata and returns a detached copy without undefined fields. */
export function validatePromptMetadata(input: unknown): PromptMetadata {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('prompt metadata must be an object', { field: 'promptMetadata' })
  }
  const record = input as Record<string, unknown>
  const out: PromptMetadata = {}
  for (const key of Object.keys(record)) {
    if (!ALL_FIELDS.has(key)) {
      throw new ValidationError(
        `unknown prompt metadata field ${JSON.stringify(key)} (put custom fields under 'extra')`,
        { field: `promptMetadata.${key}` },
      )
    }
  }
  for (const field of STRING_FIELDS) {
    if (record[field] !== undefined) out[field] = checkString(record[field], `promptMetadata.${field}`)
  }
  const version = record.promptVersion
  if (version !== undefined) {
    if (typeof version === 'number') {
      if (!Number.isFinite(version)) {
        throw new ValidationError('promptMetadata.promptVersion must be finite', {
          field: 'promptMetadata.promptVersion',
        })
      }
      out.promptVersion = version
    } else {
      out.promptVersion = checkString(version, 'promptMetadata.promptVersion')
    }
  }
  const temperature = record.temperature
  if (temperature !== undefined) {
    if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0 || temperature > 2) {
      throw new ValidationError('promptMetadata.temperature must be a number from 0 to 2', {
        field: 'promptMetadata.temperature',
      })
    }
    out.temperature = temperature
  }
  if (record.extra !== undefined) out.extra = validateMetadataUpdate(record.extra).metadata
  if (Object.keys(out).length === 0) {
    throw new ValidationError('prompt metadata has no fields', { field: 'promptMetadata' })
  }
  return out
}

/** Validates a model id given to `updateAgentConfig`. */
export function validateModelId(value: unknown): string {
  return checkString(value, 'model')
}

/** Validates a system prompt given to `updateAgentConfig`: a string or an array of SDK system content blocks (JSON). */
export function validateSystemPrompt(value: unknown): string | unknown[] {
  if (typeof value === 'string') {
    if (value.length > MAX_SYSTEM_PROMPT_BYTES) {
      throw new ValidationError(`systemPrompt is longer than ${MAX_SYSTEM_PROMPT_BYTES} characters`, {
        field: 'systemPrompt',
      })
    }
    rejectLoneSurrogates(value, 'systemPrompt')
    return value
  }
  if (Array.isArray(value)) {
    let json: string
    try {
      json = JSON.stringify(value)
    } catch (error) {
      throw new ValidationError('systemPrompt is not JSON-serialisable', { field: 'systemPrompt', cause: error })
    }
    if (Buffer.byteLength(json, 'utf8') > MAX_SYSTEM_PROMPT_BYTES) {
      throw new ValidationError(`systemPrompt is larger than ${MAX_SYSTEM_PROMPT_BYTES} bytes`, {
        field: 'systemPrompt',
      })
    }
    const blocks = JSON.parse(json) as unknown[]
    rejectLoneSurrogates(blocks, 'systemPrompt')
    return blocks
  }
  throw new ValidationError('systemPrompt must be a string or an array of content blocks', { field: 'systemPrompt' })
}
