/**
 * Text the catalogue stores about a session: the title (the first user message, shortened) and
 * the preview (the last message, shortened). Shortening works on code points, so a surrogate pair
 * is never split and the result is always well-formed text.
 */
import type { Message } from '@strands-agents/sdk'

/** Characters (UTF-16 code units) of an automatic title, at most. */
export const TITLE_LIMIT = 80
/** Characters (UTF-16 code units) of a preview, at most. */
export const PREVIEW_LIMIT = 120

const ELLIPSIS = '…'

/**
 * `text` with its whitespace collapsed, cut to at most `limit` UTF-16 code units (an ellipsis
 * included) without splitting a surrogate pair. Lone surrogates are dropped: stored text must be
 * valid UTF-8.
 */
export function shortenText(text: string, limit: number): string {
  let clean = ''
  for (const ch of text) {
    const code = ch.codePointAt(0)!
    if (code >= 0xd800 && code <= 0xdfff) continue
    clean += ch
  }
  clean = clean.replace(/\s+/gu, ' ').trim()
  if (clean.length <= limit) return clean
  let out = ''
  for (const ch of clean) {
    if (out.length + ch.length + ELLIPSIS.length > limit) break
    out += ch
  }
  return out.trimEnd() + ELLIPSIS
}

/** The text blocks of a message, joined by spaces (tool calls, images and reasoning are left out). */
export function messageText(message: Message): string {
  const parts: string[] = []
  for (const block of message.content) {
    if (block.type === 'textBlock') parts.push(block.text)
  }
  return parts.join(' ')
}

/** The automatic title of a conversation: its first user message with text, shortened; `null` if none. */
export function autoTitle(messages: readonly Message[]): string | null {
  for (const message of messages) {
    if (message.role !== 'user') continue
    const title = shortenText(messageText(message), TITLE_LIMIT)
    if (title.length > 0) return title
  }
  return null
}

/** The preview of a conversation: its last message with text, shortened; `null` if none. */
export function conversationPreview(messages: readonly Message[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const preview = shortenText(messageText(messages[i]!), PREVIEW_LIMIT)
    if (preview.length > 0) return preview
  }
  return null
}
