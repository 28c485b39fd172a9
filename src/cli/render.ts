/**
 * Human-readable rendering of stored messages (the SDK's JSON form of content blocks). Shared by
 * `sessions show` and the demo.
 */
import type { Style } from './style.js'
import { truncate } from './output.js'
import { displayJson, ENCRYPTED_TEXT, isEncryptedValue } from './sealed.js'

type Block = Record<string, unknown>

function isRecord(value: unknown): value is Block {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function mediaLabel(kind: string, media: unknown): string {
  const m = isRecord(media) ? media : {}
  const source = isRecord(m.source) ? m.source : {}
  const bytes = typeof source.bytes === 'string' ? Math.floor((source.bytes.length * 3) / 4) : undefined
  const format = typeof m.format === 'string' ? ` ${m.format}` : ''
  return `[${kind}${format}${bytes !== undefined ? `, ${Math.max(1, Math.round(bytes / 1024))} KB` : ''}]`
}

/** One line (or a few) per content block. */
export function renderBlock(block: unknown, style: Style, width = 100): string[] {
  if (isEncryptedValue(block)) return [style.dim(ENCRYPTED_TEXT)]
  if (!isRecord(block)) return [style.dim('[unknown block]')]
  if (typeof block.text === 'string') return block.text.split('\n')
  if (isRecord(block.toolUse)) {
    const use = block.toolUse
    return [style.cyan(`→ tool ${String(use.name)}(${truncate(displayJson(use.input), width)})`)]
  }
  if (isRecord(block.toolResult)) {
    const result = block.toolResult
    const parts = Array.isArray(result.content)
      ? result.content.map((c) =>
          isRecord(c) && typeof c.text === 'string' ? c.text : isRecord(c) && 'json' in c ? displayJson(c.json) : '[…]',
        )
      : []
    const status = result.status === 'error' ? style.red('error') : style.green(String(result.status ?? 'success'))
    return [style.cyan(`← result ${status} ${truncate(parts.join(' '), width)}`)]
  }
  if (isRecord(block.reasoning)) {
    const text = typeof block.reasoning.text === 'string' ? truncate(block.reasoning.text, width) : 'redacted'
    return [style.dim(`[reasoning] ${text}`)]
  }
  for (const kind of ['image', 'document', 'video', 'audio']) {
    if (kind in block) return [style.magenta(mediaLabel(kind, block[kind]))]
  }
  if ('cachePoint' in block) return [style.dim('[cache point]')]
  if ('guardContent' in block) return [style.dim('[guard content]')]
  if ('citationsContent' in block) return [style.dim('[citations]')]
  return [style.dim(`[${Object.keys(block)[0] ?? 'block'}]`)]
}

/**
 * A message as labelled, indented lines: `user  Hello` / `assistant  → tool …`; content encrypted at
 * rest as `[encrypted]`.
 */
export function renderMessage(
  message: { role: string; content: unknown },
  style: Style,
  options: { indent?: string; width?: number; note?: string } = {},
): string[] {
  const indent = options.indent ?? '  '
  const label = message.role === 'user' ? style.green('user     ') : style.blue('assistant')
  const blocks = Array.isArray(message.content) ? (message.content as unknown[]) : [message.content]
  const lines = blocks.flatMap((block) => renderBlock(block, style, options.width))
  const note = options.note ? ` ${style.dim(options.note)}` : ''
  if (lines.length === 0) return [`${indent}${label}${note}`]
  return lines.map((line, i) => `${indent}${i === 0 ? label : ' '.repeat(9)}  ${line}${i === 0 ? note : ''}`)
}
