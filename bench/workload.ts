/**
 * What the benchmarked agents say: deterministic ~2 KB messages and a scripted model that answers
 * with one, so that every run sends the same bytes.
 */
import type { MessageData } from '@strands-agents/sdk'
import { ScriptedModel } from '../src/testing/index.js'

export const MESSAGE_CHARS = 2000

/** Deterministic ~2 KB of word-like text (no repetition that a compressor would love). */
export function text(seed: number): string {
  let x = seed * 2654435761 + 1
  const words: string[] = []
  let length = 0
  while (length < MESSAGE_CHARS) {
    x = (x * 1103515245 + 12345) % 2147483648
    const word = (x % 1_000_003).toString(36)
    words.push(word)
    length += word.length + 1
  }
  return words.join(' ').slice(0, MESSAGE_CHARS)
}

/** `n` alternating user / assistant messages of ~2 KB. */
export function history(n: number, seed = 0): MessageData[] {
  return Array.from({ length: n }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: [{ text: text(seed + i) }],
  }))
}

/** A model answering every call with ~2 KB of text, streamed in chunks as a provider would. */
export function replyingModel(seed: number): ScriptedModel {
  return new ScriptedModel((_messages, turn) => ({ text: text(seed + turn) }), { chunkSize: 64 })
}
