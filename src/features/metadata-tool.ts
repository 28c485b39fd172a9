/**
 * `manage_metadata`: a Strands tool that lets an agent read and change its session's metadata.
 *
 * Every call goes through the public metadata methods, hence through the metadata hook chain (so
 * SQS/WebSocket notifications and validation hooks apply to the model's changes too). Compared
 * with the Python version: a configurable name, structured JSON results,
 * `allowedKeys` / `protectedKeys` guard-rails, and the same key/value validation and size limits
 * as the API. Models sometimes send `metadata` or `keys` as JSON-encoded strings; those are parsed.
 */
import { tool, type InvokableTool } from '@strands-agents/sdk'
import { z } from 'zod'
import { MongoSessionError, ValidationError } from '../errors.js'
import type { Metadata } from '../model/types.js'
import { validateMetadataKey } from '../validation/metadata.js'
import { defineOwn } from '../model/objects.js'

/** Options of `getMetadataTool()`. */
export interface MetadataToolOptions {
  /** Tool name (SDK rule: `^[a-zA-Z0-9_-]{1,64}$`); default `manage_metadata`. */
  name?: string
  /** Replaces the default description shown to the model. */
  description?: string
  /**
   * When set, the tool can only read and change these keys (and fields nested under them,
   * `customer` allows `customer.tier`). Other keys are invisible to it.
   */
  allowedKeys?: readonly string[]
  /** Keys the tool may read but never set or delete (nor overwrite through a parent key). */
  protectedKeys?: readonly string[]
}

/** The metadata operations the tool calls (the public, hook-wrapped ones). */
export interface MetadataToolTarget {
  getMetadata(keys?: string[]): Promise<Metadata>
  updateMetadata(metadata: Metadata): Promise<Metadata>
  deleteMetadata(keys: string[]): Promise<Metadata>
}

/** Structured tool results. */
export type MetadataToolResult =
  | { ok: true; action: 'get'; metadata: Metadata; missingKeys?: string[] }
  | { ok: true; action: 'set'; updatedKeys: string[] }
  | { ok: true; action: 'delete'; deletedKeys: string[] }
  | { ok: false; action: string; error: string; field?: string }

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/

const inputSchema = z.object({
  action: z.string().describe("One of 'get', 'set' (alias 'update') or 'delete'."),
  metadata: z
    .union([z.object({}).catchall(z.unknown()), z.string()])
    .optional()
    .describe("For 'set': the fields to set, as an object. Dotted keys ('customer.tier') set nested fields."),
  keys: z
    .union([z.array(z.string()), z.string()])
    .optional()
    .describe("For 'get' (optional, default all) and 'delete' (required): the keys."),
})

function parseMaybeJson(value: unknown, what: string): unknown {
  if (typeof value !== 'string') return value
  const text = value.trim()
  if (what === 'keys' && !text.startsWith('[')) return [text]
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new ValidationError(`${what} is a string but not valid JSON: ${JSON.stringify(text.slice(0, 100))}`, {
      field: what,
    })
  }
}

function covers(prefixes: readonly string[], key: string): boolean {
  return prefixes.some((p) => key === p || key.startsWith(`${p}.`))
}

/** A key touches a protected one when it is the key, a child of it, or a parent that would overwrite it. */
function touchesProtected(protectedKeys: readonly string[], key: string): boolean {
  return protectedKeys.some((p) => key === p || key.startsWith(`${p}.`) || p.startsWith(`${key}.`))
}

function filterAllowed(metadata: Metadata, allowed: readonly string[] | undefined): Metadata {
  if (!allowed) return metadata
  const out: Metadata = {}
  for (const key of allowed) {
    const segments = key.split('.')
    let value: unknown = metadata
    let found = true
    for (const segment of segments) {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, segment)) {
        found = false
        break
      }
      value = (value as Record<string, unknown>)[segment]
    }
    if (found) defineOwn(out, key, value)
  }
  return out
}

