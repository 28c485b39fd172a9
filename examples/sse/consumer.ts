/**
 * The SSE consumer of the AWS integration guide: long-polls the SQS metadata queue, hands each event to the SSE hub, and
 * deletes it. A message that cannot be parsed is left alone (it becomes visible again and, with a
 * redrive policy, ends in the dead-letter queue) and does not stop the loop.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { MetadataUpdateFrame } from './hub.js'

export interface MetadataConsumerOptions {
  sqs: SQSClient
  queueUrl: string
  /** Called for each event; the message is deleted once it returns. */
  onEvent: (frame: MetadataUpdateFrame) => void | Promise<void>
  /** Long-poll wait per receive (SQS maximum 20). Default 5. */
  waitTimeSeconds?: number
  onError?: (error: unknown) => void
}

export interface MetadataConsumer {
  /** Stops polling and waits for the receive in progress. */
  stop(): Promise<void>
}

/** Parses an SQS body written by the metadata SQS hook; `undefined` when it is not one. */
export function parseMetadataEvent(body: string | undefined): MetadataUpdateFrame | undefined {
  try {
    const data = JSON.parse(body ?? '') as Record<string, unknown>
    if (data.event !== 'metadata_update' || typeof data.session_id !== 'string') return undefined
    if (data.operation !== 'update' && data.operation !== 'delete') return undefined
    return {
      type: 'metadata_update',
      session_id: data.session_id,
      operation: data.operation,
      data: (data.metadata ?? {}) as Record<string, unknown>,
      timestamp: String(data.timestamp ?? ''),
    }
  } catch {
    return undefined
  }
}

export function startMetadataConsumer(options: MetadataConsumerOptions): MetadataConsumer {
  const controller = new AbortController()
  const loop = (async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.waitTimeSeconds ?? 5,
          }),
          { abortSignal: controller.signal },
        )
        for (const message of response.Messages ?? []) {
          const frame = parseMetadataEvent(message.Body)
          if (!frame) {
            options.onError?.(new Error(`ignoring a message that is not a metadata event: ${message.MessageId}`))
            continue
          }
          await options.onEvent(frame)
          await options.sqs.send(
            new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
          )
        }
      } catch (error) {
        if (controller.signal.aborted) break
        options.onError?.(error)
        await new Promise((resolve) => setTimeout(resolve, 1_000))
      }
    }
  })()
  return {
    async stop() {
      controller.abort()
      await loop
    },
  }
}
