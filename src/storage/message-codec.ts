/**
 * Message ⇄ document conversion.
 *
 * The document keeps the SDK's own JSON form of the message (`Message.toJSON()`), with two
 * changes that make it a good MongoDB citizen: media bytes (base64 in the SDK's JSON) are stored
 * as BSON Binary — a third smaller and directly usable — and user JSON is escaped by
 * `encodeValue`. Decoding gives back exactly `toJSON()`'s output, base64 included.
 */
import type { Message, MessageData } from '@strands-agents/sdk'
import { Binary, type Document } from 'mongodb'
import { decodeValue, encodeValue } from './encoding.js'
import type { MessageDocument } from './schema.js'

const MEDIA_KINDS = ['image', 'document', 'video', 'audio'] as const

type Json = Record<string, unknown>

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function base64ToBinary(value: unknown): unknown {
  return typeof value === 'string' ? new Binary(Buffer.from(value, 'base64')) : value
}

/** Replaces base64 media strings of one content block by BSON Binary (shallow copies only). */
function binaryMedia(block: unknown): unknown {
  if (!isRecord(block)) return block
  for (const kind of MEDIA_KINDS) {
    const media = block[kind]
    if (isRecord(media) && isRecord(media.source) && typeof media.source.bytes === 'string') {
      return { ...block, [kind]: { ...media, source: { ...media.source, bytes: base64ToBinary(media.source.bytes) } } }
    }
  }
  if (isRecord(block.reasoning) && typeof block.reasoning.redactedContent === 'string') {
    return {
      ...block,
      reasoning: { ...block.reasoning, redactedContent: base64ToBinary(block.reasoning.redactedContent) },
    }
  }
  if (isRecord(block.guardContent) && isRecord(block.guardContent.image)) {
    const image = block.guardContent.image
    if (isRecord(image.source) && typeof image.source.bytes === 'string') {
      return {
        ...block,
        guardContent: {
          ...block.guardContent,
          image: { ...image, source: { ...image.source, bytes: base64ToBinary(image.source.bytes) } },
        },
      }
    }
  }
  if (isRecord(block.toolResult) && Array.isArray(block.toolResult.content)) {
    return { ...block, toolResult: { ...block.toolResult, content: block.toolResult.content.map(binaryMedia) } }
  }
  return block
}

export interface MessageLocation {
  sessionId: string
  agentId: string
  seq: number
}

export function messageDocumentId(location: MessageLocation): string {
  return `${location.sessionId}:${location.agentId}:${location.seq}`
}

/** Builds the stored document for `message` at `location`. */
export function encodeMessage(message: Message, location: MessageLocation, opId: string, now: Date): MessageDocument {
  const data = message.toJSON()
  const doc: MessageDocument = {
    _id: messageDocumentId(location),
    session_id: location.sessionId,
    agent_id: location.agentId,
    seq: location.seq,
    role: data.role,
    content: encodeValue(data.content.map(binaryMedia)) as Document[],
    tracking_id: data.trackingId ?? null,
    op_id: opId,
    created_at: now,
  }
  if (data.metadata !== undefined) doc.metadata = encodeValue(data.metadata) as Document
  return doc
}

/** Gives back the `MessageData` that `Message.toJSON()` produced when the document was written. */
export function decodeMessage(
  doc: Pick<MessageDocument, 'role' | 'content' | 'tracking_id' | 'metadata'>,
): MessageData {
  const data: Record<string, unknown> = {
    role: doc.role,
    content: decodeValue(doc.content, { binary: 'base64' }),
  }
  if (doc.tracking_id !== null && doc.tracking_id !== undefined) data.trackingId = doc.tracking_id
  if (doc.metadata !== undefined) data.metadata = decodeValue(doc.metadata, { binary: 'base64' })
  return data as unknown as MessageData
}
