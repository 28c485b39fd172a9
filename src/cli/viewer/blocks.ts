/**
 * Content blocks as the viewer shows them: the SDK's JSON form reduced to what a page needs. Media
 * bytes never leave the server (a placeholder with the type and size is sent instead), nor do
 * ciphertexts: content encrypted at rest is one `encrypted` block.
 */
import { displayJson, isEncryptedValue } from '../sealed.js'

/** One displayable block. Every string is user content: the page renders it as text only. */
export type ViewBlock =
  | { kind: 'text'; text: string }
  | { kind: 'toolUse'; name: string; toolUseId: string; input: string }
  | { kind: 'toolResult'; toolUseId: string; status: string; content: string }
  | { kind: 'reasoning'; text: string | null; redacted: boolean }
  | { kind: 'media'; media: string; format: string | null; bytes: number | null }
  | { kind: 'encrypted' }
  | { kind: 'other'; name: string }

type Block = Record<string, unknown>

function isRecord(value: unknown): value is Block {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback
}

function json(value: unknown): string {
  return displayJson(value, 2)
}

/** Size in bytes of base64 (the codec's form of media bytes) or of a byte array. */
function byteSize(bytes: unknown): number | null {
  if (typeof bytes === 'string') {
    const padding = bytes.endsWith('==') ? 2 : bytes.endsWith('=') ? 1 : 0
    return Math.max(0, Math.floor((bytes.length * 3) / 4) - padding)
  }
  if (bytes instanceof Uint8Array) return bytes.byteLength
  if (Array.isArray(bytes)) return bytes.length
  return null
}

function resultContent(content: unknown): string {
  if (!Array.isArray(content)) return ''
  return content
    .map((c) => {
      if (!isRecord(c)) return '[…]'
      if (typeof c.text === 'string') return c.text
      if ('json' in c) return json(c.json)
      const media = ['image', 'document', 'video'].find((k) => k in c)
      return media ? `[${media}]` : `[${Object.keys(c)[0] ?? 'block'}]`
    })
    .join('\n')
}

/** The blocks of a message's content (an array of blocks, or `{ $encrypted: true }`). */
export function viewBlocks(content: unknown): ViewBlock[] {
  return Array.isArray(content) ? content.map(viewBlock) : [viewBlock(content)]
}

/** Converts one stored content block. */
export function viewBlock(block: unknown): ViewBlock {
  if (isEncryptedValue(block)) return { kind: 'encrypted' }
  if (!isRecord(block)) return { kind: 'other', name: 'unknown' }
  if (typeof block.text === 'string') return { kind: 'text', text: block.text }
  if (isRecord(block.toolUse)) {
    const use = block.toolUse
    return { kind: 'toolUse', name: str(use.name), toolUseId: str(use.toolUseId), input: json(use.input) }
  }
  if (isRecord(block.toolResult)) {
    const result = block.toolResult
    return {
      kind: 'toolResult',
      toolUseId: str(result.toolUseId),
      status: str(result.status, 'success'),
      content: resultContent(result.content),
    }
  }
  if (isRecord(block.reasoning)) {
    const text = typeof block.reasoning.text === 'string' ? block.reasoning.text : null
    return { kind: 'reasoning', text, redacted: text === null || 'redactedContent' in block.reasoning }
  }
  for (const media of ['image', 'document', 'video', 'audio']) {
    if (media in block) {
      const m = isRecord(block[media]) ? (block[media] as Block) : {}
      const source = isRecord(m.source) ? m.source : {}
      return {
        kind: 'media',
        media,
        format: typeof m.format === 'string' ? m.format : null,
        bytes: byteSize(source.bytes),
      }
    }
  }
  return { kind: 'other', name: Object.keys(block)[0] ?? 'block' }
}