/** Builds the metadata tool for `target` (normally a `SessionData` or the manager). */
export function createMetadataTool(
  target: MetadataToolTarget,
  options: MetadataToolOptions = {},
): InvokableTool<z.infer<typeof inputSchema>, MetadataToolResult> {
  const name = options.name ?? 'manage_metadata'
  if (!TOOL_NAME.test(name)) {
    throw new ValidationError(`tool name ${JSON.stringify(name)} must match ^[a-zA-Z0-9_-]{1,64}$`, { field: 'name' })
  }
  const allowed = options.allowedKeys?.map((k) => validateMetadataKey(k).key)
  const protectedKeys = (options.protectedKeys ?? []).map((k) => validateMetadataKey(k).key)
  const description =
    options.description ??
    'Read and change the metadata of the current conversation session (status, customer details, flags). ' +
      "action 'get' returns all fields or the given keys; 'set' merges the given fields; 'delete' removes keys. " +
      'Results are JSON objects with ok=true, or ok=false and an error.' +
      (allowed ? ` Only these keys are accessible: ${allowed.join(', ')}.` : '') +
      (protectedKeys.length > 0 ? ` These keys are read-only: ${protectedKeys.join(', ')}.` : '')

  const checkWritable = (key: string) => {
    if (allowed && !covers(allowed, key)) {
      throw new ValidationError(`metadata key ${JSON.stringify(key)} is not accessible to this tool`, { field: key })
    }
    if (touchesProtected(protectedKeys, key)) {
      throw new ValidationError(`metadata key ${JSON.stringify(key)} is protected and cannot be changed by this tool`, {
        field: key,
      })
    }
  }

  return tool({
    name,
    description,
    inputSchema,
    callback: async (input): Promise<MetadataToolResult> => {
      const action = String(input.action ?? '')
        .trim()
        .toLowerCase()
      try {
        switch (action) {
          case 'get': {
            if (input.keys === undefined) {
              return { ok: true, action: 'get', metadata: filterAllowed(await target.getMetadata(), allowed) }
            }
            const keys = parseMaybeJson(input.keys, 'keys')
            if (!Array.isArray(keys)) throw new ValidationError('keys must be a list of strings', { field: 'keys' })
            for (const key of keys) {
              if (typeof key === 'string' && allowed && !covers(allowed, key)) {
                throw new ValidationError(`metadata key ${JSON.stringify(key)} is not accessible to this tool`, {
                  field: key,
                })
              }
            }
            const metadata = await target.getMetadata(keys as string[])
            const missing = (keys as string[]).filter((k) => !Object.hasOwn(metadata, k))
            return { ok: true, action: 'get', metadata, ...(missing.length > 0 && { missingKeys: missing }) }
          }
          case 'set':
          case 'update': {
            const metadata = parseMaybeJson(input.metadata, 'metadata')
            if (
              metadata === null ||
              typeof metadata !== 'object' ||
              Array.isArray(metadata) ||
              Object.keys(metadata).length === 0
            ) {
              throw new ValidationError("action 'set' needs a non-empty metadata object", { field: 'metadata' })
            }
            for (const key of Object.keys(metadata)) checkWritable(key)
            await target.updateMetadata(metadata as Metadata)
            return { ok: true, action: 'set', updatedKeys: Object.keys(metadata) }
          }
          case 'delete': {
            const keys = parseMaybeJson(input.keys, 'keys')
            if (!Array.isArray(keys) || keys.length === 0) {
              throw new ValidationError("action 'delete' needs a non-empty list of keys", { field: 'keys' })
            }
            for (const key of keys) if (typeof key === 'string') checkWritable(key)
            await target.deleteMetadata(keys as string[])
            return { ok: true, action: 'delete', deletedKeys: keys as string[] }
          }
          default:
            return {
              ok: false,
              action,
              error: `unknown action ${JSON.stringify(action)}; use 'get', 'set' or 'delete'`,
            }
        }
      } catch (error) {
        // Only our typed errors are shown to the model; anything else (a hook's veto included)
        // is reported by its message so the model can tell the user, without a stack trace.
        if (error instanceof ValidationError) {
          return { ok: false, action, error: error.message, ...(error.field !== undefined && { field: error.field }) }
        }
        if (error instanceof MongoSessionError) return { ok: false, action, error: error.message }
        return { ok: false, action, error: error instanceof Error ? error.message : String(error) }
      }
    },
  })
}
